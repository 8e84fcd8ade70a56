// The daemon as a process: one instance per socket, peer uid check, signals, file modes.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/daemon_fixture.h"

namespace operator_auth::testing {
namespace {

using ::testing::HasSubstr;

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
  // Let uid 65534 reach the socket at all, so that only the daemon's own check stands between.
  ASSERT_EQ(chmod(dir_.path().c_str(), 0711), 0);
  ASSERT_EQ(chmod(dir_.Sub("run").c_str(), 0711), 0);
  ASSERT_EQ(chmod(daemon_.socket_path().c_str(), 0666), 0);
  // The build tree may sit where uid 65534 cannot reach it: run a copy from the test directory.
  const std::string ctl_copy = dir_.Sub("operatorctl");
  std::filesystem::copy_file(AUTHD_CTL_PATH, ctl_copy);
  ASSERT_EQ(chmod(ctl_copy.c_str(), 0755), 0);
  ProcessResult as_nobody =
      RunProcess({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ctl_copy,
                  "--socket", daemon_.socket_path(), "auth", "token", "openai"});
  EXPECT_EQ(as_nobody.exit_code, 3) << as_nobody.out << as_nobody.err;
  EXPECT_THAT(as_nobody.out, ::testing::Not(HasSubstr("sk-not-for-nobody")));
  EXPECT_THAT(daemon_.Log(), HasSubstr("refused a connection from uid 65534"));
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

}  // namespace
}  // namespace operator_auth::testing
