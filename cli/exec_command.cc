#include "cli/exec_command.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <variant>

#include "absl/strings/str_cat.h"
#include "cli/exit_status.h"
#include "cli/provider_env_vars.h"
#include "common/credential_key.h"
#include "common/provider_id.h"
#include "operator_auth/auth_client.h"

extern char** environ;

namespace operator_auth::cli {
namespace {

// As a shell reports them.
constexpr int kExitCannotExecute = 126;
constexpr int kExitCommandNotFound = 127;

bool IsPortableVariableName(absl::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

struct KeyRequest {
  std::string provider;
  std::string variable;  // empty: the provider's conventional one, known once the kind is
};

// Asks for every key over one client that is gone when this returns, so that no connection to
// the daemon is open when the command starts. On failure, prints why and returns the exit code.
std::variant<std::vector<std::pair<std::string, std::string>>, int> ResolveKeys(
    const GlobalOptions& options, const std::vector<KeyRequest>& requests,
    const std::string& command) {
  std::vector<std::pair<std::string, std::string>> variables;
  std::map<std::string, std::string> provider_of;  // variable -> provider, to catch clashes
  AuthClient client(ClientOptionsFor(options));
  for (const KeyRequest& request : requests) {
    absl::StatusOr<ApiKey> key = client.GetApiKey(request.provider);
    if (!key.ok()) {
      int code = ReportFailure(key.status(), client.socket_path());
      // FAILED_PRECONDITION: a stored OAuth token that has expired, which is no key either.
      if (absl::IsFailedPrecondition(key.status())) code = kExitNotConfigured;
      std::cerr << "operatorctl: " << command << " was not started: no key for " << request.provider
                << " from operator-authd\n";
      return code;
    }
    const std::string provider = key->provider.empty() ? request.provider : key->provider;
    const bool oauth = key->kind == ApiKeyKind::kOAuthAccessToken;
    std::string variable =
        request.variable.empty() ? KeyEnvironmentVariable(provider, oauth) : request.variable;
    if (auto [it, inserted] = provider_of.emplace(variable, request.provider); !inserted) {
      if (it->second == request.provider) continue;  // named twice: once is enough
      return ReportUsageError(absl::StrCat(variable, " would hold the keys of both ", it->second,
                                           " and ", request.provider,
                                           "; name one with --env VAR=PROVIDER"));
    }
    variables.emplace_back(std::move(variable), std::move(key->key));
    if (request.variable.empty()) {
      // Usage facts only fill gaps: a project the user exported is their choice.
      for (auto& usage : UsageEnvironmentVariables(provider, oauth, key->project_id)) {
        const char* set = std::getenv(usage.first.c_str());
        if (set == nullptr || *set == '\0') variables.push_back(std::move(usage));
      }
    }
  }
  return variables;
}

}  // namespace

SeparatedCommandLine SeparateCommand(int argc, char** argv) {
  SeparatedCommandLine split;
  int i = 0;
  for (; i < argc; ++i) {
    if (i > 0 && std::strcmp(argv[i], "--") == 0) {
      split.has_separator = true;
      break;
    }
    split.options.push_back(argv[i]);
  }
  for (++i; i < argc; ++i) split.command.emplace_back(argv[i]);
  return split;
}

absl::StatusOr<EnvBinding> ParseEnvBinding(absl::string_view text) {
  const size_t equals = text.find('=');
  if (equals == absl::string_view::npos) {
    return absl::InvalidArgumentError("--env expects VAR=PROVIDER (e.g. --env OPENAI_KEY=openai)");
  }
  EnvBinding binding{std::string(text.substr(0, equals)), std::string(text.substr(equals + 1))};
  if (!IsPortableVariableName(binding.variable)) {
    return absl::InvalidArgumentError(
        "--env expects VAR=PROVIDER with VAR made of letters, digits and '_', not starting with a "
        "digit");
  }
  if (absl::Status valid = ParseCredentialSelector(binding.provider).status(); !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--env ", binding.variable, "=...: ", valid.message()));
  }
  return binding;
}

std::vector<std::string> EnvironmentWith(
    char* const* environment, const std::vector<std::pair<std::string, std::string>>& variables) {
  std::vector<std::string> entries;
  for (char* const* entry = environment; entry != nullptr && *entry != nullptr; ++entry) {
    const absl::string_view text(*entry);
    const absl::string_view name = text.substr(0, text.find('='));
    bool replaced = false;
    for (const auto& [variable, value] : variables) replaced = replaced || variable == name;
    if (!replaced) entries.emplace_back(text);
  }
  for (const auto& [variable, value] : variables)
    entries.push_back(absl::StrCat(variable, "=", value));
  return entries;
}

int RunExec(const GlobalOptions& options, const ExecArguments& arguments) {
  if (arguments.command.empty()) {
    return ReportUsageError(
        "exec needs a command after --: operatorctl exec PROVIDER... -- CMD [ARGS...]");
  }
  std::vector<KeyRequest> requests;
  for (const std::string& provider : arguments.providers) requests.push_back({provider, ""});
  for (const std::string& text : arguments.env_bindings) {
    absl::StatusOr<EnvBinding> binding = ParseEnvBinding(text);
    if (!binding.ok()) return ReportUsageError(binding.status().message());
    requests.push_back({binding->provider, binding->variable});
  }
  if (requests.empty()) {
    return ReportUsageError("exec needs at least one PROVIDER or --env VAR=PROVIDER before --");
  }
  const std::string& command = arguments.command.front();
  auto resolved = ResolveKeys(options, requests, command);
  if (const int* code = std::get_if<int>(&resolved)) return *code;

  std::vector<std::string> environment = EnvironmentWith(environ, std::get<0>(resolved));
  std::vector<char*> envp;
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (const std::string& arg : arguments.command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::cout.flush();
  std::cerr.flush();
  execvpe(command.c_str(), argv.data(), envp.data());
  const int err = errno;
  if (err == ENOENT || err == ENOTDIR) {
    std::cerr << "operatorctl: " << command << ": command not found\n";
    return kExitCommandNotFound;
  }
  std::cerr << "operatorctl: " << command << ": " << std::strerror(err) << "\n";
  return kExitCannotExecute;
}

}  // namespace operator_auth::cli
