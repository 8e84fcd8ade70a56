// `operatorctl exec [PROVIDER...] [--env VAR=PROVIDER]... -- CMD [ARGS...]`: asks the daemon for
// every key first, then replaces operatorctl with CMD (execvpe), each key in CMD's environment
// under the variable its tools read (cli/provider_env_vars.h) or under --env's name, with the
// non-secret usage facts those tools need where the environment lacks them. Keys never
// go on a command line or to operatorctl's output. Because operatorctl is replaced, not a parent,
// CMD has the terminal, stdio, exit code and signals to itself. Thread-compatible.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cli/auth_commands.h"

namespace operator_auth::cli {

// A command line split at its first "--": CLI11 parses `options`; `command` is everything after,
// untouched (exec's CMD and ARGS).
struct SeparatedCommandLine {
  std::vector<char*> options;  // argv[0] and what precedes "--"
  std::vector<std::string> command;
  bool has_separator = false;
};
SeparatedCommandLine SeparateCommand(int argc, char** argv);

struct ExecArguments {
  std::vector<std::string> providers;     // each under its conventional variable
  std::vector<std::string> env_bindings;  // "VAR=PROVIDER"
  std::vector<std::string> command;       // CMD [ARGS...]; CMD is looked up in PATH
};

struct EnvBinding {
  std::string variable;
  std::string provider;
};

// "VAR=PROVIDER" with VAR a portable variable name ([A-Za-z_][A-Za-z0-9_]*) and a valid provider
// id. The error never repeats the text: a mistyped one may be a key.
absl::StatusOr<EnvBinding> ParseEnvBinding(absl::string_view text);

// `environment` ("NAME=value" entries, as environ) with every variable of `variables` set: an
// entry of the same name is dropped, the new ones come last in the given order.
std::vector<std::string> EnvironmentWith(
    char* const* environment, const std::vector<std::pair<std::string, std::string>>& variables);

// Runs the command; returns only when it could not: 1 when a provider has no key, 2 for usage,
// 3 when the daemon is away, 126 when CMD cannot be executed, 127 when it is not found.
int RunExec(const GlobalOptions& options, const ExecArguments& arguments);

}  // namespace operator_auth::cli
