// OAuth refresh and logout end to end: the real daemon, a real fake provider on 127.0.0.1, and
// real Python processes that refresh under py-filelock beside the daemon.
#include <openssl/sha.h>

#include <atomic>
#include <cstdio>
#include <future>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "tests/fake_oauth/fake_oauth_server.h"
#include "tests/integration/daemon_fixture.h"

namespace operator_auth::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

class OAuthTest : public DaemonTest {
 protected:
  void SetUp() override {
    fake_.Start();
    daemon_.SetConfig(LoopbackOnlyConfig(fake_.base_url()));
    DaemonTest::SetUp();
  }

  // Stores an OAuth credential for `provider` expiring `seconds` from now, with a refresh token
  // the fake accepts once.
  Json StoreOAuth(const std::string& provider, const std::string& refresh, int seconds,
                  Json extra_fields = Json::object()) {
    fake_.AddRefreshToken(refresh);
    Json entry = {{"type", "oauth"},
                  {"access", "at-stale-" + provider},
                  {"refresh", refresh},
                  {"expires", absl::ToUnixMillis(absl::Now() + absl::Seconds(seconds))}};
    entry.update(extra_fields);
    Json file = PathExists(daemon_.providers_path())
                    ? Json::parse(ReadFileOrDie(daemon_.providers_path()))
                    : Json::object();
    file[provider] = entry;
    WriteFileOrDie(daemon_.providers_path(), file.dump());
    return file;
  }

  Json StoredEntry(const std::string& provider) {
    return Json::parse(ReadFileOrDie(daemon_.providers_path()))[provider];
  }

  FakeOAuthServer fake_;
};

TEST_F(OAuthTest, ThousandConcurrentCallersOnAnExpiredTokenRefreshOnce) {
  // A slow endpoint keeps the refresh in flight while every call arrives. (Faults are set
  // before the credential is stored: the background refresher may look at any moment.)
  fake_.SetFault("/token", {Fault::kDelay, 300, 1});
  StoreOAuth("openai-codex", "rt-storm", -60);

  constexpr int kCallers = 1000;
  auto channel =
      grpc::CreateChannel("unix:" + daemon_.socket_path(), grpc::InsecureChannelCredentials());
  auto stub = v1::AuthService::NewStub(channel);
  struct Call {
    grpc::ClientContext context;
    v1::GetApiKeyRequest request;
    v1::GetApiKeyResponse response;
    grpc::Status status;
  };
  std::vector<std::unique_ptr<Call>> calls;
  std::atomic<int> finished{0};
  std::promise<void> all_done;
  for (int i = 0; i < kCallers; ++i) {
    auto call = std::make_unique<Call>();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    call->request.set_provider("openai-codex");
    Call* c = call.get();
    calls.push_back(std::move(call));
    stub->async()->GetApiKey(&c->context, &c->request, &c->response,
                             [c, &finished, &all_done](grpc::Status s) {
                               c->status = std::move(s);
                               if (++finished == kCallers) all_done.set_value();
                             });
  }
  ASSERT_EQ(all_done.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);

  EXPECT_EQ(fake_.GrantCount("refresh_token"), 1);
  EXPECT_EQ(fake_.InvalidGrantCount(), 0);
  Json stored = StoredEntry("openai-codex");
  const std::string fresh = stored["access"];
  EXPECT_NE(fresh, "at-stale-openai-codex");
  EXPECT_NE(stored["refresh"], "rt-storm");  // rotated, and the new one kept
  EXPECT_EQ(stored["account_id"], "acct-fake-1");
  int ok = 0;
  for (const auto& c : calls) {
    if (c->status.ok() && c->response.key() == fresh) ++ok;
  }
  EXPECT_EQ(ok, kCallers);
}

