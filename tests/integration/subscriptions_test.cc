// What a person with a real subscription needs, end to end: the real daemon, operatorctl and the
// C++ client against the fake provider on 127.0.0.1, which speaks the real request shapes of
// each provider's login, token, Code Assist, Copilot and Codex device endpoints.
#include <signal.h>

#include <atomic>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "operator_auth/watched_api_key.h"
#include "tests/fake_oauth/code_assist_state.h"
#include "tests/fake_oauth/fake_oauth_server.h"
#include "tests/integration/login_fixture.h"

namespace operator_auth::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using Json = nlohmann::json;

int64_t InOneHourMs() { return absl::ToUnixMillis(absl::Now() + absl::Hours(1)); }
int64_t AMinuteAgoMs() { return absl::ToUnixMillis(absl::Now() - absl::Minutes(1)); }

struct LoginRun {
  grpc::Status status;
  std::vector<std::string> progress;
  std::optional<v1::LoginComplete> complete;
  std::string auth_url;
  std::optional<v1::LoginDeviceCode> device_code;
};

class SubscriptionTest : public LoginTest {
 protected:
  void Configure(Json& config) override {
    // Each test runs one browser login at a time, so they can share the callback port.
    const std::string port = std::to_string(callback_port_);
    config["oauth_providers"]["anthropic-claude-code"]["redirect_uri"] =
        "http://localhost:" + port + "/callback";
    config["oauth_providers"]["google-gemini-cli"]["redirect_uri"] =
        "http://localhost:" + port + "/oauth2callback";
    config["oauth_providers"]["google-antigravity"]["redirect_uri"] =
        "http://localhost:" + port + "/oauth-callback";
    ConfigureMore(config);
  }
  virtual void ConfigureMore(Json& config) { (void)config; }

  // Runs a login to its end; the test plays the browser for authorization-code flows.
  LoginRun Login(const std::string& provider, const std::string& domain = "",
                 bool device = false) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto stream = stub_->Login(&context);
    v1::LoginRequest start;
    start.mutable_start()->set_provider(provider);
    start.mutable_start()->set_enterprise_domain(domain);
    start.mutable_start()->set_device(device);
    EXPECT_TRUE(stream->Write(start));
    LoginRun run;
    v1::LoginEvent event;
    while (stream->Read(&event)) {
      if (event.has_auth_url()) {
        run.auth_url = event.auth_url().url();
        FollowRedirect(Authorize(run.auth_url));
      }
      if (event.has_device_code()) run.device_code = event.device_code();
      if (event.has_progress()) run.progress.push_back(event.progress().message());
      if (event.has_complete()) run.complete = event.complete();
    }
    run.status = stream->Finish();
    return run;
  }

  Json Stored() { return Json::parse(ReadFileOrDie(daemon_.providers_path())); }

  void WriteStored(const Json& providers) {
    WriteFileOrDie(daemon_.providers_path(), providers.dump());
  }

  // A Google entry as another tool (pi) writes it: a valid access token, no project.
  void StoreGoogleCredentialWithoutProject(const std::string& provider) {
    fake_.AddAccessToken("at-google-" + provider);
    WriteStored({{provider,
                  {{"type", "oauth"},
                   {"access", "at-google-" + provider},
                   {"refresh", "rt-google-" + provider},
                   {"expires", InOneHourMs()}}}});
  }

  // An expired openai-codex entry whose refresh the fake accepts: the first GetApiKey refreshes
  // it into an access token carrying the account claim.
  void StoreExpiredCodexCredential() {
    fake_.AddRefreshToken("rt-codex-1");
    WriteStored({{"openai-codex",
                  {{"type", "oauth"},
                   {"access", "at-old"},
                   {"refresh", "rt-codex-1"},
                   {"expires", AMinuteAgoMs()}}}});
  }
};

// -------------------------------------------------------------------------------------------
// Aliases

