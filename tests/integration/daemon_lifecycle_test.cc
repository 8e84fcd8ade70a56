// The daemon as a process: one instance per socket, peer uid check, signals, file modes.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "operator_auth/watched_api_key.h"
#include "tests/integration/daemon_fixture.h"
#include "tests/support/run_as_nobody.h"

namespace operator_auth::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

using DaemonLifecycleTest = DaemonTest;

TEST_F(DaemonLifecycleTest, SocketIs0600InA0700Directory) {
  EXPECT_EQ(FileMode(daemon_.socket_path()), 0600);
  EXPECT_EQ(FileMode(dir_.Sub("run")), 0700);
  EXPECT_EQ(FileMode(daemon_.auth_dir()), 0700);
}

TEST_F(DaemonLifecycleTest, SecondDaemonOnTheSameSocketIsRefusedAndTheFirstKeepsServing) {
  ASSERT_TRUE(client_->SetApiKey("openai", "sk-first").ok());
  ProcessOptions options;
  options.timeout = absl::Seconds(10);
  ProcessResult second = RunProcess(
      {AUTHD_DAEMON_PATH, "--home", dir_.Sub("home2"), "--socket", daemon_.socket_path()}, options);
  EXPECT_FALSE(second.timed_out);
  EXPECT_NE(second.exit_code, 0);
  EXPECT_THAT(second.err, HasSubstr("another operator-authd is already serving"));
  EXPECT_THAT(second.err, HasSubstr(daemon_.socket_path()));
  // Same socket file, still ours, still answering.
  EXPECT_TRUE(SocketAccepts(daemon_.socket_path()));
  auto key = client_->GetApiKey("openai");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "sk-first");
}

TEST_F(DaemonLifecycleTest, StaleSocketFromACrashIsReplaced) {
  daemon_.Signal(SIGKILL);
  daemon_.Stop();
  ASSERT_TRUE(PathExists(daemon_.socket_path()));  // a crash leaves the socket behind
  ASSERT_TRUE(daemon_.Start().ok()) << daemon_.Log();
  EXPECT_TRUE(NewClient()->SetApiKey("openai", "sk-after-crash").ok());
}

TEST_F(DaemonLifecycleTest, SigtermFinishesRemovesTheSocketAndExitsZero) {
  ASSERT_TRUE(client_->SetApiKey("openai", "sk-1").ok());
  ProcessResult result = daemon_.Stop();
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(PathExists(daemon_.socket_path()));
  EXPECT_THAT(result.err, HasSubstr("received SIGTERM"));
}