TEST_F(OAuthTest, DaemonAndFourPythonProcessesRefreshExactlyOnce) {
  fake_.SetFault("/token", {Fault::kDelay, 200, 1});
  StoreOAuth("openai-codex", "rt-shared", -60);
  const std::string go = dir_.Sub("go");
  std::vector<std::unique_ptr<ChildProcess>> pythons;
  for (int i = 0; i < 4; ++i) {
    pythons.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{AUTHD_PYTHON3, AUTHD_PY_REFRESHER, daemon_.auth_dir(),
                                 "openai-codex", fake_.base_url() + "/token",
                                 "app_EMoamEEZ73f0CkXaXp7hrann", go},
        ProcessOptions{}));
  }
  absl::SleepFor(absl::Milliseconds(300));  // let the interpreters start and wait for "go"
  WriteFileOrDie(go, "");
  auto daemon_key = client_->GetApiKey("openai-codex");

  std::vector<std::string> digests;
  for (auto& p : pythons) {
    ProcessResult r = p->Wait(absl::Seconds(30));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    digests.push_back(Json::parse(r.out)["access_sha"]);
  }
  ASSERT_TRUE(daemon_key.ok()) << daemon_key.status();
  EXPECT_EQ(fake_.GrantCount("refresh_token"), 1);
  EXPECT_EQ(fake_.InvalidGrantCount(), 0);
  const std::string fresh = StoredEntry("openai-codex")["access"];
  EXPECT_EQ(daemon_key->key, fresh);
  for (const std::string& d : digests) EXPECT_EQ(d, Sha256Hex(fresh));
  auto status = client_->GetAuthStatus("openai-codex");
  EXPECT_FALSE(status->needs_login());
  EXPECT_TRUE(status->configured());
}

TEST_F(OAuthTest, OpenAICodexRefreshIsFormEncodedAndKeepsTheAccountId) {
  StoreOAuth("openai-codex", "rt-codex", -60);
  auto key = client_->GetApiKey("openai-codex");
  ASSERT_TRUE(key.ok()) << key.status();
  auto requests = fake_.Requests("/token");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(requests[0].params["grant_type"], "refresh_token");
  EXPECT_EQ(requests[0].params["refresh_token"], "rt-codex");
  EXPECT_EQ(requests[0].params["client_id"], "app_EMoamEEZ73f0CkXaXp7hrann");
  Json stored = StoredEntry("openai-codex");
  EXPECT_EQ(stored["account_id"], "acct-fake-1");
  EXPECT_EQ(client_->GetAuthStatus("openai-codex")->account_id(), "acct-fake-1");
}

TEST_F(OAuthTest, AnthropicRefreshIsJson) {
  StoreOAuth("anthropic-claude-code", "rt-anthropic", -60);
  ASSERT_TRUE(client_->GetApiKey("anthropic-claude-code").ok());
  auto requests = fake_.Requests("/token");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].content_type, "application/json");
  EXPECT_EQ(requests[0].params["client_id"], "9d1c250a-e61b-44d9-88ed-5944d1962f5e");
  EXPECT_EQ(requests[0].params["refresh_token"], "rt-anthropic");
  // Anthropic's own tools count a token expired five minutes early; so do we.
  int64_t expires = StoredEntry("anthropic-claude-code")["expires"];
  EXPECT_LT(expires, absl::ToUnixMillis(absl::Now() + absl::Seconds(3600 - 290)));
}

TEST_F(OAuthTest, GoogleRefreshSendsTheClientSecretAndKeepsProjectFields) {
  StoreOAuth("google-gemini-cli", "rt-google", -60, {{"project_id", "my-project"}});
  ASSERT_TRUE(client_->GetApiKey("google-gemini-cli").ok());
  auto requests = fake_.Requests("/token");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(requests[0].params["client_secret"], "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");
  EXPECT_EQ(StoredEntry("google-gemini-cli")["project_id"], "my-project");
}

TEST_F(OAuthTest, CopilotRefreshExchangesTheGithubTokenOnTheEnterpriseHost) {
  fake_.AddGithubToken("gho-enterprise");
  Json file = {{"github-copilot",
                {{"type", "oauth"},
                 {"access", "tid=old"},
                 {"refresh", "gho-enterprise"},
                 {"expires", absl::ToUnixMillis(absl::Now()) - 1000},
                 {"enterprise_url", "ghe.example.com"}}}};
  WriteFileOrDie(daemon_.providers_path(), file.dump());
  auto key = client_->GetApiKey("github-copilot");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_THAT(key->key, HasSubstr("tid=copilot-"));
  auto requests = fake_.Requests("/copilot_internal/v2/token");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].params["domain"], "ghe.example.com");
  EXPECT_EQ(requests[0].headers["authorization"], "Bearer gho-enterprise");
  EXPECT_EQ(requests[0].headers["copilot-integration-id"], "vscode-chat");
  Json stored = StoredEntry("github-copilot");
  EXPECT_EQ(stored["refresh"], "gho-enterprise");  // the GitHub token stays
  EXPECT_EQ(stored["enterprise_url"], "ghe.example.com");
  EXPECT_EQ(fake_.GrantCount("refresh_token"), 0);
}

