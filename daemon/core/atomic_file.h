// Replaces a file atomically: the new contents go to a 0600 temp file in the same directory
// (".<name>.tmp-XXXXXX"), are fsynced, renamed over the target, and the directory is fsynced. A
// crash leaves the old file or the new one, never a torn one. Commit() is explicit; destroying an
// uncommitted AtomicFile removes the temp file, so a half-written file never lands.
// Not thread-safe; callers serialize writers with a FileLock.
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace operator_auth {

class AtomicFile {
 public:
  static absl::StatusOr<AtomicFile> Create(const std::string& target_path);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  absl::Status Write(absl::string_view data);
  absl::Status Commit();

 private:
  AtomicFile(std::string target, std::string temp, int fd)
      : target_path_(std::move(target)), temp_path_(std::move(temp)), fd_(fd) {}

  std::string target_path_;
  std::string temp_path_;
  int fd_ = -1;
};

// Writes `contents` to `path` through an AtomicFile.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);

// Removes temp files a crashed writer of `target_path` left behind. Call with the target's
// FileLock held, so no live writer's temp file is taken. Returns how many were removed.
absl::StatusOr<int> SweepStaleTempFiles(const std::string& target_path);

}  // namespace operator_auth
