// Reads the API key for `auth set ID --api-key -` from stdin, so that it never sits on a command
// line. On a terminal: a prompt on stderr with echo off, the terminal restored on every path
// (including a terminating signal while the prompt is up). Otherwise: all of stdin, minus one
// trailing "\n" or "\r\n". Not thread-safe: while it reads it owns the terminal and the handlers
// of SIGINT, SIGTERM, SIGHUP and SIGQUIT.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace operator_auth::cli {

// Twice the daemon's own limit (8 KiB), so that the daemon's message explains a long key, yet
// well under its 64 KiB request limit; mostly it keeps a runaway pipe from filling memory.
inline constexpr size_t kMaxSecretBytes = 16 * 1024;

// INVALID_ARGUMENT when nothing was read or more than kMaxSecretBytes; another error when stdin
// cannot be read. No message ever contains what was read.
absl::StatusOr<std::string> ReadSecretFromStdin(absl::string_view prompt);

}  // namespace operator_auth::cli
