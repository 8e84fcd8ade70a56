// One secret-bearing JSON file with its stable lock file beside it (providers.json +
// providers.lock, channels.json + channels.lock): reading it safely (no symlinks, size-limited,
// mode forced to 0600), locking it the way py-filelock does, and replacing it atomically.
// Holds no mutable state; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/core/file_lock.h"

namespace operator_auth {

class CredentialsFile {
 public:
  // `directory` must exist; `file_name` e.g. "providers.json", `lock_name` e.g. "providers.lock".
  CredentialsFile(std::string directory, std::string file_name, std::string lock_name);

  // The file's bytes, or nullopt when it does not exist. Refuses a symlink, a non-regular file
  // and a file larger than kMaxCredentialsFileBytes.
  absl::StatusOr<std::optional<std::string>> Read() const;

  absl::StatusOr<FileLock> Lock(absl::Duration timeout) const;

  // Atomic replace (temp file, fsync, rename, fsync dir). Call with the lock held.
  absl::Status Replace(const std::string& contents) const;

  // Removes temp files a crashed writer left behind. Call with the lock held.
  absl::StatusOr<int> SweepStaleTempFiles() const;

  const std::string& directory() const { return directory_; }
  const std::string& file_name() const { return file_name_; }
  const std::string& path() const { return path_; }

 private:
  std::string directory_;
  std::string file_name_;
  std::string path_;
  std::string lock_path_;
};

}  // namespace operator_auth