TEST_F(SubscriptionTest, EveryEntryPointTakesAnAliasAndAnswersWithTheCanonicalId) {
  StoreExpiredCodexCredential();
  auto key = client_->GetApiKey("codex");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->provider, "openai-codex");
  EXPECT_EQ(key->kind, ApiKeyKind::kOAuthAccessToken);
  EXPECT_EQ(key->account_id, "acct-fake-1");

  auto status = client_->GetAuthStatus("codex");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->provider(), "openai-codex");

  // Set and unset through an alias write and remove the canonical entry; the alias is never a
  // key in providers.json.
  ASSERT_TRUE(client_->SetApiKey("claude", "sk-ant-api-alias-test").ok());
  Json stored = Stored();
  EXPECT_EQ(stored["anthropic-claude-code"]["key"], "sk-ant-api-alias-test");
  EXPECT_FALSE(stored.contains("claude"));
  ASSERT_TRUE(client_->SetRuntimeApiKey("copilot", "runtime-copilot-key").ok());
  auto runtime = client_->GetApiKey("github-copilot");
  ASSERT_TRUE(runtime.ok()) << runtime.status();
  EXPECT_EQ(runtime->key, "runtime-copilot-key");
  auto logout = client_->Logout("claude");
  ASSERT_TRUE(logout.ok()) << logout.status();
  EXPECT_TRUE(logout->removed());
  EXPECT_FALSE(Stored().contains("anthropic-claude-code"));

  auto list = client_->ListProviders();
  ASSERT_TRUE(list.ok()) << list.status();
  for (const v1::ProviderInfo& p : list->providers()) {
    if (p.id() == "google-gemini-cli") {
      EXPECT_THAT(p.aliases(), Contains("gemini-cli"));
    }
    if (p.id() == "google-antigravity") {
      EXPECT_THAT(p.aliases(), Contains("antigravity"));
    }
    EXPECT_NE(p.id(), "claude");
  }

  // operatorctl: `auth token codex --json` names the provider and what a request needs.
  ProcessResult token = Ctl({"--json", "auth", "token", "codex"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  Json out = Json::parse(token.out);
  EXPECT_EQ(out["provider"], "openai-codex");
  EXPECT_EQ(out["kind"], "oauth_access_token");
  EXPECT_EQ(out["account_id"], "acct-fake-1");
  EXPECT_EQ(out["headers"]["chatgpt-account-id"], "acct-fake-1");
  EXPECT_EQ(out["base_url"], "https://chatgpt.com/backend-api/codex");
  ProcessResult status_cli = Ctl({"auth", "status", "codex"});
  EXPECT_EQ(status_cli.exit_code, 0) << status_cli.err;
  EXPECT_THAT(status_cli.out, HasSubstr("openai-codex"));
}

TEST_F(SubscriptionTest, TheWatchStreamNamesTheCanonicalIdAndCarriesTheUsage) {
  StoreExpiredCodexCredential();
  WatchedApiKeyOptions options;
  options.socket_path = daemon_.socket_path();
  options.env_fallback = false;
  WatchedApiKey watched("codex", options);
  auto key = watched.Await(std::chrono::seconds(10));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->provider, "openai-codex");
  EXPECT_EQ(key->kind, ApiKeyKind::kOAuthAccessToken);
  EXPECT_THAT(key->headers, Contains(Pair("chatgpt-account-id", "acct-fake-1")));
}

class ConfiguredAliasTest : public SubscriptionTest {
 protected:
  void ConfigureMore(Json& config) override {
    config["aliases"] = {{"work-openai", "openai"}};
  }
};

TEST_F(ConfiguredAliasTest, AConfiguredAliasWorksAndOneThatShadowsAStoredIdStopsTheStart) {
  ASSERT_TRUE(client_->SetApiKey("work-openai", "sk-work-1").ok());
  EXPECT_EQ(Stored()["openai"]["key"], "sk-work-1");
  ProcessResult stopped = daemon_.Stop();
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;

  // Another tool stored a credential under the alias's name: serving it under the alias would
  // hand out another provider's key, so the daemon refuses to start and names the alias.
  Json stored = Stored();
  stored["work-openai"] = {{"type", "api_key"}, {"key", "sk-other"}};
  WriteStored(stored);
  absl::Status start = daemon_.Start();
  ASSERT_FALSE(start.ok());
  EXPECT_THAT(std::string(start.message()), HasSubstr("alias \"work-openai\""));
  EXPECT_THAT(std::string(start.message()), HasSubstr("shadows a credential stored"));
  EXPECT_THAT(std::string(start.message()), Not(HasSubstr("sk-other")));
}