TEST_F(DaemonLifecycleTest, SigintAlsoExitsCleanly) {
  daemon_.Signal(SIGINT);
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (PathExists(daemon_.socket_path()) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_FALSE(PathExists(daemon_.socket_path()));
  ProcessResult result = daemon_.Stop();
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST_F(DaemonLifecycleTest, PeerWithAnotherUidIsRefusedAtAccept) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a client as another uid";
  ASSERT_TRUE(client_->SetApiKey("openai", "sk-not-for-nobody").ok());
  ProcessResult as_nobody = RunOperatorctlAsNobody(AUTHD_CTL_PATH, dir_, daemon_.socket_path(),
                                                   {"auth", "token", "openai"});
  EXPECT_EQ(as_nobody.exit_code, 3) << as_nobody.out << as_nobody.err;
  EXPECT_THAT(as_nobody.out, ::testing::Not(HasSubstr("sk-not-for-nobody")));
  EXPECT_THAT(daemon_.Log(), HasSubstr("refused a connection from the overflow uid 65534"));
  EXPECT_THAT(daemon_.Log(), ::testing::Not(HasSubstr("sk-not-for-nobody")));
  // Our own uid is still served.
  ProcessResult as_us = Ctl({"auth", "token", "openai"});
  EXPECT_EQ(as_us.exit_code, 0) << as_us.err;
  EXPECT_EQ(as_us.out, "sk-not-for-nobody\n");
}

TEST_F(DaemonLifecycleTest, CoreDumpsAreDisabled) {
  std::string limits = ReadFileOrDie("/proc/" + std::to_string(daemon_.pid()) + "/limits");
  EXPECT_THAT(limits, ::testing::ContainsRegex("Max core file size +0 +0"));
}

TEST_F(DaemonLifecycleTest, DaemonStatusReportsIdentityFilesAndRequestCounts) {
  ASSERT_TRUE(client_->SetApiKey("openai", "sk-status").ok());
  ASSERT_TRUE(client_->GetApiKey("openai").ok());
  EXPECT_EQ(client_->GetApiKey("mistral").status().code(), absl::StatusCode::kNotFound);

  ProcessResult json = Ctl({"daemon", "status", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err << json.out;
  EXPECT_THAT(json.out, Not(HasSubstr("sk-status")));
  Json status = Json::parse(json.out);
  EXPECT_EQ(status["pid"], std::to_string(daemon_.pid()));
  EXPECT_EQ(status["socket_path"], daemon_.socket_path());
  EXPECT_EQ(status["socket_origin"], "bound");
  EXPECT_EQ(status["home"], daemon_.home());
  EXPECT_EQ(status["config_path"], daemon_.config_path());
  EXPECT_EQ(status["healthy"], true);
  EXPECT_FALSE(status["version"].get<std::string>().empty());
  ASSERT_EQ(status["files"].size(), 2u);
  EXPECT_EQ(status["files"][0]["path"], daemon_.providers_path());
  EXPECT_EQ(status["files"][1]["path"], daemon_.auth_dir() + "/channels.json");
  EXPECT_EQ(status["refresher"]["running"], true);
  bool counted = false;
  for (const Json& m : status["requests"]) {
    if (m["method"] == "/operator_auth.v1.AuthService/GetApiKey") {
      counted = true;
      EXPECT_EQ(m["calls"], "2");
      EXPECT_EQ(m["errors"], "1");
    }
  }
  EXPECT_TRUE(counted) << json.out;

  ProcessResult text = Ctl({"daemon", "status"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("healthy"));
  EXPECT_THAT(text.out, HasSubstr(daemon_.socket_path()));

  daemon_.Stop();
  EXPECT_EQ(Ctl({"daemon", "status"}).exit_code, 3) << "an absent daemon is unreachable";
}

TEST_F(DaemonLifecycleTest, SighupWithABadConfigKeepsTheOldOneAndReportsUnhealthy) {
  WriteFileOrDie(daemon_.config_path(),
                 R"({"oauth_providers": {"openai-codex": {"flow": "telepathy"}}})");
  daemon_.Signal(SIGHUP);
  Json status;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    ProcessResult r = Ctl({"daemon", "status", "--json"});
    status = Json::parse(r.out.empty() ? "{}" : r.out);
    if (status.value("last_reload_unix_ms", "0") != "0") {
      EXPECT_EQ(r.exit_code, 1);
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(status["healthy"], false);
  EXPECT_THAT(status["config_error"].get<std::string>(), HasSubstr("flow"));
  // The previous configuration is still in force, and the daemon still serves.
  auto list = client_->ListProviders();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->providers(0).kind(), v1::PROVIDER_KIND_OAUTH);
  EXPECT_TRUE(client_->SetApiKey("openai", "sk-after-hup").ok());

  WriteFileOrDie(daemon_.config_path(), LoopbackOnlyConfig("http://127.0.0.1:9"));
  daemon_.Signal(SIGHUP);
  int code = -1;
  const absl::Time fixed_deadline = absl::Now() + absl::Seconds(10);
  while (code != 0 && absl::Now() < fixed_deadline) {
    code = Ctl({"daemon", "status"}).exit_code;
    if (code != 0) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(code, 0) << daemon_.Log();
  EXPECT_TRUE(daemon_.running());
}

// gRPC reads "unix:" targets as URIs; the clients escape the path, so odd directory names work.
TEST(SocketPathTest, ClientsReachASocketWhosePathHasUriCharacters) {
  TempDir dir;
  const std::string root = dir.Sub("odd %41 dir?x=1#frag");
  ASSERT_EQ(mkdir(root.c_str(), 0700), 0);
  DaemonProcess daemon(root);
  ASSERT_TRUE(daemon.Start().ok()) << daemon.Log();
  AuthClientOptions options;
  options.socket_path = daemon.socket_path();
  options.env_fallback = false;
  AuthClient client(options);
  ASSERT_TRUE(client.SetApiKey("openai", "sk-odd-path").ok());
  absl::StatusOr<ApiKey> key = client.GetApiKey("openai");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "sk-odd-path");
  WatchedApiKeyOptions watch_options;
  watch_options.socket_path = daemon.socket_path();
  watch_options.env_fallback = false;
  WatchedApiKey watched("openai", watch_options);
  absl::StatusOr<ApiKey> watched_key = watched.Await(std::chrono::seconds(10));
  ASSERT_TRUE(watched_key.ok()) << watched_key.status();
  EXPECT_EQ(watched_key->key, "sk-odd-path");
  EXPECT_EQ(daemon.Stop().exit_code, 0);
}

}  // namespace
}  // namespace operator_auth::testing
