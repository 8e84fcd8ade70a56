// Login end to end over the gRPC stream: the real daemon, the fake provider on 127.0.0.1, and the
// test acting as the browser (it follows the authorize redirect to the daemon's loopback server).
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/fake_oauth/fake_oauth_server.h"
#include "tests/integration/login_fixture.h"

namespace operator_auth::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;
using Stream = grpc::ClientReaderWriter<v1::LoginRequest, v1::LoginEvent>;

TEST_F(LoginTest, BrowserLoginThroughTheLoopbackCallbackStoresTheTokens) {
  grpc::ClientContext context;
  auto stream = StartLogin(context, "openai-codex");
  v1::LoginEvent event;
  ASSERT_TRUE(stream->Read(&event));
  ASSERT_TRUE(event.has_auth_url()) << event.DebugString();
  const std::string url = event.auth_url().url();
  EXPECT_THAT(url, HasSubstr("code_challenge_method=S256"));
  EXPECT_THAT(url, HasSubstr("client_id=app_EMoamEEZ73f0CkXaXp7hrann"));
  EXPECT_THAT(url, HasSubstr("originator=codex_cli_rs"));
  FollowRedirect(Authorize(url));

  bool complete = false;
  while (stream->Read(&event)) {
    if (event.has_complete()) {
      complete = true;
      EXPECT_EQ(event.complete().account_id(), "acct-fake-1");
    }
  }
  grpc::Status status = stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(complete);
  EXPECT_EQ(fake_.GrantCount("authorization_code"), 1);  // PKCE verified by the fake
  Json stored = Json::parse(ReadFileOrDie(daemon_.providers_path()))["openai-codex"];
  EXPECT_EQ(stored["type"], "oauth");
  EXPECT_EQ(stored["account_id"], "acct-fake-1");
  auto key = client_->GetApiKey("openai-codex");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, stored["access"]);
  EXPECT_TRUE(PortIsFree(callback_port_));
}

// SIGHUP re-reads authd.json without dropping connections: a login that is waiting for the
// browser finishes on the same stream, and the reloaded configuration's new provider both lists
// and refreshes.
TEST_F(LoginTest, SighupReloadsTheConfigWhileALoginIsInFlight) {
  grpc::ClientContext context;
  auto stream = StartLogin(context, "openai-codex");
  v1::LoginEvent event;
  ASSERT_TRUE(stream->Read(&event));
  ASSERT_TRUE(event.has_auth_url()) << event.DebugString();

  Json config = Json::parse(ReadFileOrDie(daemon_.config_path()));
  config["oauth_providers"]["my-idp"] = {{"name", "My IdP"},
                                         {"flow", "authorization_code"},
                                         {"authorize_url", fake_.base_url() + "/authorize"},
                                         {"token_url", fake_.base_url() + "/token"},
                                         {"client_id", "my-client"},
                                         {"redirect_uri", "http://localhost:40123/cb"}};
  WriteFileOrDie(daemon_.config_path(), config.dump());
  const int64_t expired_ms = absl::ToUnixMillis(absl::Now() - absl::Minutes(1));
  fake_.AddRefreshToken("rt-my-idp");
  WriteFileOrDie(daemon_.providers_path(), Json{{"my-idp",
                                                 {{"type", "oauth"},
                                                  {"access", "at-old"},
                                                  {"refresh", "rt-my-idp"},
                                                  {"expires", expired_ms}}}}
                                               .dump());
  daemon_.Signal(SIGHUP);

  bool listed = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!listed && absl::Now() < deadline) {
    auto list = client_->ListProviders();
    ASSERT_TRUE(list.ok()) << list.status();
    for (const auto& p : list->providers()) {
      // The display name comes from the reloaded configuration; a stored entry alone would
      // list the bare id.
      listed = listed || (p.id() == "my-idp" && p.display_name() == "My IdP");
    }
    if (!listed) absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(listed) << daemon_.Log();
  auto key = client_->GetApiKey("my-idp");
  ASSERT_TRUE(key.ok()) << key.status();
  ASSERT_EQ(fake_.Requests("/token").size(), 1u);
  EXPECT_EQ(fake_.Requests("/token")[0].params["client_id"], "my-client");

  // The login that began before the reload completes on its stream.
  FollowRedirect(Authorize(event.auth_url().url()));
  bool complete = false;
  while (stream->Read(&event)) complete = complete || event.has_complete();
  grpc::Status status = stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(complete);
  EXPECT_THAT(daemon_.Log(), HasSubstr("configuration reloaded"));
}

