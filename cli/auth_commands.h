// The `operatorctl auth ...` subcommands. Each asks the daemon through AuthClient, prints the
// answer (text, or JSON with --json) on stdout, and returns the process exit code
// (cli/exit_status.h). The caller-environment fallback is off: the CLI reports what the daemon
// has, never this shell's variables. Thread-compatible.
#pragma once

#include <optional>
#include <string>

#include "cli/login_command.h"
#include "operator_auth/auth_client.h"

namespace operator_auth::cli {

struct GlobalOptions {
  std::string socket_path;
  bool json = false;
  // --account: the account every command names (empty: $OPERATOR_AUTH_ACCOUNT, else the
  // provider's default account). A provider written PROVIDER@ACCOUNT names its own.
  std::string account;
};

struct SetArguments {
  std::string provider;
  std::optional<std::string> api_key;  // "-" reads it from stdin
  bool oauth = false;                  // log in instead, with the two options below
  std::string enterprise_domain;
  bool no_browser = false;
  bool device = false;
};

// The client every subcommand uses: the chosen socket, and no fallback to this shell's
// environment (the CLI reports what the daemon has).
AuthClientOptions ClientOptionsFor(const GlobalOptions& options);

class AuthCommands {
 public:
  explicit AuthCommands(GlobalOptions options);

  // Every provider, grouped by kind. Exit 0.
  int List();
  // One provider in detail. Exit 0 when configured, 1 when not.
  int Status(const std::string& provider);
  // Stores an API key, or with --oauth runs Login. Prints a confirmation, never the key.
  int Set(const SetArguments& arguments);
  // An interactive OAuth login (cli/login_command.h). Exit 0 when logged in, 130 when cancelled.
  int Login(const LoginArguments& arguments);
  // Removes the stored credential. Exit 0 whether or not there was one.
  int Unset(const std::string& provider);
  // The key alone on stdout, for `$(operatorctl auth token ID)`. Exit 1 when there is none.
  int Token(const std::string& provider);
  // `auth default PROVIDER ACCOUNT`.
  int SetDefault(const std::string& provider, const std::string& account);

 private:
  int Failed(const absl::Status& status) const;

  GlobalOptions options_;
  AuthClient client_;
};

}  // namespace operator_auth::cli
