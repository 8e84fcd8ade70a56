// WatchApiKey and the C++ WatchedApiKey against the real daemon: the first value, every kind of
// change, an OAuth refresh, a daemon restart, a bad id, and a watcher that stops reading.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "operator_auth/watched_api_key.h"
#include "tests/fake_oauth/fake_oauth_server.h"
#include "tests/integration/daemon_fixture.h"
#include "tests/support/eventually.h"

namespace operator_auth::testing {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

class WatchTest : public DaemonTest {
 protected:
  void SetUp() override {
    fake_.Start();
    daemon_.SetConfig(LoopbackOnlyConfig(fake_.base_url()));
    DaemonTest::SetUp();
  }

  std::unique_ptr<WatchedApiKey> Watch(const std::string& provider) {
    WatchedApiKeyOptions options;
    options.socket_path = daemon_.socket_path();
    options.env_fallback = false;
    options.max_backoff = std::chrono::milliseconds(200);
    return std::make_unique<WatchedApiKey>(provider, options);
  }

  static bool Holds(const WatchedApiKey& watched, const std::string& key) {
    absl::StatusOr<ApiKey> got = watched.Get();
    return got.ok() && got->key == key;
  }

  FakeOAuthServer fake_;
};

TEST_F(WatchTest, FirstValueThenSetRuntimeOverrideUnsetAndLogout) {
  ASSERT_TRUE(client_->SetApiKey("openai", "sk-watch-1").ok());
  std::unique_ptr<WatchedApiKey> watched = Watch("openai");
  absl::StatusOr<ApiKey> first = watched->Await(std::chrono::seconds(10));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->key, "sk-watch-1");
  EXPECT_EQ(first->source, ApiKeySource::kDaemonStored);

  ASSERT_TRUE(client_->SetApiKey("openai", "sk-watch-2").ok());
  EXPECT_TRUE(Eventually([&] { return Holds(*watched, "sk-watch-2"); }));

  ASSERT_TRUE(client_->SetRuntimeApiKey("openai", "sk-runtime").ok());
  EXPECT_TRUE(Eventually([&] { return Holds(*watched, "sk-runtime"); }));
  EXPECT_EQ(watched->Get()->source, ApiKeySource::kDaemonRuntime);
  ASSERT_TRUE(client_->SetRuntimeApiKey("openai", "").ok());
  EXPECT_TRUE(Eventually([&] { return Holds(*watched, "sk-watch-2"); }));

  ASSERT_TRUE(client_->Logout("openai").ok());
  EXPECT_TRUE(Eventually([&] { return absl::IsNotFound(watched->Get().status()); }))
      << watched->Get().status();
  EXPECT_THAT(std::string(watched->Get().status().message()), HasSubstr("OPENAI_API_KEY"));
}

TEST_F(WatchTest, ExternalEditByPythonReachesTheWatcher) {
  ASSERT_TRUE(client_->SetApiKey("openai", "sk-before-python").ok());
  std::unique_ptr<WatchedApiKey> watched = Watch("openai");
  ASSERT_TRUE(watched->Await(std::chrono::seconds(10)).ok());
  ProcessOptions options;
  options.stdin_data = "sk-from-python";
  ASSERT_EQ(RunProcess(PyWriterArgv({"set", "openai"}), options).exit_code, 0);
  // Nobody calls GetApiKey: the daemon notices the edit by itself (inotify) and pushes it.
  EXPECT_TRUE(Eventually([&] { return Holds(*watched, "sk-from-python"); }));
}

TEST_F(WatchTest, ExpiredTokenIsRefreshedAndTheStaleOneNeverHandedOut) {
  fake_.AddRefreshToken("rt-watch");
  WriteFileOrDie(daemon_.providers_path(),
                 Json{{"openai-codex",
                       {{"type", "oauth"},
                        {"access", "at-stale-watch"},
                        {"refresh", "rt-watch"},
                        {"expires", absl::ToUnixMillis(absl::Now() - absl::Minutes(1))}}}}
                     .dump());
  std::unique_ptr<WatchedApiKey> watched = Watch("openai-codex");
  absl::StatusOr<ApiKey> key = watched->Await(std::chrono::seconds(10));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_NE(key->key, "at-stale-watch");
  EXPECT_GT(key->expires_unix_ms, absl::ToUnixMillis(absl::Now()));
  EXPECT_EQ(fake_.GrantCount("refresh_token"), 1);
  Json stored = Json::parse(ReadFileOrDie(daemon_.providers_path()))["openai-codex"];
  EXPECT_EQ(key->key, stored["access"]);
}

