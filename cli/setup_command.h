// `operatorctl setup TOOL [--settings PATH] [--remove] [--force]`: points a coding tool at
// operator-authd through the command-based key hook of its own settings, so the tool asks the
// daemon for the key each time it needs one. Only the setting operatorctl owns is written, and
// --remove takes exactly that away again (gh `auth setup-git` style):
//   claude-code: "apiKeyHelper" in $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json
//                (cli/claude_settings_file.h), running `operatorctl auth token anthropic`;
//   codex:       a model provider and a profile "operator-authd" in $CODEX_HOME/config.toml, else
//                ~/.codex/config.toml (cli/codex_config_file.h), running `operatorctl auth token
//                openai`.
// Gemini CLI has no such hook and pi's (a "!command" key in its auth.json) lives in a file pi
// locks and rewrites itself; `operatorctl exec` serves both. Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cli/auth_commands.h"

namespace operator_auth::cli {

struct SetupArguments {
  std::string tool;           // one of SetupTools()
  std::string settings_path;  // empty: the tool's own default
  bool remove = false;
  bool force = false;  // replace a helper operatorctl did not write (claude-code)
};

const std::vector<std::string>& SetupTools();

// The command that prints `provider`'s key from the daemon this operatorctl talks to: this
// program's absolute path, `--socket PATH` (absolute) unless the socket is the default one a
// shell without OPERATOR_AUTHD_SOCKET finds, then `auth token PROVIDER`.
absl::StatusOr<std::vector<std::string>> KeyCommand(const GlobalOptions& options,
                                                    absl::string_view provider);

// Exit 0 when set up, already set up, removed or nothing to remove; 1 when a setting operatorctl
// did not write is in the way; 4 when the file cannot be read, parsed or written (it is then left
// as it was).
int RunSetup(const GlobalOptions& options, const SetupArguments& arguments);

}  // namespace operator_auth::cli
