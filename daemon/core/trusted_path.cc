#include "daemon/core/trusted_path.h"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "daemon/core/posix_error.h"

namespace operator_auth {
namespace {

std::string ModeText(mode_t mode) { return absl::StrFormat("%04o", mode & 07777); }

absl::StatusOr<std::string> RealPath(const std::string& path) {
  std::unique_ptr<char, decltype(&free)> resolved(realpath(path.c_str(), nullptr), &free);
  if (resolved == nullptr) return PosixError(errno, "resolve", path);
  return std::string(resolved.get());
}

std::string ParentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

struct FdCloser {
  int fd;
  ~FdCloser() { close(fd); }
};

}  // namespace

TrustBoundary TrustBoundary::ForThisProcess() {
  TrustBoundary boundary;
  boundary.uid = geteuid();
  std::string home;
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(boundary.uid, &entry, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr && found->pw_dir != nullptr) {
    home = found->pw_dir;
  }
  if (home.empty()) {
    if (const char* env_home = std::getenv("HOME")) home = env_home;
  }
  // Like ssh, a home that does not resolve simply does not stop the walk: it goes on to "/".
  if (!home.empty()) {
    absl::StatusOr<std::string> real = RealPath(home);
    boundary.home = real.ok() ? *real : home;
  }
  return boundary;
}

absl::Status CheckOwnerAndMode(const std::string& path, const struct stat& st, TrustedRole role,
                               uid_t uid) {
  const bool owner_ok = st.st_uid == uid || (st.st_uid == 0 && role != TrustedRole::kOwnDirectory);
  if (!owner_ok) {
    return absl::PermissionDeniedError(absl::StrCat(
        "bad ownership for ", path, ": owned by uid ", st.st_uid, "; it must be owned by uid ", uid,
        role == TrustedRole::kOwnDirectory ? "" : " or root",
        ", since whoever owns it can change what the daemon trusts"));
  }
  const bool others_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  const bool root_sticky =
      role == TrustedRole::kAncestor && st.st_uid == 0 && (st.st_mode & S_ISVTX) != 0;
  if (others_write && (st.st_mode & S_ISVTX) != 0 && role == TrustedRole::kOwnDirectory) {
    return absl::PermissionDeniedError(
        absl::StrCat("bad permissions on ", path, ": mode ", ModeText(st.st_mode),
                     " is a shared directory others may write; use a directory of your own"));
  }
  if (others_write && !root_sticky) {
    return absl::PermissionDeniedError(
        absl::StrCat("bad permissions on ", path, ": mode ", ModeText(st.st_mode),
                     " lets group or others write it; run: chmod go-w ", path));
  }
  return absl::OkStatus();
}

absl::Status CheckTrustedDirectory(const std::string& directory, TrustedRole role,
                                   const TrustBoundary& boundary) {
  absl::StatusOr<std::string> real = RealPath(directory);
  if (!real.ok()) return real.status();
  std::string current = *real;
  // OpenSSH's safe_path() (misc.c; auth_secure_path() in auth.c before 8.x) walks the same way:
  // every component of the canonical path upwards, owned by the user or root and not group- or
  // world-writable, stopping after the user's home directory.
  for (TrustedRole current_role = role;; current_role = TrustedRole::kAncestor) {
    struct stat st {};
    if (lstat(current.c_str(), &st) != 0) return PosixError(errno, "stat", current);
    if (!S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(current, " is not a directory"));
    }
    if (absl::Status s = CheckOwnerAndMode(current, st, current_role, boundary.uid); !s.ok()) {
      if (current != *real) {
        return absl::Status(s.code(),
                            absl::StrCat(s.message(), " (an ancestor of ", directory, ")"));
      }
      return s;
    }
    if (current == "/" || current == boundary.home) return absl::OkStatus();
    current = ParentOf(current);
  }
}

absl::StatusOr<std::string> ReadTrustedFile(const std::string& path, size_t max_bytes,
                                            const TrustBoundary& boundary) {
  // O_NONBLOCK: a FIFO planted under the name must not hang the open.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ELOOP) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is a symlink; refusing to follow it (put the file itself there)"));
    }
    return PosixError(errno, "open", path);
  }
  FdCloser closer{fd};
  struct stat st {};
  if (fstat(fd, &st) != 0) return PosixError(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a regular file"));
  }
  if (absl::Status s = CheckOwnerAndMode(path, st, TrustedRole::kFile, boundary.uid); !s.ok()) {
    return s;
  }
  if (st.st_size < 0 || static_cast<size_t>(st.st_size) > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is larger than ", max_bytes, " bytes (", st.st_size, ")"));
  }
  if (absl::Status s = CheckTrustedDirectory(ParentOf(path), TrustedRole::kAncestor, boundary);
      !s.ok()) {
    return s;
  }
  // Read what fstat promised, and no more: a file growing under us is cut at the checked size.
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = read(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return PosixError(errno, "read", path);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  text.resize(done);
  return text;
}

}  // namespace operator_auth