TEST_F(WatchTest, ReconnectsAfterADaemonRestartAndSeesWhatChanged) {
  ASSERT_TRUE(client_->SetApiKey("openai", "sk-old-daemon").ok());
  std::unique_ptr<WatchedApiKey> watched = Watch("openai");
  ASSERT_TRUE(watched->Await(std::chrono::seconds(10)).ok());
  ASSERT_TRUE(Eventually([&] { return watched->connected(); }));

  ASSERT_EQ(daemon_.Stop().exit_code, 0);
  EXPECT_TRUE(Eventually([&] { return !watched->connected(); }));
  // The last key stays served while the daemon is away.
  EXPECT_TRUE(Holds(*watched, "sk-old-daemon"));
  WriteFileOrDie(daemon_.providers_path(),
                 R"({"openai": {"type": "api_key", "key": "sk-new-daemon"}})");
  ASSERT_TRUE(daemon_.Start().ok()) << daemon_.Log();
  EXPECT_TRUE(Eventually([&] { return Holds(*watched, "sk-new-daemon"); }));
  EXPECT_TRUE(watched->connected());
}

TEST_F(WatchTest, BadProviderIdIsRefused) {
  std::unique_ptr<WatchedApiKey> watched = Watch("Not A Valid Id!");
  absl::StatusOr<ApiKey> key = watched->Await(std::chrono::seconds(10));
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument) << key.status();
}

TEST_F(WatchTest, AWatcherThatStopsReadingHoldsUpNoOne) {
  ASSERT_TRUE(client_->SetApiKey("openai", "sk-start").ok());
  auto channel =
      grpc::CreateChannel("unix:" + daemon_.socket_path(), grpc::InsecureChannelCredentials());
  auto stub = v1::AuthService::NewStub(channel);
  grpc::ClientContext stalled_context;
  v1::WatchApiKeyRequest request;
  request.set_provider("openai");
  auto stalled = stub->WatchApiKey(&stalled_context, request);  // never read

  std::unique_ptr<WatchedApiKey> watched = Watch("openai");
  ASSERT_TRUE(watched->Await(std::chrono::seconds(10)).ok());
  // 8 KiB keys, 200 of them: far more than the HTTP/2 windows a stalled reader can absorb.
  std::string last;
  for (int i = 0; i < 200; ++i) {
    last = std::string(8000, static_cast<char>('a' + i % 26)) + std::to_string(i);
    ASSERT_TRUE(client_->SetApiKey("openai", last).ok()) << i;
  }
  EXPECT_TRUE(Eventually([&] { return Holds(*watched, last); }, absl::Seconds(10)));
  stalled_context.TryCancel();
}

// The client-side guarantees against a stand-in daemon whose stream goes quiet: a key whose
// expiry passes is not handed out.
class QuietDaemon final : public v1::AuthService::Service {
 public:
  explicit QuietDaemon(int64_t expires_unix_ms) : expires_unix_ms_(expires_unix_ms) {}
  grpc::Status WatchApiKey(grpc::ServerContext* context, const v1::WatchApiKeyRequest*,
                           grpc::ServerWriter<v1::ApiKeyUpdate>* writer) override {
    v1::ApiKeyUpdate update;
    update.set_present(true);
    update.set_key("at-short-lived");
    update.set_source(v1::CREDENTIAL_SOURCE_STORED);
    update.set_expires_unix_ms(expires_unix_ms_);
    writer->Write(update);
    while (!context->IsCancelled()) absl::SleepFor(absl::Milliseconds(10));
    return grpc::Status::CANCELLED;
  }

 private:
  const int64_t expires_unix_ms_;
};

TEST(WatchedApiKeyTest, AKeyPastItsExpiryIsNotHandedOut) {
  TempDir dir;
  const std::string socket = dir.Sub("quiet.sock");
  QuietDaemon service(absl::ToUnixMillis(absl::Now() + absl::Milliseconds(400)));
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  WatchedApiKeyOptions options;
  options.socket_path = socket;
  options.env_fallback = false;
  WatchedApiKey watched("openai-codex", options);
  absl::StatusOr<ApiKey> key = watched.Await(std::chrono::seconds(5));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "at-short-lived");
  EXPECT_TRUE(Eventually([&] { return !watched.Get().ok(); }, absl::Seconds(5)));
  EXPECT_TRUE(absl::IsUnavailable(watched.Get().status())) << watched.Get().status();
  EXPECT_THAT(std::string(watched.Get().status().message()), HasSubstr("expired"));
  absl::StatusOr<ApiKey> waited = watched.Await(std::chrono::milliseconds(100));
  EXPECT_TRUE(absl::IsUnavailable(waited.status()));
  server->Shutdown(std::chrono::system_clock::now());
}

TEST(WatchedApiKeyTest, CallerEnvironmentStandsInWhenNoDaemonAnswers) {
  TempDir dir;
  setenv("WATCHTESTPROVIDER_API_KEY", "sk-caller-env", 1);
  WatchedApiKeyOptions options;
  options.socket_path = dir.Sub("nobody.sock");
  WatchedApiKey watched("watchtestprovider", options);
  absl::StatusOr<ApiKey> key = watched.Get();
  unsetenv("WATCHTESTPROVIDER_API_KEY");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "sk-caller-env");
  EXPECT_EQ(key->source, ApiKeySource::kCallerEnv);
  EXPECT_THAT(key->label, HasSubstr("unreachable"));
}

}  // namespace
}  // namespace operator_auth::testing