TEST_F(LoginTest, PastedRedirectUrlCompletesTheLogin) {
  grpc::ClientContext context;
  auto stream = StartLogin(context, "openai-codex");
  v1::LoginEvent event;
  ASSERT_TRUE(stream->Read(&event));
  ASSERT_TRUE(event.has_auth_url());
  const std::string location = Authorize(event.auth_url().url());
  // A wrong paste is answered with a new prompt, not the end of the login.
  v1::LoginRequest wrong;
  wrong.mutable_answer()->set_text("code=abc&state=not-the-state");
  ASSERT_TRUE(stream->Write(wrong));
  v1::LoginRequest answer;
  answer.mutable_answer()->set_text("  " + location + "\n");
  bool complete = false;
  bool reprompted = false;
  bool answered = false;
  while (stream->Read(&event)) {
    if (event.has_prompt() && event.prompt().message().find("state") != std::string::npos) {
      reprompted = true;
    }
    if (!answered && event.has_prompt()) {
      answered = true;
      ASSERT_TRUE(stream->Write(answer));
    }
    if (reprompted && !answered) {
      answered = true;
      ASSERT_TRUE(stream->Write(answer));
    }
    complete = complete || event.has_complete();
  }
  grpc::Status status = stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(complete);
  EXPECT_TRUE(reprompted);
  EXPECT_EQ(fake_.GrantCount("authorization_code"), 1);
  EXPECT_TRUE(client_->GetApiKey("openai-codex").ok());
}

TEST_F(LoginTest, DeviceCodeLoginStoresGithubAndCopilotTokensWithTheEnterpriseHost) {
  grpc::ClientContext context;
  auto stream = StartLogin(context, "github-copilot", "ghe.example.com");
  v1::LoginEvent event;
  bool saw_code = false;
  bool complete = false;
  while (stream->Read(&event)) {
    if (event.has_device_code()) {
      saw_code = true;
      EXPECT_FALSE(event.device_code().user_code().empty());
      EXPECT_THAT(event.device_code().verification_uri(), HasSubstr("/device"));
    }
    complete = complete || event.has_complete();
  }
  grpc::Status status = stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(saw_code);
  EXPECT_TRUE(complete);
  // Polled through authorization_pending (the fake answers it twice) before succeeding.
  EXPECT_GE(fake_.GrantCount("urn:ietf:params:oauth:grant-type:device_code"), 3);
  Json stored = Json::parse(ReadFileOrDie(daemon_.providers_path()))["github-copilot"];
  EXPECT_EQ(stored["enterprise_url"], "ghe.example.com");
  EXPECT_THAT(stored["access"].get<std::string>(), HasSubstr("tid=copilot-"));
  auto copilot = fake_.Requests("/copilot_internal/v2/token");
  ASSERT_EQ(copilot.size(), 1u);
  EXPECT_EQ(copilot[0].params["domain"], "ghe.example.com");
  EXPECT_EQ(copilot[0].headers["authorization"], "Bearer " + stored["refresh"].get<std::string>());
}

TEST_F(LoginTest, CancelEndsTheLoginAndFreesThePort) {
  grpc::ClientContext context;
  auto stream = StartLogin(context, "openai-codex");
  v1::LoginEvent event;
  ASSERT_TRUE(stream->Read(&event));
  ASSERT_TRUE(event.has_auth_url());
  EXPECT_FALSE(PortIsFree(callback_port_));  // the daemon is listening for the browser
  v1::LoginRequest cancel;
  cancel.mutable_cancel();
  ASSERT_TRUE(stream->Write(cancel));
  while (stream->Read(&event)) {
  }
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();
  EXPECT_TRUE(PortIsFree(callback_port_));
  EXPECT_FALSE(PathExists(daemon_.providers_path()));
}

