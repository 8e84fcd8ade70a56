#include "daemon/core/shared_document_file.h"

#include <spdlog/spdlog.h>

#include "daemon/core/private_directory.h"

namespace operator_auth::shared_document_file_internal {

absl::Status PrepareDirectory(const CredentialsFile& file, absl::Duration lock_timeout) {
  if (absl::Status s = EnsurePrivateDirectory(file.directory()); !s.ok()) return s;
  absl::StatusOr<FileLock> lock = file.Lock(lock_timeout);
  if (!lock.ok()) {
    spdlog::warn("not sweeping temp files beside {}: {}", file.path(),
                 std::string(lock.status().message()));
    return absl::OkStatus();
  }
  absl::StatusOr<int> swept = file.SweepStaleTempFiles();
  if (swept.ok() && *swept > 0) {
    spdlog::warn("removed {} temp file(s) a crashed writer left beside {}", *swept, file.path());
  }
  return absl::OkStatus();
}

void LogLoadError(const std::string& path, const std::string& message) {
  spdlog::error(
      "cannot load {}: {}; serving what does not need it, and not writing the file "
      "until it loads",
      path, message);
}

void LogLoadedAgain(const std::string& path) { spdlog::info("{} loads again", path); }

absl::Status RefusedWrite(const std::string& path, const absl::Status& load_status) {
  return absl::FailedPreconditionError(
      absl::StrCat("not writing ", path, " because it cannot be loaded (", load_status.message(),
                   "); fix or remove the file first"));
}

}  // namespace operator_auth::shared_document_file_internal
