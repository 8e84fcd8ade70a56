// `operatorctl auth login ID` (and `auth set ID --oauth`): an interactive OAuth login through the
// daemon's Login stream. Shows the authorize URL and opens it with xdg-open when there is a
// graphical session, or shows the device code; passes what the user pastes on stdin to the daemon;
// keeps a spinner on a terminal while it waits; and turns Ctrl-C (or SIGTERM, SIGHUP, SIGQUIT)
// into a clean cancel: the daemon ends the login and frees its loopback port before operatorctl
// exits with kExitCancelled. Tokens never pass through here; the daemon stores them.
#pragma once

#include <string>

#include "operator_auth/auth_client.h"

namespace operator_auth::cli {

struct LoginArguments {
  std::string provider;
  // GitHub Copilot: a GitHub Enterprise host; empty for github.com.
  std::string enterprise_domain;
  // Try xdg-open when there is a graphical session.
  bool open_browser = true;
  // A device-code login where the provider offers one besides the browser (openai-codex).
  bool device = false;
};

// Runs the login to its end and returns the exit code (cli/exit_status.h). Not thread-safe: while
// it runs it owns stdin, the terminal and the handlers of the terminating signals.
int RunLogin(AuthClient& client, const LoginArguments& arguments);

}  // namespace operator_auth::cli