TEST_F(LoginTest, ClientDisconnectCancelsTheLogin) {
  {
    grpc::ClientContext context;
    auto stream = StartLogin(context, "openai-codex");
    v1::LoginEvent event;
    ASSERT_TRUE(stream->Read(&event));
    context.TryCancel();
  }
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!PortIsFree(callback_port_) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(PortIsFree(callback_port_));
}

TEST_F(LoginTest, ApiKeyProvidersAndUnknownIdsAreRefused) {
  grpc::ClientContext context;
  auto stream = StartLogin(context, "openai");
  v1::LoginEvent event;
  while (stream->Read(&event)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

// operatorctl's `auth login` against the same daemon and fake provider: the real binary, its stdout
// read while it runs, the test as the browser (or as the user pasting).
class CliLoginTest : public LoginTest {
 protected:
  std::unique_ptr<ChildProcess> StartCtl(const std::vector<std::string>& args,
                                         bool stdin_pipe = false) {
    std::vector<std::string> argv = {AUTHD_CTL_PATH, "--socket", daemon_.socket_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.stdin_pipe = stdin_pipe;
    options.unset_env = {"DISPLAY", "WAYLAND_DISPLAY"};
    return std::make_unique<ChildProcess>(argv, options);
  }

  // The authorize URL operatorctl printed, once it has; "" when it has not within 10 s.
  static std::string WaitForUrl(const ChildProcess& child) {
    const std::string heading = "Open this URL to log in:\n  ";
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      const std::string out = child.PeekStdout();
      if (size_t at = out.find(heading); at != std::string::npos) {
        const size_t start = at + heading.size();
        if (size_t end = out.find('\n', start); end != std::string::npos) {
          return out.substr(start, end - start);
        }
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return "";
  }
};

TEST_F(CliLoginTest, LoginPrintsTheUrlAndFinishesWhenTheBrowserComesBack) {
  auto child = StartCtl({"auth", "login", "openai-codex", "--no-browser"});
  const std::string url = WaitForUrl(*child);
  ASSERT_THAT(url, HasSubstr("code_challenge_method=S256")) << child->PeekStderr();
  FollowRedirect(Authorize(url));

  ProcessResult result = child->Wait();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("Logged in to openai-codex (account acct-fake-1)"));
  EXPECT_THAT(result.out, ContainsRegex("token valid until 20[0-9-]+T[0-9:]+Z"));
  EXPECT_THAT(result.err, HasSubstr("paste the redirect URL"));
  // stderr is a file here: no spinner, no cursor or line control at all.
  EXPECT_THAT(result.err, Not(HasSubstr("\r")));
  EXPECT_THAT(result.err, Not(HasSubstr("\x1b")));
  Json stored = Json::parse(ReadFileOrDie(daemon_.providers_path()))["openai-codex"];
  EXPECT_EQ(stored["type"], "oauth");
  EXPECT_EQ(stored["account_id"], "acct-fake-1");
  EXPECT_THAT(result.out + result.err, Not(HasSubstr(stored["access"].get<std::string>())));
  EXPECT_THAT(result.out + result.err, Not(HasSubstr(stored["refresh"].get<std::string>())));
  EXPECT_TRUE(PortIsFree(callback_port_));
}

TEST_F(CliLoginTest, RedirectUrlPastedOnStdinCompletesTheLogin) {
  auto child = StartCtl({"auth", "login", "openai-codex", "--no-browser"}, /*stdin_pipe=*/true);
  const std::string url = WaitForUrl(*child);
  ASSERT_FALSE(url.empty()) << child->PeekStderr();
  // The browser ends on a page this machine cannot serve; the user copies its address.
  const std::string location = Authorize(url);
  ASSERT_THAT(location, HasSubstr("code="));
  ASSERT_TRUE(child->WriteStdin(location + "\n"));

  ProcessResult result = child->Wait();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("Logged in to openai-codex"));
  EXPECT_THAT(result.out + result.err, Not(HasSubstr(location)));
  EXPECT_EQ(fake_.GrantCount("authorization_code"), 1);
  EXPECT_TRUE(client_->GetApiKey("openai-codex").ok());
  EXPECT_TRUE(PortIsFree(callback_port_));
}

TEST_F(CliLoginTest, DeviceLoginShowsTheCodeAndWaitsForApproval) {
  // A pasted enterprise address is trimmed to its host.
  auto child = StartCtl({"auth", "login", "github-copilot", "--no-browser", "--enterprise-domain",
                         "https://ghe.example.com/"});
  ProcessResult result = child->Wait();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, ContainsRegex("Open http://[^ ]+/device and enter the code: [^ ]+\n"));
  EXPECT_THAT(result.out, HasSubstr("Logged in to github-copilot"));
  EXPECT_GE(fake_.GrantCount("urn:ietf:params:oauth:grant-type:device_code"), 3);
  Json stored = Json::parse(ReadFileOrDie(daemon_.providers_path()))["github-copilot"];
  EXPECT_EQ(stored["type"], "oauth");
  EXPECT_EQ(stored["enterprise_url"], "ghe.example.com");
}

TEST_F(CliLoginTest, CtrlCCancelsTheLoginAndFreesThePort) {
  auto child = StartCtl({"auth", "login", "openai-codex", "--no-browser"});
  ASSERT_FALSE(WaitForUrl(*child).empty()) << child->PeekStderr();
  EXPECT_FALSE(PortIsFree(callback_port_));
  ASSERT_EQ(kill(child->pid(), SIGINT), 0);

  ProcessResult result = child->Wait(absl::Seconds(5));
  ASSERT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, 130) << result.err;
  EXPECT_THAT(result.err, HasSubstr("Login cancelled."));
  // The daemon ended the login, and closed its callback server, before operatorctl exited.
  EXPECT_TRUE(PortIsFree(callback_port_));
  EXPECT_FALSE(PathExists(daemon_.providers_path()));
}

