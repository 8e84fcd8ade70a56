// `operatorctl auth import SOURCE [--from PATH] [--keep-in-sync]` and `operatorctl auth unlink
// SOURCE`: the daemon takes over the logins an agent CLI (Claude Code, Codex, Gemini CLI, pi)
// keeps in its own file. The default file is found in this shell's environment
// (common/vendor_source.h) and handed to the daemon as an absolute path; the daemon reads it
// (daemon/vendor). Nothing here prints a token. Thread-compatible.
#pragma once

#include <string>

#include "cli/auth_commands.h"

namespace operator_auth::cli {

struct ImportArguments {
  std::string source;  // claude-code, codex, gemini-cli, pi
  std::string from;    // the vendor's file; empty: its default
  bool keep_in_sync = false;
};

// Exit 0 when imported, 1 when the file holds no login or does not exist, 4 for a file the
// daemon refuses (untrusted, malformed).
int ImportLogins(const GlobalOptions& options, const ImportArguments& arguments);

// Exit 0 whether or not the source was linked.
int UnlinkVendor(const GlobalOptions& options, const std::string& source);

}  // namespace operator_auth::cli