TEST_F(ConfiguredAliasTest, AnAliasThatShadowsAProviderOrABuiltInAliasIsAStartError) {
  daemon_.Stop();
  Json config = Json::parse(ReadFileOrDie(daemon_.config_path()));
  config["aliases"] = {{"openai", "anthropic"}};
  daemon_.SetConfig(config.dump());
  absl::Status start = daemon_.Start();
  ASSERT_FALSE(start.ok());
  EXPECT_THAT(std::string(start.message()), HasSubstr("alias \"openai\" shadows the provider"));

  config["aliases"] = {{"claude", "anthropic"}};
  daemon_.SetConfig(config.dump());
  start = daemon_.Start();
  ASSERT_FALSE(start.ok());
  EXPECT_THAT(std::string(start.message()), HasSubstr("alias \"claude\" shadows the alias"));
}

// -------------------------------------------------------------------------------------------
// Google Code Assist project

// gemini-cli (packages/core/src/code_assist/setup.ts): without a currentTier, onboard to the
// default tier; the free tier is onboarded without a project, and the operation is polled
// (GET v1internal/{name}) until done.
TEST_F(SubscriptionTest, AGeminiCliLoginOnboardsTheFreeTierAndCallersGetTheProject) {
  LoginRun run = Login("gemini-cli");
  ASSERT_TRUE(run.status.ok()) << run.status.error_message() << daemon_.Log();
  ASSERT_TRUE(run.complete.has_value());
  EXPECT_EQ(run.complete->provider(), "google-gemini-cli");
  EXPECT_EQ(run.complete->project_id(), CodeAssistState::kFreeTierProjectId);
  EXPECT_THAT(run.progress, Contains(HasSubstr("Google's Gemini CLI terms")));
  EXPECT_THAT(run.complete->notes(), Contains(HasSubstr(CodeAssistState::kFreeTierProjectId)));
  EXPECT_EQ(Stored()["google-gemini-cli"]["project_id"], CodeAssistState::kFreeTierProjectId);

  auto load = fake_.Requests(kCodeAssistLoadPath);
  ASSERT_EQ(load.size(), 1u);
  EXPECT_EQ(load[0].json_body["metadata"]["ideType"], "IDE_UNSPECIFIED");
  EXPECT_EQ(load[0].json_body["metadata"]["platform"], "PLATFORM_UNSPECIFIED");
  EXPECT_EQ(load[0].json_body["metadata"]["pluginType"], "GEMINI");
  auto onboard = fake_.Requests(kCodeAssistOnboardPath);
  ASSERT_EQ(onboard.size(), 1u);
  EXPECT_EQ(onboard[0].json_body["tierId"], "free-tier");
  EXPECT_FALSE(onboard[0].json_body.contains("cloudaicompanionProject"));
  EXPECT_GE(fake_.RequestCount(kCodeAssistOperationPattern),
            CodeAssistState::kDefaultOperationPendingPolls + 1);

  auto key = client_->GetApiKey("google-gemini-cli");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->project_id, CodeAssistState::kFreeTierProjectId);
  EXPECT_EQ(key->base_url, fake_.base_url());
  EXPECT_EQ(fake_.RequestCount(kCodeAssistLoadPath), 1);  // the hot path asks nobody
}