TEST_F(CliLoginTest, SetWithOauthLogsInAndSigtermCancelsItToo) {
  auto child = StartCtl({"auth", "set", "openai-codex", "--oauth", "--no-browser"});
  const std::string url = WaitForUrl(*child);
  ASSERT_FALSE(url.empty()) << child->PeekStderr();
  FollowRedirect(Authorize(url));
  ProcessResult result = child->Wait();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("Logged in to openai-codex"));

  auto again = StartCtl({"auth", "set", "openai-codex", "--oauth", "--no-browser"});
  ASSERT_FALSE(WaitForUrl(*again).empty()) << again->PeekStderr();
  ASSERT_EQ(kill(again->pid(), SIGTERM), 0);
  ProcessResult cancelled = again->Wait(absl::Seconds(5));
  EXPECT_EQ(cancelled.exit_code, 130) << cancelled.err;
  EXPECT_TRUE(PortIsFree(callback_port_));
  // The first login's tokens are still there.
  EXPECT_TRUE(client_->GetApiKey("openai-codex").ok());
}

// With a graphical session operatorctl starts xdg-open on the authorize URL; xdg-open (and the
// browser it starts) gets operatorctl's environment without the secrets in it. A fake xdg-open
// first on PATH records both, then the test plays the browser.
TEST_F(CliLoginTest, XdgOpenGetsTheUrlAndAnEnvironmentScrubbedOfSecrets) {
  const std::string bin = dir_.Sub("fake-bin");
  ASSERT_EQ(mkdir(bin.c_str(), 0700), 0);
  const std::string env_file = dir_.Sub("xdg-open.env");
  const std::string url_file = dir_.Sub("xdg-open.url");
  const std::string script = bin + "/xdg-open";
  // Each file is renamed into place, the URL last: once it exists, both are complete.
  WriteFileOrDie(script,
                 absl::StrCat("#!/bin/sh\n/usr/bin/env > '", env_file, ".tmp'\nmv '", env_file,
                              ".tmp' '", env_file, "'\nprintf '%s' \"$1\" > '", url_file,
                              ".tmp'\nmv '", url_file, ".tmp' '", url_file, "'\n"));
  ASSERT_EQ(chmod(script.c_str(), 0700), 0);
  const std::map<std::string, std::string> secrets = {
      {"OPENAI_API_KEY", "sk-env-stays-with-operatorctl"},
      {"GH_TOKEN", "gho-env-stays-with-operatorctl"},
      {"SOME_CLIENT_SECRET", "secret-env-stays-with-operatorctl"},
      {"OPERATOR_AUTH_EXTRA", "operator-env-stays-with-operatorctl"}};
  ProcessOptions options;
  options.env = secrets;
  options.env["DISPLAY"] = ":authd-test";
  options.env["PATH"] = absl::StrCat(bin, ":", std::getenv("PATH"));
  options.unset_env = {"WAYLAND_DISPLAY"};
  ChildProcess child(
      {AUTHD_CTL_PATH, "--socket", daemon_.socket_path(), "auth", "login", "openai-codex"},
      options);

  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!PathExists(url_file) && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  ASSERT_TRUE(PathExists(url_file)) << child.PeekStderr();
  const std::string url = ReadFileOrDie(url_file);
  ASSERT_THAT(url, HasSubstr("code_challenge_method=S256"));
  FollowRedirect(Authorize(url));
  ProcessResult result = child.Wait();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("Logged in to openai-codex"));

  const std::string environment = "\n" + ReadFileOrDie(env_file);
  EXPECT_THAT(environment, HasSubstr("\nDISPLAY=:authd-test\n"));
  EXPECT_THAT(environment, HasSubstr(absl::StrCat("PATH=", bin, ":")));
  for (const auto& [name, value] : secrets) {
    // Neither the value nor the name reached xdg-open; the environment itself is not printed.
    EXPECT_EQ(environment.find(value), std::string::npos) << name << " reached xdg-open";
    EXPECT_EQ(environment.find(name + "="), std::string::npos) << name << " reached xdg-open";
  }
}

