#include "cli/tool_config_file.h"

#include <sys/stat.h>

#include <cerrno>

#include "daemon/core/atomic_file.h"
#include "daemon/core/posix_error.h"
#include "daemon/core/trusted_path.h"

namespace operator_auth::cli {
namespace {

// Creates `directory` and any missing parent, each 0700 whatever the umask; existing ones are
// left as they are (they are the user's).
absl::Status CreateMissingDirectories(const std::string& directory) {
  struct stat st {};
  if (directory.empty() || stat(directory.c_str(), &st) == 0) return absl::OkStatus();
  const size_t slash = directory.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (absl::Status parent = CreateMissingDirectories(directory.substr(0, slash)); !parent.ok()) {
      return parent;
    }
  }
  if (mkdir(directory.c_str(), 0700) != 0) {
    return errno == EEXIST ? absl::OkStatus() : PosixError(errno, "create directory", directory);
  }
  return chmod(directory.c_str(), 0700) == 0 ? absl::OkStatus()
                                             : PosixError(errno, "chmod 0700", directory);
}

}  // namespace

absl::StatusOr<std::optional<std::string>> ReadToolConfig(const std::string& path) {
  absl::StatusOr<std::string> text =
      ReadTrustedFile(path, kMaxToolConfigBytes, TrustBoundary::ForThisProcess());
  if (absl::IsNotFound(text.status())) return std::nullopt;
  if (!text.ok()) return text.status();
  return *std::move(text);
}

absl::Status ReplaceToolConfig(const std::string& path, absl::string_view contents) {
  struct stat st {};
  const bool existed = stat(path.c_str(), &st) == 0;
  const size_t slash = path.rfind('/');
  if (!existed && slash != std::string::npos && slash > 0) {
    const std::string directory = path.substr(0, slash);
    if (absl::Status made = CreateMissingDirectories(directory); !made.ok()) return made;
    // ReadToolConfig checked the directories of an existing file; a new one gets the same check.
    if (absl::Status trusted = CheckTrustedDirectory(directory, TrustedRole::kAncestor,
                                                     TrustBoundary::ForThisProcess());
        !trusted.ok()) {
      return trusted;
    }
  }
  // AtomicFile writes 0600; a file the user had opened up to others gets its mode back after the
  // rename (the file is briefly stricter than before, never looser).
  if (absl::Status written = WriteFileAtomically(path, contents); !written.ok()) return written;
  const mode_t mode = st.st_mode & 07777;
  if (existed && mode != 0600 && chmod(path.c_str(), mode) != 0) {
    return PosixError(errno, "restore the mode of", path);
  }
  return absl::OkStatus();
}

}  // namespace operator_auth::cli