TEST_F(OAuthTest, CustomProviderFromConfigSpeaksPlainOAuth) {
  daemon_.Stop();
  Json config = Json::parse(LoopbackOnlyConfig(fake_.base_url()));
  config["oauth_providers"]["my-idp"] = {{"name", "My IdP"},
                                         {"flow", "authorization_code"},
                                         {"authorize_url", fake_.base_url() + "/authorize"},
                                         {"token_url", fake_.base_url() + "/token"},
                                         {"client_id", "my-client"},
                                         {"redirect_uri", "http://localhost:40123/cb"},
                                         {"token_request_format", "json"}};
  daemon_.SetConfig(config.dump());
  ASSERT_TRUE(daemon_.Start().ok()) << daemon_.Log();
  StoreOAuth("my-idp", "rt-custom", -60);
  auto key = NewClient()->GetApiKey("my-idp");
  ASSERT_TRUE(key.ok()) << key.status();
  auto requests = fake_.Requests("/token");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].content_type, "application/json");
  EXPECT_EQ(requests[0].params["client_id"], "my-client");
  auto list = NewClient()->ListProviders();
  bool listed = false;
  for (const auto& p : list->providers()) {
    if (p.id() == "my-idp") {
      listed = true;
      EXPECT_EQ(p.kind(), v1::PROVIDER_KIND_OAUTH);
      EXPECT_EQ(p.display_name(), "My IdP");
    }
  }
  EXPECT_TRUE(listed);
}

TEST_F(OAuthTest, BadConfigIsAClearStartUpError) {
  daemon_.Stop();
  daemon_.SetConfig(R"({"oauth_providers": {"openai-codex": {"flow": "telepathy"}}})");
  absl::Status started = daemon_.Start();
  EXPECT_FALSE(started.ok());
  EXPECT_THAT(std::string(started.message()), HasSubstr("oauth_providers.openai-codex.flow"));
}

TEST_F(OAuthTest, DeadRefreshTokenNeedsLoginAndKeepsTheCredential) {
  fake_.SetFault("/token", {Fault::kInvalidGrant, 0, -1});
  Json before = StoreOAuth("openai-codex", "rt-dead", -60);
  auto key = client_->GetApiKey("openai-codex");
  EXPECT_TRUE(absl::IsUnauthenticated(key.status())) << key.status();
  EXPECT_THAT(std::string(key.status().message()), HasSubstr("invalid_grant"));
  EXPECT_THAT(std::string(key.status().message()), Not(HasSubstr("rt-dead")));
  auto status = client_->GetAuthStatus("openai-codex");
  EXPECT_TRUE(status->needs_login());
  EXPECT_FALSE(status->configured());
  EXPECT_EQ(status->refresh_state(), "needs_login");
  EXPECT_EQ(Json::parse(ReadFileOrDie(daemon_.providers_path())), before);
  // No hammering of the provider with a dead token.
  EXPECT_FALSE(client_->GetApiKey("openai-codex").ok());
  EXPECT_EQ(fake_.RequestCount("/token"), 1);
  ProcessResult ctl = Ctl({"auth", "status", "openai-codex"});
  EXPECT_THAT(ctl.out, HasSubstr("needs login"));
}