TEST_F(SubscriptionTest, AStoredGoogleCredentialWithoutAProjectIsCompletedOnceForManyCallers) {
  fake_.SetCodeAssistScenario(CodeAssistScenario::kExistingProject);
  StoreGoogleCredentialWithoutProject("google-antigravity");
  constexpr int kCallers = 16;
  std::atomic<int> with_project{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      auto key = NewClient()->GetApiKey(i % 2 == 0 ? "antigravity" : "google-antigravity");
      if (key.ok() && key->project_id == CodeAssistState::kExistingProjectId) ++with_project;
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(with_project.load(), kCallers);
  EXPECT_EQ(fake_.RequestCount(kCodeAssistLoadPath), 1);
  EXPECT_EQ(fake_.RequestCount(kCodeAssistOnboardPath), 0);  // it had a current tier
  Json stored = Stored()["google-antigravity"];
  EXPECT_EQ(stored["project_id"], CodeAssistState::kExistingProjectId);
  EXPECT_EQ(stored["access"], "at-google-google-antigravity");  // the rest of the entry kept
  auto status = client_->GetAuthStatus("antigravity");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->project_id(), CodeAssistState::kExistingProjectId);
}

TEST_F(SubscriptionTest, PisProjectIdSpellingIsReadAndNoDiscoveryRuns) {
  fake_.AddAccessToken("at-pi");
  WriteStored({{"google-gemini-cli",
                {{"type", "oauth"},
                 {"access", "at-pi"},
                 {"refresh", "rt-pi"},
                 {"expires", InOneHourMs()},
                 {"projectId", "pi-project-7"}}}});
  auto key = client_->GetApiKey("gemini-cli");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->project_id, "pi-project-7");
  EXPECT_EQ(fake_.RequestCount(kCodeAssistLoadPath), 0);
}

TEST_F(SubscriptionTest, AnAccountThatNeedsItsOwnProjectIsToldToSetGoogleCloudProject) {
  fake_.SetCodeAssistScenario(CodeAssistScenario::kStandardTierNeedsProject);
  StoreGoogleCredentialWithoutProject("google-gemini-cli");
  auto key = client_->GetApiKey("gemini-cli");
  ASSERT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition) << key.status();
  EXPECT_THAT(std::string(key.status().message()), HasSubstr("GOOGLE_CLOUD_PROJECT"));
  EXPECT_THAT(std::string(key.status().message()), Not(HasSubstr("at-google")));
  // Remembered for this credential: asking again does not go to Google again.
  const int asked = fake_.RequestCount(kCodeAssistLoadPath);
  EXPECT_EQ(client_->GetApiKey("gemini-cli").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(fake_.RequestCount(kCodeAssistLoadPath), asked);
  ProcessResult token = Ctl({"auth", "token", "gemini-cli"});
  EXPECT_EQ(token.exit_code, 1);
  EXPECT_THAT(token.err, HasSubstr("GOOGLE_CLOUD_PROJECT"));

  // The user's own project, from the daemon's environment, is what onboarding then names.
  daemon_.Stop();
  daemon_.SetEnv("GOOGLE_CLOUD_PROJECT", "my-own-project-1");
  ASSERT_TRUE(daemon_.Start().ok()) << daemon_.Log();
  key = NewClient()->GetApiKey("gemini-cli");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->project_id, "my-own-project-1");
  auto onboard = fake_.Requests(kCodeAssistOnboardPath);
  ASSERT_FALSE(onboard.empty());
  EXPECT_EQ(onboard.back().json_body["cloudaicompanionProject"], "my-own-project-1");
  EXPECT_EQ(onboard.back().json_body["metadata"]["duetProject"], "my-own-project-1");
}

TEST_F(SubscriptionTest, AnIneligibleAccountGetsTheServersReasonWithoutItsControlCharacters) {
  fake_.SetCodeAssistScenario(CodeAssistScenario::kIneligible);
  StoreGoogleCredentialWithoutProject("google-gemini-cli");
  auto key = client_->GetApiKey("google-gemini-cli");
  ASSERT_EQ(key.status().code(), absl::StatusCode::kPermissionDenied) << key.status();
  const std::string message(key.status().message());
  EXPECT_THAT(message, HasSubstr("not eligible for Gemini Code Assist"));
  EXPECT_EQ(message.find('\x1b'), std::string::npos);
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_EQ(daemon_.Log().find('\x1b'), std::string::npos);
}

