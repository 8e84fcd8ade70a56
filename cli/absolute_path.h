// A path from the command line made absolute against the current directory, for the daemon and
// for commands that other programs run from elsewhere. Unchanged when it cannot be (no cwd).
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

namespace operator_auth::cli {

inline std::string AbsolutePath(const std::string& path) {
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(path, error);
  return error ? path : absolute.string();
}

}  // namespace operator_auth::cli
