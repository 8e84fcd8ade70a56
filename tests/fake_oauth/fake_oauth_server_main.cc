// Runs FakeOAuthServer on 127.0.0.1 for manual use and for test processes in other languages.
// Prints "listening 127.0.0.1:<port>" once connections are accepted and serves until SIGTERM or
// SIGINT.
//
//   fake_oauth_server [--port N] [--access-token-lifetime S] [--device-pending-polls N]
//                     [--device-interval S] [--account-id ID]
//                     [--refresh-token T]... [--github-token T]...

#include <signal.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "tests/fake_oauth/fake_oauth_server.h"

namespace operator_auth::testing {
namespace {

constexpr char kUsage[] =
    "usage: fake_oauth_server [--port N] [--access-token-lifetime S] [--device-pending-polls N]\n"
    "                         [--device-interval S] [--account-id ID]\n"
    "                         [--refresh-token T]... [--github-token T]...\n";

struct Flags {
  FakeOAuthOptions options;
  std::vector<std::string> refresh_tokens;
  std::vector<std::string> github_tokens;
};

bool ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view flag = argv[i];
    if (i + 1 >= argc) return false;
    const std::string value = argv[++i];
    bool ok = true;
    if (flag == "--port") {
      ok = absl::SimpleAtoi(value, &flags.options.port) && flags.options.port >= 0 &&
           flags.options.port <= 65535;
    } else if (flag == "--access-token-lifetime") {
      ok = absl::SimpleAtoi(value, &flags.options.access_token_lifetime_s);
    } else if (flag == "--device-pending-polls") {
      ok = absl::SimpleAtoi(value, &flags.options.device_pending_polls);
    } else if (flag == "--device-interval") {
      ok = absl::SimpleAtoi(value, &flags.options.device_interval_s);
    } else if (flag == "--account-id") {
      flags.options.account_id = value;
    } else if (flag == "--refresh-token") {
      flags.refresh_tokens.push_back(value);
    } else if (flag == "--github-token") {
      flags.github_tokens.push_back(value);
    } else {
      ok = false;
    }
    if (!ok) return false;
  }
  return true;
}

int Run(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  // Blocked before any thread starts, so every server thread inherits the mask and the signals
  // reach sigwait() below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  FakeOAuthServer server(flags.options);
  for (const std::string& token : flags.refresh_tokens) server.AddRefreshToken(token);
  for (const std::string& token : flags.github_tokens) server.AddGithubToken(token);
  try {
    server.Start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  std::printf("listening 127.0.0.1:%d\n", server.port());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server.Stop();
  return 0;
}

}  // namespace
}  // namespace operator_auth::testing

int main(int argc, char** argv) { return operator_auth::testing::Run(argc, argv); }
