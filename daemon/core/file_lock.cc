#include "daemon/core/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "daemon/core/posix_error.h"

namespace operator_auth {
namespace {

enum class LockAttempt { kLocked, kBusy, kStale };

absl::StatusOr<int> OpenLockFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return PosixError(errno, "open lock file", path);
  return fd;
}

// One non-blocking attempt on an open fd. kStale: locked, but the path now names another inode.
absl::StatusOr<LockAttempt> TryLockFd(int fd, const std::string& path) {
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK || errno == EINTR) return LockAttempt::kBusy;
    return PosixError(errno, "flock", path);
  }
  struct stat by_fd {};
  struct stat by_path {};
  if (fstat(fd, &by_fd) != 0) return PosixError(errno, "fstat lock file", path);
  if (stat(path.c_str(), &by_path) != 0 || by_fd.st_ino != by_path.st_ino ||
      by_fd.st_dev != by_path.st_dev) {
    return LockAttempt::kStale;
  }
  return LockAttempt::kLocked;
}

absl::StatusOr<int> LockWithDeadline(const std::string& path, absl::Time deadline) {
  absl::Duration backoff = absl::Microseconds(200);
  while (true) {
    absl::StatusOr<int> fd = OpenLockFile(path);
    if (!fd.ok()) return fd.status();
    while (true) {
      absl::StatusOr<LockAttempt> attempt = TryLockFd(*fd, path);
      if (!attempt.ok()) {
        close(*fd);
        return attempt.status();
      }
      if (*attempt == LockAttempt::kLocked) return *fd;
      if (*attempt == LockAttempt::kStale) break;  // reopen the path's current inode
      if (absl::Now() >= deadline) {
        close(*fd);
        return absl::UnavailableError(
            absl::StrCat("timed out waiting for ", path, ": another process holds the lock"));
      }
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Milliseconds(10));
    }
    close(*fd);
  }
}

}  // namespace

absl::StatusOr<FileLock> FileLock::Acquire(const std::string& path, absl::Duration timeout) {
  absl::StatusOr<int> fd = LockWithDeadline(path, absl::Now() + timeout);
  if (!fd.ok()) return fd.status();
  return FileLock(path, *fd);
}

absl::StatusOr<FileLock> FileLock::TryAcquire(const std::string& path) {
  return Acquire(path, absl::ZeroDuration());
}

FileLock::FileLock(FileLock&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    Release();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FileLock::~FileLock() { Release(); }

void FileLock::Release() {
  if (fd_ >= 0) {
    flock(fd_, LOCK_UN);
    close(fd_);
    fd_ = -1;
  }
}

}  // namespace operator_auth
