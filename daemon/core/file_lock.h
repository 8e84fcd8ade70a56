// An exclusive flock(2) on a stable lock file (e.g. providers.lock), the protocol py-filelock's
// UnixFileLock speaks, so the daemon and Python tools exclude each other. Never lockf/fcntl: those
// locks do not interact with flock. After locking, the fd and the path must name the same inode
// (some py-filelock versions unlink the lock file on release); otherwise it locks again.
// A FileLock is movable, not copyable; the lock is released when it is destroyed.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace operator_auth {

class FileLock {
 public:
  // Takes the lock, waiting up to `timeout` while another process holds it. UNAVAILABLE when the
  // wait runs out. The lock file is created 0600 when missing.
  static absl::StatusOr<FileLock> Acquire(const std::string& path, absl::Duration timeout);

  // Takes the lock only if it is free right now; UNAVAILABLE when someone else holds it.
  static absl::StatusOr<FileLock> TryAcquire(const std::string& path);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  const std::string& path() const { return path_; }

 private:
  FileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  void Release();

  std::string path_;
  int fd_ = -1;
};

}  // namespace operator_auth
