// Directories that hold secrets: created 0700 whatever the umask, never followed through a
// symlink. Thread-safe (no shared state).
#pragma once

#include <string>

#include "absl/status/status.h"

namespace operator_auth {

// Creates `path` and any missing parents (parents we create get 0700 too), then makes sure `path`
// itself is a real directory (not a symlink) owned by us with mode 0700.
absl::Status EnsurePrivateDirectory(const std::string& path);

}  // namespace operator_auth
