// Directories that hold secrets: created 0700 whatever the umask, never followed through a
// symlink. Thread-safe (no shared state).
#pragma once

#include <string>

#include "absl/status/status.h"

namespace operator_auth {

enum class ExistingDirectory {
  kTighten,  // a directory that is ours alone (auth/): force 0700 even if it exists
  kVerify,   // a directory the user named (the home, a --socket path's parent): never
             // chmodded, but it must be trusted (trusted_path.h, TrustedRole::kOwnDirectory:
             // ours alone, writable by no one else) and so must every directory above it
};

// Creates `path` and any missing parents (every directory we create gets 0700), then makes sure
// `path` is a real directory (not a symlink). With kTighten it must be owned by us and is made
// 0700; with kVerify it and its ancestors must pass CheckTrustedDirectory.
absl::Status EnsurePrivateDirectory(const std::string& path,
                                    ExistingDirectory existing = ExistingDirectory::kTighten);

}  // namespace operator_auth