TEST_F(CliLoginTest, ApiKeyProvidersBadOptionsAndAnAbsentDaemonAreRefused) {
  ProcessResult api_key = Ctl({"auth", "login", "openai"});
  EXPECT_EQ(api_key.exit_code, 1);
  EXPECT_THAT(api_key.err, HasSubstr("openai is not an OAuth provider"));
  EXPECT_THAT(api_key.err, HasSubstr("auth set openai --api-key -"));

  ProcessResult bad_domain =
      Ctl({"auth", "login", "github-copilot", "--enterprise-domain", "ghe.example.com/x?y=1"});
  EXPECT_EQ(bad_domain.exit_code, 2);
  EXPECT_THAT(bad_domain.err, HasSubstr("--enterprise-domain"));
  EXPECT_EQ(Ctl({"auth", "set", "openai-codex", "--oauth", "--api-key", "-"}).exit_code, 2);
  EXPECT_EQ(Ctl({"auth", "set", "openai", "--no-browser", "--api-key", "-"}, "sk-x").exit_code, 2);

  const std::string nowhere = dir_.Sub("nobody-listens.sock");
  ProcessResult unreachable =
      RunProcess({AUTHD_CTL_PATH, "--socket", nowhere, "auth", "login", "openai-codex"});
  EXPECT_EQ(unreachable.exit_code, 3);
  EXPECT_THAT(unreachable.err, HasSubstr(nowhere));
  EXPECT_FALSE(PathExists(daemon_.providers_path()));
}

}  // namespace
}  // namespace operator_auth::testing
