#include "daemon/core/private_directory.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "daemon/core/posix_error.h"
#include "daemon/core/trusted_path.h"

namespace operator_auth {

absl::Status EnsurePrivateDirectory(const std::string& path, ExistingDirectory existing) {
  if (path.empty()) return absl::InvalidArgumentError("directory path is empty");
  // Create missing components from the top down.
  for (size_t pos = path.find('/', 1);; pos = path.find('/', pos + 1)) {
    std::string prefix = pos == std::string::npos ? path : path.substr(0, pos);
    if (!prefix.empty() && mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return PosixError(errno, "create directory", prefix);
    }
    if (pos == std::string::npos) break;
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return PosixError(errno, "stat", path);
  if (S_ISLNK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is a symlink; refusing to keep credentials behind it"));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a directory"));
  }
  if (existing == ExistingDirectory::kVerify) {
    return CheckTrustedDirectory(path, TrustedRole::kOwnDirectory,
                                 TrustBoundary::ForThisProcess());
  }
  if (st.st_uid != geteuid()) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, " is owned by uid ", st.st_uid, ", not by us (uid ", geteuid(), ")"));
  }
  if ((st.st_mode & 07777) != 0700 && chmod(path.c_str(), 0700) != 0) {
    return PosixError(errno, "chmod 0700", path);
  }
  return absl::OkStatus();
}

}  // namespace operator_auth