TEST_F(OAuthTest, TransientFaultsKeepTheCredentialAndBackOff) {
  for (Fault fault : {Fault::kServerError, Fault::kGarbage, Fault::kDelay}) {
    SCOPED_TRACE(static_cast<int>(fault));
    daemon_.Stop();
    Json config = Json::parse(LoopbackOnlyConfig(fake_.base_url()));
    config["oauth_providers"]["openai-codex"]["request_timeout_ms"] = 300;
    daemon_.SetConfig(config.dump());
    // A fresh file each round: the daemon's background refresher would renew last round's
    // expired token the moment it starts.
    std::remove(daemon_.providers_path().c_str());
    ASSERT_TRUE(daemon_.Start().ok());
    fake_.Reset();
    fake_.SetFault("/token", {fault, fault == Fault::kDelay ? 2000 : 0, -1});
    Json before = StoreOAuth("openai-codex", "rt-transient", -60);
    auto client = NewClient();
    auto key = client->GetApiKey("openai-codex");
    EXPECT_TRUE(absl::IsUnavailable(key.status()) || absl::IsDeadlineExceeded(key.status()))
        << key.status();
    EXPECT_EQ(Json::parse(ReadFileOrDie(daemon_.providers_path())), before);
    auto status = client->GetAuthStatus("openai-codex");
    EXPECT_EQ(status->refresh_state(), "backoff");
    EXPECT_FALSE(status->needs_login());
    EXPECT_FALSE(status->refresh_error().empty());
    // Within the back-off window nobody calls the endpoint again.
    EXPECT_FALSE(client->GetApiKey("openai-codex").ok());
    EXPECT_EQ(fake_.RequestCount("/token"), 1);
    fake_.SetFault("/token", {});
  }
}

TEST_F(OAuthTest, LogoutRevokesAtTheProviderAndRemoves) {
  StoreOAuth("openai-codex", "rt-revoke-me", 3600);
  ProcessResult unset = Ctl({"auth", "unset", "openai-codex"});
  EXPECT_EQ(unset.exit_code, 0) << unset.err;
  EXPECT_THAT(unset.out, HasSubstr("Revoked"));
  EXPECT_THAT(fake_.RevokedTokens(), ::testing::Contains("rt-revoke-me"));
  EXPECT_FALSE(Json::parse(ReadFileOrDie(daemon_.providers_path())).contains("openai-codex"));
}

TEST_F(OAuthTest, FailedRevocationStillRemovesLocally) {
  fake_.SetFault("/revoke", {Fault::kServerError, 0, -1});
  StoreOAuth("openai-codex", "rt-keep-trying", 3600);
  auto result = client_->Logout("openai-codex");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->removed());
  EXPECT_FALSE(result->revoked());
  EXPECT_THAT(result->revocation_error(), HasSubstr("HTTP 500"));
  EXPECT_FALSE(Json::parse(ReadFileOrDie(daemon_.providers_path())).contains("openai-codex"));
}

}  // namespace
}  // namespace operator_auth::testing

namespace operator_auth::testing {
namespace {

TEST_F(OAuthTest, BackgroundRefresherRenewsATokenBeforeItExpires) {
  daemon_.Stop();
  daemon_.AddArgs({"--refresh-check-seconds", "1"});
  ASSERT_TRUE(daemon_.Start().ok());
  // Four minutes left is inside the five-minute window: the daemon renews it unasked.
  StoreOAuth("openai-codex", "rt-proactive", 4 * 60);
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (fake_.GrantCount("refresh_token") == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(fake_.GrantCount("refresh_token"), 1);
  absl::SleepFor(absl::Milliseconds(300));  // let the write land and the next look schedule
  auto client = NewClient();
  auto key = client->GetApiKey("openai-codex");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, StoredEntry("openai-codex")["access"]);
  EXPECT_EQ(fake_.GrantCount("refresh_token"), 1);  // GetApiKey did not go to the network
  auto status = client->GetAuthStatus("openai-codex");
  EXPECT_GT(status->last_refresh_unix_ms(), 0);
  // The background refresher plans the next renewal of the new token within a few seconds.
  deadline = absl::Now() + absl::Seconds(10);
  while (status->next_refresh_unix_ms() <= absl::ToUnixMillis(absl::Now()) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    status = client->GetAuthStatus("openai-codex");
  }
  EXPECT_GT(status->next_refresh_unix_ms(), absl::ToUnixMillis(absl::Now()));
}

}  // namespace
}  // namespace operator_auth::testing