// -------------------------------------------------------------------------------------------
// GitHub Copilot

// pi-mono (packages/ai/src/utils/oauth/github-copilot.ts, enableGitHubCopilotModel): after the
// login, POST {base}/models/{id}/policy {"state":"enabled"} with the chat-policy headers.
TEST_F(SubscriptionTest, ACopilotLoginEnablesTheUnconfiguredModelsAndCallersGetBaseUrlAndHeaders) {
  LoginRun run = Login("copilot");
  ASSERT_TRUE(run.status.ok()) << run.status.error_message() << daemon_.Log();
  ASSERT_TRUE(run.complete.has_value());
  EXPECT_EQ(run.complete->provider(), "github-copilot");
  EXPECT_THAT(run.complete->notes(), Contains(HasSubstr("claude-sonnet-4")));
  std::map<std::string, std::string> states = fake_.CopilotModelPolicyStates();
  EXPECT_EQ(states["claude-sonnet-4"], "enabled");
  EXPECT_EQ(states["grok-code-fast-1"], "enabled");
  EXPECT_EQ(states["o3"], "disabled");  // the user's own choice stands
  auto policy = fake_.Requests(kCopilotModelPolicyPattern);
  ASSERT_EQ(policy.size(), 2u);
  EXPECT_EQ(policy[0].headers["openai-intent"], "chat-policy");
  EXPECT_EQ(policy[0].headers["x-interaction-type"], "chat-policy");
  EXPECT_EQ(policy[0].json_body["state"], "enabled");

  auto key = client_->GetApiKey("copilot");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->base_url, fake_.base_url());  // authd.json copilot_api_url
  EXPECT_THAT(key->headers, Contains(Pair("Copilot-Integration-Id", "vscode-chat")));
  EXPECT_THAT(key->headers, Contains(Pair("Editor-Version", ::testing::StartsWith("vscode/"))));
}

class CopilotWithoutApiOverrideTest : public SubscriptionTest {
 protected:
  void ConfigureMore(Json& config) override {
    config["oauth_providers"]["github-copilot"].erase("copilot_api_url");
  }
};

// pi-mono's getGitHubCopilotBaseUrl: the token's proxy-ep with proxy. -> api., else
// copilot-api.<enterprise>, else api.individual.githubcopilot.com.
TEST_F(CopilotWithoutApiOverrideTest, TheBaseUrlComesFromTheTokensProxyEndpoint) {
  WriteStored({{"github-copilot",
                {{"type", "oauth"},
                 {"access", "tid=1;exp=99;sku=x;proxy-ep=proxy.business.githubcopilot.com;8kp=1"},
                 {"refresh", "gho_unused"},
                 {"expires", InOneHourMs()}}}});
  auto key = client_->GetApiKey("copilot");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->base_url, "https://api.business.githubcopilot.com");

  WriteStored({{"github-copilot",
                {{"type", "oauth"},
                 {"access", "tid=1;exp=99;sku=x"},
                 {"refresh", "gho_unused"},
                 {"expires", InOneHourMs()},
                 {"enterpriseUrl", "ghe.example.com"}}}});  // pi's spelling
  key = NewClient()->GetApiKey("github-copilot");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->base_url, "https://copilot-api.ghe.example.com");
}

TEST_F(SubscriptionTest, ANewLoginReplacesTheStoredEntryInsteadOfMergingIntoIt) {
  WriteStored({{"github-copilot",
                {{"type", "oauth"},
                 {"access", "tid=old"},
                 {"refresh", "gho_old"},
                 // Still valid, so the background refresher leaves it alone and every token
                 // exchange seen below is the login's.
                 {"expires", InOneHourMs()},
                 {"enterprise_url", "old-ghe.example.com"},
                 {"note", "from an old login"}}}});
  const size_t before = fake_.Requests("/copilot_internal/v2/token").size();
  ASSERT_EQ(before, 0u);
  LoginRun run = Login("github-copilot");
  ASSERT_TRUE(run.status.ok()) << run.status.error_message();
  Json stored = Stored()["github-copilot"];
  EXPECT_FALSE(stored.contains("enterprise_url")) << stored.dump();
  EXPECT_FALSE(stored.contains("note"));
  // The new token went to github.com, never to the stale enterprise host.
  auto exchanges = fake_.Requests("/copilot_internal/v2/token");
  ASSERT_EQ(exchanges.size(), before + 1);
  EXPECT_EQ(exchanges.back().params.at("domain"), "github.com");
  auto key = client_->GetApiKey("github-copilot");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(fake_.Requests("/copilot_internal/v2/token").size(), before + 1);
}

