// Whether a file or directory the daemon reads its configuration from, keeps its home in or
// serves its socket from can be trusted: nobody but this uid (or root) can have put it there or
// change it. The rule copies OpenSSH's StrictModes (auth.c, auth_secure_path / safe_path): the
// file and each directory above it, up to the user's home directory, must be owned by the user
// or root and writable by neither group nor others. Two additions:
//   - the walk runs on the directory's real path (symlinked directories are judged by what they
//     point to) up to and including the user's home, or up to "/" when the path is not below it;
//   - an ancestor that is root's and sticky (/tmp, /var/tmp, /dev/shm) passes although others may
//     write it: the sticky bit stops them from renaming or removing an entry they do not own, and
//     the entry below it is checked as usual.
// Thread-safe (no shared state). Errors name the path and the rule that failed.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace operator_auth {

// Who may own what, and where the upward walk ends.
struct TrustBoundary {
  uid_t uid = 0;     // the daemon's effective uid
  std::string home;  // the user's home directory (real path); the walk stops after it
  // geteuid() and its passwd home directory ($HOME when the passwd entry has none).
  static TrustBoundary ForThisProcess();
};

enum class TrustedRole {
  kFile,          // the file itself: owned by `uid` or root, not group/other-writable
  kOwnDirectory,  // a directory the daemon writes in (its home, the socket's directory): owned
                  // by `uid` alone, not group/other-writable, sticky or not
  kAncestor,      // a directory above: owned by `uid` or root, not group/other-writable unless
                  // it is root's and sticky
};

// The verdict on one path component from its lstat(). Pure: no file system access.
absl::Status CheckOwnerAndMode(const std::string& path, const struct stat& st, TrustedRole role,
                               uid_t uid);

// Checks `directory` (as `role`) and then each ancestor of its real path as kAncestor, up to and
// including `boundary.home`, or "/".
absl::Status CheckTrustedDirectory(const std::string& directory, TrustedRole role,
                                   const TrustBoundary& boundary);

// Reads a trusted file: opened with O_NOFOLLOW (a symlink is refused), a regular file, checked as
// kFile on the open descriptor, its size from fstat at most `max_bytes`, and its directory chain
// checked with CheckTrustedDirectory(kAncestor). NOT_FOUND when the file does not exist.
absl::StatusOr<std::string> ReadTrustedFile(const std::string& path, size_t max_bytes,
                                            const TrustBoundary& boundary);

}  // namespace operator_auth
