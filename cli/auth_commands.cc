#include "cli/auth_commands.h"

#include <iostream>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cli/exit_status.h"
#include "cli/output.h"
#include "cli/secret_prompt.h"

namespace operator_auth::cli {
namespace {

// The daemon reports the same load error on every status; say it once.
void WarnAboutStorageErrors(const v1::ListProvidersResponse& providers) {
  std::set<std::string> errors;
  for (const v1::ProviderInfo& p : providers.providers()) {
    if (!p.status().storage_error().empty()) errors.insert(p.status().storage_error());
  }
  for (const std::string& error : errors) {
    std::cerr << "operatorctl: warning: the daemon cannot load its credentials file: " << error
              << "\n";
  }
}

}  // namespace

AuthClientOptions ClientOptionsFor(const GlobalOptions& options) {
  AuthClientOptions client;
  client.socket_path = options.socket_path;
  client.env_fallback = false;
  client.account = options.account;  // empty: the client library reads $OPERATOR_AUTH_ACCOUNT
  return client;
}

AuthCommands::AuthCommands(GlobalOptions options)
    : options_(std::move(options)), client_(ClientOptionsFor(options_)) {}

int AuthCommands::Failed(const absl::Status& status) const {
  return ReportFailure(status, client_.socket_path());
}

int AuthCommands::List() {
  absl::StatusOr<v1::ListProvidersResponse> providers = client_.ListProviders();
  if (!providers.ok()) return Failed(providers.status());
  WarnAboutStorageErrors(*providers);
  if (options_.json) {
    PrintJson(ProvidersToJson(*providers), std::cout);
  } else {
    PrintProviderTable(*providers, std::cout);
  }
  return kExitOk;
}

int AuthCommands::Status(const std::string& provider) {
  absl::StatusOr<v1::AuthStatus> status = client_.GetAuthStatus(provider);
  if (!status.ok()) return Failed(status.status());
  if (options_.json) {
    PrintJson(StatusToJson(*status), std::cout);
  } else {
    PrintStatusDetail(*status, std::cout);
  }
  return status->configured() ? kExitOk : kExitNotConfigured;
}

int AuthCommands::Set(const SetArguments& arguments) {
  if (arguments.oauth) {
    return Login(LoginArguments{arguments.provider, arguments.enterprise_domain,
                                /*open_browser=*/!arguments.no_browser, arguments.device});
  }
  if (!arguments.api_key.has_value()) {
    return ReportUsageError(
        "auth set needs --api-key KEY, or --api-key - to read the key from stdin; "
        "--oauth logs in to an OAuth provider");
  }
  std::string key;
  if (*arguments.api_key == "-") {
    // Find out that the daemon is away before the user pastes a key, not after.
    if (absl::StatusOr<v1::AuthStatus> reachable = client_.GetAuthStatus(arguments.provider);
        !reachable.ok()) {
      return Failed(reachable.status());
    }
    absl::StatusOr<std::string> read =
        ReadSecretFromStdin(absl::StrCat("API key for ", arguments.provider, ": "));
    if (!read.ok()) return Failed(read.status());
    key = *std::move(read);
  } else {
    if (arguments.api_key->empty()) return ReportUsageError("the API key is empty");
    // Still accepted (the documented one-liner), but say what it costs; never echo the key.
    std::cerr << "operatorctl: warning: a key given on the command line is visible to other "
                 "processes (ps, /proc/PID/cmdline) and stays in your shell history; "
                 "`--api-key -` reads it from stdin instead\n";
    key = *arguments.api_key;
  }
  absl::StatusOr<v1::SetApiKeyResponse> response = client_.SetApiKey(arguments.provider, key);
  if (!response.ok()) return Failed(response.status());
  std::cout << (response->replaced() ? "Replaced the stored credential for " : "Saved API key for ")
            << arguments.provider << ".\n";
  return kExitOk;
}

int AuthCommands::Login(const LoginArguments& arguments) { return RunLogin(client_, arguments); }

int AuthCommands::Unset(const std::string& provider) {
  absl::StatusOr<v1::LogoutResponse> response = client_.Logout(provider);
  if (!response.ok()) return Failed(response.status());
  if (response->revoked()) std::cout << "Revoked the token at the provider.\n";
  if (!response->revocation_error().empty()) {
    std::cerr << "operatorctl: warning: " << response->revocation_error()
              << " (the credential is removed here all the same)\n";
  }
  std::cout << (response->removed() ? "Removed the stored credential for " : "Nothing stored for ")
            << provider << ".\n";
  return kExitOk;
}

int AuthCommands::SetDefault(const std::string& provider, const std::string& account) {
  absl::StatusOr<v1::SetDefaultAccountResponse> response =
      client_.SetDefaultAccount(provider, account);
  if (!response.ok()) return Failed(response.status());
  if (!response->changed()) {
    std::cout << account << " already is the default " << provider << " account.\n";
  } else {
    std::cout << account << " is now the default " << provider << " account; the previous one is "
              << provider << "@" << response->previous() << ".\n";
  }
  return kExitOk;
}

int AuthCommands::Token(const std::string& provider) {
  absl::StatusOr<ApiKey> key = client_.GetApiKey(provider);
  if (!key.ok()) {
    int code = Failed(key.status());
    // From GetApiKey, FAILED_PRECONDITION means a stored OAuth token that has expired: like
    // NOT_FOUND, there is no usable credential.
    return absl::IsFailedPrecondition(key.status()) ? kExitNotConfigured : code;
  }
  if (options_.json) {
    PrintJson(ApiKeyToJson(provider, *key), std::cout);
  } else {
    std::cout << key->key << "\n";
  }
  return kExitOk;
}

}  // namespace operator_auth::cli