TEST_F(SubscriptionTest, TheDaemonRefusesAnEnterpriseDomainThatIsNotAHost) {
  for (const std::string domain :
       {"github.com@evil.example/#", "ghe.example.com/x?y=1", "ghe example.com", "-ghe.com"}) {
    LoginRun run = Login("github-copilot", domain);
    EXPECT_EQ(run.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << domain;
    EXPECT_THAT(run.status.error_message(), Not(HasSubstr("evil")));
  }
  EXPECT_EQ(fake_.RequestCount("/device/code"), 0);
  // A host with a port, or a pasted URL, is fine.
  LoginRun ok = Login("github-copilot", "https://ghe.example.com:8443/");
  ASSERT_TRUE(ok.status.ok()) << ok.status.error_message();
  EXPECT_EQ(Stored()["github-copilot"]["enterprise_url"], "ghe.example.com:8443");
}

// -------------------------------------------------------------------------------------------
// OpenAI Codex

// codex-rs (codex-rs/login/src/device_code_auth.rs): usercode, then deviceauth/token polled while
// it answers 403, then the authorization code exchanged with redirect_uri
// {issuer}/deviceauth/callback and the server's code_verifier.
TEST_F(SubscriptionTest, CodexDeviceLoginThroughOperatorctl) {
  ProcessResult result = Ctl({"auth", "login", "codex", "--device", "--no-browser"});
  ASSERT_EQ(result.exit_code, 0) << result.err << daemon_.Log();
  EXPECT_THAT(result.out, HasSubstr("/codex/device"));
  EXPECT_THAT(result.out, HasSubstr("Logged in to openai-codex (account acct-fake-1)"));
  auto usercode = fake_.Requests(kCodexUserCodePath);
  ASSERT_EQ(usercode.size(), 1u);
  EXPECT_EQ(usercode[0].json_body["client_id"], "app_EMoamEEZ73f0CkXaXp7hrann");
  EXPECT_GE(fake_.RequestCount(kCodexDeviceTokenPath), 3);  // 2 pending, then approved
  auto token = fake_.Requests("/token");
  ASSERT_EQ(token.size(), 1u);
  EXPECT_EQ(token[0].params["grant_type"], "authorization_code");
  EXPECT_EQ(token[0].params["redirect_uri"], fake_.base_url() + kCodexDeviceRedirectPath);
  Json stored = Stored()["openai-codex"];
  EXPECT_EQ(stored["account_id"], "acct-fake-1");
  EXPECT_THAT(result.out + result.err, Not(HasSubstr(stored["access"].get<std::string>())));

  // A provider without a device login says so.
  ProcessResult claude = Ctl({"auth", "login", "claude", "--device", "--no-browser"});
  EXPECT_NE(claude.exit_code, 0);
  EXPECT_THAT(claude.err, HasSubstr("no device-code login"));
}

// codex-rs (codex-rs/login/src/auth/revoke.rs): a JSON body with the refresh token,
// token_type_hint and client_id.
TEST_F(SubscriptionTest, CodexLogoutRevokesWithTheJsonBodyCodexSends) {
  StoreExpiredCodexCredential();
  ASSERT_TRUE(client_->GetApiKey("codex").ok());
  const std::string refresh = Stored()["openai-codex"]["refresh"];
  ProcessResult unset = Ctl({"auth", "unset", "codex"});
  ASSERT_EQ(unset.exit_code, 0) << unset.err;
  auto revoke = fake_.Requests("/revoke");
  ASSERT_EQ(revoke.size(), 1u);
  EXPECT_THAT(revoke[0].content_type, HasSubstr("application/json"));
  EXPECT_EQ(revoke[0].json_body["token"], refresh);
  EXPECT_EQ(revoke[0].json_body["token_type_hint"], "refresh_token");
  EXPECT_EQ(revoke[0].json_body["client_id"], "app_EMoamEEZ73f0CkXaXp7hrann");
}

// -------------------------------------------------------------------------------------------
// Anthropic, user agents, dead grants, disabled providers

TEST_F(SubscriptionTest, AnthropicStateIsItsOwnRandomValueNeverTheVerifier) {
  LoginRun run = Login("claude");
  ASSERT_TRUE(run.status.ok()) << run.status.error_message();
  EXPECT_THAT(run.progress, Contains(HasSubstr("Anthropic allows Claude Pro/Max")));
  auto token = fake_.Requests("/token");
  ASSERT_EQ(token.size(), 1u);
  const std::string verifier = token[0].params["code_verifier"];
  const std::string state = token[0].params["state"];
  ASSERT_FALSE(verifier.empty());
  ASSERT_FALSE(state.empty());
  EXPECT_NE(state, verifier);
  EXPECT_THAT(run.auth_url, HasSubstr("state=" + state));
  EXPECT_THAT(run.auth_url, Not(HasSubstr(verifier)));
  auto key = client_->GetApiKey("claude");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_THAT(key->headers, Contains(Pair("anthropic-beta", HasSubstr("oauth-2025-04-20"))));
}

class UserAgentTest : public SubscriptionTest {
 protected:
  void ConfigureMore(Json& config) override {
    config["oauth_providers"]["openai-codex"]["user_agent"] = "operator-authd-test/1.0";
  }
};

TEST_F(UserAgentTest, TheConfiguredUserAgentGoesWithEveryRequestToTheProvider) {
  StoreExpiredCodexCredential();
  ASSERT_TRUE(client_->GetApiKey("codex").ok());
  auto token = fake_.Requests("/token");
  ASSERT_EQ(token.size(), 1u);
  EXPECT_EQ(token[0].headers["user-agent"], "operator-authd-test/1.0");
}

// Only invalid_grant says the refresh token is dead. A 401 invalid_client (a proxy, a wrong
// client id) backs off and keeps the login.
TEST_F(SubscriptionTest, ARefusalThatIsNotADeadGrantBacksOffInsteadOfForcingALogin) {
  StoreExpiredCodexCredential();
  fake_.SetFault("/token", {Fault::kUnauthorized});
  auto key = client_->GetApiKey("codex");
  EXPECT_EQ(key.status().code(), absl::StatusCode::kUnavailable) << key.status();
  auto status = client_->GetAuthStatus("codex");
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->needs_login());
  EXPECT_EQ(status->refresh_state(), "backoff");

  fake_.SetFault("/token", {Fault::kInvalidGrant});
  daemon_.Stop();  // forget the back-off
  ASSERT_TRUE(daemon_.Start().ok());
  auto client = NewClient();
  EXPECT_EQ(client->GetApiKey("codex").status().code(), absl::StatusCode::kUnauthenticated)
      << daemon_.Log();
  status = client->GetAuthStatus("codex");
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->needs_login());
}

class DisabledProviderTest : public SubscriptionTest {
 protected:
  void ConfigureMore(Json& config) override {
    config["oauth_providers"]["google-antigravity"] = {{"disabled", true}};
  }
};

TEST_F(DisabledProviderTest, ADisabledBuiltInIsGoneWithItsAlias) {
  auto list = client_->ListProviders();
  ASSERT_TRUE(list.ok());
  for (const v1::ProviderInfo& p : list->providers()) EXPECT_NE(p.id(), "google-antigravity");
  LoginRun run = Login("antigravity");
  EXPECT_EQ(run.status.error_code(), grpc::StatusCode::NOT_FOUND);
  run = Login("google-antigravity");
  EXPECT_EQ(run.status.error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace operator_auth::testing
