#include "cli/setup_command.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "cli/absolute_path.h"
#include "cli/claude_settings_file.h"
#include "cli/codex_config_file.h"
#include "cli/exit_status.h"
#include "cli/shell_quote.h"
#include "cli/tool_config_file.h"
#include "common/default_paths.h"
#include "common/vendor_source.h"
#include "daemon/core/posix_error.h"

namespace operator_auth::cli {
namespace {

using Outcome = ConfigEdit::Outcome;

constexpr int kExitInTheWay = 1;

// Claude Code's apiKeyHelper output goes out as X-Api-Key (and Authorization: Bearer): an
// Anthropic API key. A Claude subscription OAuth token needs Claude Code's own OAuth headers,
// which it sends only for CLAUDE_CODE_OAUTH_TOKEN: `operatorctl exec claude -- claude` does that.
constexpr absl::string_view kClaudeCodeProvider = "anthropic";
// Codex sends the command's output as "Authorization: Bearer" to base_url, the OpenAI API.
constexpr absl::string_view kCodexProvider = "openai";

struct ToolEdit {
  std::string provider;  // whose key the tool will ask for
  std::string default_path;
  // Decides the edit from the file's text (nullopt: no file).
  std::function<absl::StatusOr<ConfigEdit>(const std::optional<std::string>&)> edit;
  std::string what;  // what operatorctl owns in the file, for messages
  std::string done;  // printed after a successful set-up
};

absl::StatusOr<ToolEdit> EditFor(const GlobalOptions& options, const SetupArguments& arguments) {
  ToolEdit tool;
  if (arguments.tool == "claude-code") {
    absl::StatusOr<std::vector<std::string>> command = KeyCommand(options, kClaudeCodeProvider);
    if (!command.ok()) return command.status();
    const std::string helper = ShellCommandLine(*command);
    tool.provider = std::string(kClaudeCodeProvider);
    tool.default_path = VendorConfigDirectory(VendorSource::kClaudeCode) + "/settings.json";
    tool.what = "apiKeyHelper";
    tool.done = absl::StrCat("Claude Code now asks operator-authd for the ", kClaudeCodeProvider,
                             " API key (apiKeyHelper: ", helper, ").");
    tool.edit = [helper, arguments](const std::optional<std::string>& text) {
      return arguments.remove ? RemoveApiKeyHelper(text, helper)
                              : SetApiKeyHelper(text, helper, arguments.force);
    };
    return tool;
  }
  absl::StatusOr<std::vector<std::string>> command = KeyCommand(options, kCodexProvider);
  if (!command.ok()) return command.status();
  tool.provider = std::string(kCodexProvider);
  tool.default_path = VendorConfigDirectory(VendorSource::kCodex) + "/config.toml";
  tool.what = absl::StrCat("operator-authd block (model provider and profile \"",
                           kCodexProviderName, "\")");
  tool.done = absl::StrCat("Codex can now use the ", kCodexProvider,
                           " API key from operator-authd: codex --profile ", kCodexProviderName);
  tool.edit = [command = *command, arguments](const std::optional<std::string>& text) {
    return arguments.remove ? RemoveCodexProvider(text) : AddCodexProvider(text, command);
  };
  return tool;
}

int ReportInTheWay(const SetupArguments& arguments, const std::string& path, const ToolEdit& tool,
                   const std::string& existing) {
  if (arguments.remove) {
    std::cerr << "operatorctl: the " << tool.what << " in " << path
              << " was not written by operatorctl (" << existing << "); left as it is\n";
  } else if (arguments.tool == "claude-code") {
    std::cerr << "operatorctl: " << path
              << " already has an apiKeyHelper that operatorctl did not write: " << existing
              << "\nReplace it with: operatorctl setup claude-code --force\n";
  } else {
    std::cerr << "operatorctl: " << path << " already defines " << existing
              << " outside operatorctl's block; Codex refuses a table defined twice, so rename "
                 "or remove it first\n";
  }
  return kExitInTheWay;
}

// The set-up works without the daemon; when it answers and has no key yet, say how to add one.
void HintWhenTheKeyIsMissing(const GlobalOptions& options, const std::string& provider) {
  AuthClient client(ClientOptionsFor(options));
  absl::StatusOr<v1::AuthStatus> status = client.GetAuthStatus(provider);
  if (status.ok() && !status->configured()) {
    std::cerr << "operatorctl: note: operator-authd has no " << provider
              << " key yet; add it with: operatorctl auth set " << provider << " --api-key -\n";
  }
}

}  // namespace

const std::vector<std::string>& SetupTools() {
  static const std::vector<std::string>* tools =
      new std::vector<std::string>{"claude-code", "codex"};
  return *tools;
}

absl::StatusOr<std::vector<std::string>> KeyCommand(const GlobalOptions& options,
                                                    absl::string_view provider) {
  char program[PATH_MAX];
  if (realpath("/proc/self/exe", program) == nullptr) {
    return PosixError(errno, "find the path of operatorctl from", "/proc/self/exe");
  }
  std::vector<std::string> command = {program};
  const bool default_socket =
      std::getenv("OPERATOR_AUTHD_SOCKET") == nullptr && options.socket_path == DefaultSocketPath();
  if (!default_socket) {
    command.insert(command.end(), {"--socket", AbsolutePath(options.socket_path)});
  }
  command.insert(command.end(), {"auth", "token", std::string(provider)});
  return command;
}

int RunSetup(const GlobalOptions& options, const SetupArguments& arguments) {
  absl::StatusOr<ToolEdit> tool = EditFor(options, arguments);
  if (!tool.ok()) return ReportFailure(tool.status(), options.socket_path);
  const std::string path =
      arguments.settings_path.empty() ? tool->default_path : AbsolutePath(arguments.settings_path);
  absl::StatusOr<std::optional<std::string>> text = ReadToolConfig(path);
  if (!text.ok()) {
    std::cerr << "operatorctl: " << text.status().message() << "; nothing was written\n";
    return kExitFailure;
  }
  absl::StatusOr<ConfigEdit> edit = tool->edit(*text);
  if (!edit.ok()) {
    std::cerr << "operatorctl: " << path << " " << edit.status().message()
              << "; nothing was written\n";
    return kExitFailure;
  }
  if (edit->outcome == Outcome::kNotOurs) {
    return ReportInTheWay(arguments, path, *tool, edit->existing);
  }
  if (edit->outcome == Outcome::kUnchanged) {
    std::cout << (arguments.remove ? "Nothing to remove: " : "Already set up: ") << path
              << (arguments.remove ? " has no " : " has operatorctl's ") << tool->what << ".\n";
  } else if (absl::Status written = ReplaceToolConfig(path, edit->text); !written.ok()) {
    std::cerr << "operatorctl: " << written.message() << "; " << path << " is as it was\n";
    return kExitFailure;
  } else if (arguments.remove) {
    std::cout << "Removed operatorctl's " << tool->what << " from " << path << ".\n";
  } else {
    if (!edit->existing.empty()) {
      std::cout << "Replaced " << tool->what << ": " << edit->existing << "\n";
    }
    std::cout << "Wrote " << path << ". " << tool->done << "\n";
  }
  if (!arguments.remove) HintWhenTheKeyIsMissing(options, tool->provider);
  return kExitOk;
}

}  // namespace operator_auth::cli
