// A configuration file of another tool that `operatorctl setup` edits (Claude Code's
// settings.json, Codex's config.toml). It is read under the rules the daemon applies to its own
// configuration (daemon/core/trusted_path.h: no symlink, a regular file owned by us or root and
// writable by nobody else, in a directory chain likewise), since what we write there is a command
// the tool runs. It is replaced atomically (daemon/core/atomic_file.h) with its mode kept; a
// missing file is created 0600, and missing directories 0700. Thread-compatible.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace operator_auth::cli {

// No settings file of a coding tool comes near this.
inline constexpr size_t kMaxToolConfigBytes = 1024 * 1024;

// What an edit of a tool's configuration text decided.
struct ConfigEdit {
  enum class Outcome {
    kWritten,    // `text` is the new content
    kUnchanged,  // already as asked: nothing to write
    kNotOurs,    // the setting exists and operatorctl did not write it: `existing` names it
  };
  Outcome outcome = Outcome::kUnchanged;
  std::string text;
  std::string existing;
};

// The file's content; nullopt when it does not exist.
absl::StatusOr<std::optional<std::string>> ReadToolConfig(const std::string& path);

// Replaces (or creates) the file with `contents`.
absl::Status ReplaceToolConfig(const std::string& path, absl::string_view contents);

}  // namespace operator_auth::cli
