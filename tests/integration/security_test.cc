// What the daemon's process and files refuse to give away: its memory to a same-uid reader, a
// core file on a crash, and credentials through a symlink or at a path that is a directory.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "tests/integration/daemon_fixture.h"
#include "tests/support/run_as_nobody.h"

namespace operator_auth::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Not 65534: the daemon refuses to run as the overflow uid.
constexpr uid_t kOtherUid = 4242;

bool AnyCoreFileIn(const std::string& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("core", 0) == 0) return true;
  }
  return false;
}

// A same-uid process that is not root cannot read a non-dumpable process's memory: the kernel
// makes /proc/PID/ root's and refuses ptrace access. As root the daemon would prove nothing, so
// it runs as another uid here.
TEST(SecurityTest, SameUidReaderCannotReadTheDaemonsMemory) {
  ASSERT_EQ(geteuid(), 0u) << "the suite runs as root (CI does) to start processes as 65534";
  TempDir dir;
  ASSERT_EQ(chown(dir.path().c_str(), kOtherUid, kOtherUid), 0);
  DaemonProcess daemon(dir.path(), CopyForNobody(AUTHD_DAEMON_PATH, dir));
  daemon.SetLauncher(AsUid(kOtherUid, {}));
  ASSERT_TRUE(daemon.Start().ok()) << daemon.Log();
  const std::string proc = "/proc/" + std::to_string(daemon.pid());

  // The kernel gives a non-dumpable process's /proc/PID/ files to root; a control process of
  // the same uid keeps its own.
  struct stat st {};
  ASSERT_EQ(stat((proc + "/status").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "the daemon is dumpable";
  ChildProcess control(AsUid(kOtherUid, {"/bin/sleep", "30"}), ProcessOptions());
  const std::string control_proc = "/proc/" + std::to_string(control.pid());
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline &&
         (stat((control_proc + "/status").c_str(), &st) != 0 || st.st_uid != kOtherUid)) {
    absl::SleepFor(absl::Milliseconds(5));  // until setpriv has switched uid
  }
  EXPECT_EQ(st.st_uid, kOtherUid);
  ProcessResult reader = RunProcess(AsUid(kOtherUid, {AUTHD_PYTHON3, "-c",
                                               "import sys\n"
                                               "try:\n"
                                               "    open(sys.argv[1] + '/mem', 'rb').read(1)\n"
                                               "    print('read')\n"
                                               "except OSError as e:\n"
                                               "    print('refused', e.errno)\n",
                                               proc}));
  EXPECT_THAT(reader.out, HasSubstr("refused")) << reader.err;
  EXPECT_THAT(reader.out, Not(HasSubstr("read\n")));
  // The same reader can read the control's memory: the refusal is the daemon's doing.
  ProcessResult control_reader = RunProcess(AsUid(kOtherUid, 
      {AUTHD_PYTHON3, "-c", "import sys\nf = open(sys.argv[1] + '/mem', 'rb')\nprint('opened')\n",
       control_proc}));
  EXPECT_EQ(control_reader.out, "opened\n") << control_reader.err;
  EXPECT_EQ(daemon.Stop().exit_code, 0);
}

// core_pattern here is a plain file name, so a crashing process that may dump leaves "core" in
// its working directory; a control process shows that it would.
TEST(SecurityTest, ACrashLeavesNoCoreFile) {
  ASSERT_EQ(ReadFileOrDie("/proc/sys/kernel/core_pattern").rfind("core", 0), 0u)
      << "this test reads core files from the working directory";
  TempDir dir;
  const std::string cwd = dir.Sub("cwd");
  ASSERT_EQ(mkdir(cwd.c_str(), 0700), 0);
  ProcessResult control =
      RunProcess({"/bin/sh", "-c", "cd \"$0\" && ulimit -c unlimited && kill -SEGV $$", cwd});
  EXPECT_EQ(control.signal, SIGSEGV);
  ASSERT_TRUE(AnyCoreFileIn(cwd)) << "the control process did not dump: this machine writes no "
                                     "core files, so the daemon's case would prove nothing";
  std::filesystem::remove_all(cwd);
  ASSERT_EQ(mkdir(cwd.c_str(), 0700), 0);

  DaemonProcess daemon(dir.path());
  daemon.SetLauncher({"/bin/sh", "-c", "cd \"$0\" && ulimit -c unlimited && exec \"$@\"", cwd});
  ASSERT_TRUE(daemon.Start().ok()) << daemon.Log();
  daemon.Signal(SIGSEGV);
  ProcessResult crashed = daemon.WaitForExit(absl::Seconds(10));
  // Under AddressSanitizer its SEGV handler reports and aborts instead: a crash all the same.
  EXPECT_TRUE(crashed.signal == SIGSEGV || crashed.signal == SIGABRT) << crashed.signal;
  EXPECT_FALSE(AnyCoreFileIn(cwd));
}

using CredentialPathTest = DaemonTest;

TEST_F(CredentialPathTest, SymlinkAndDirectoryAtCredentialPathsAreRefused) {
  daemon_.Stop();
  // channels.json is a symlink to a file elsewhere; providers.json is a directory.
  const std::string outside = dir_.Sub("outside.json");
  const std::string outside_text = R"({"telegram": {"bot_token": "tg-outside-secret"}})";
  WriteFileOrDie(outside, outside_text);
  ASSERT_EQ(symlink(outside.c_str(), (daemon_.auth_dir() + "/channels.json").c_str()), 0);
  ASSERT_EQ(mkdir(daemon_.providers_path().c_str(), 0700), 0);
  ASSERT_TRUE(daemon_.Start().ok()) << daemon_.Log();
  client_ = NewClient();

  absl::StatusOr<v1::AuthStatus> status = client_->GetAuthStatus("openai");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_THAT(status->storage_error(), HasSubstr("not a regular file"));
  absl::StatusOr<v1::SetApiKeyResponse> set = client_->SetApiKey("openai", "sk-x");
  EXPECT_EQ(set.status().code(), absl::StatusCode::kFailedPrecondition) << set.status();

  absl::StatusOr<v1::ListChannelsResponse> channels = client_->ListChannels();
  ASSERT_TRUE(channels.ok()) << channels.status();
  EXPECT_THAT(channels->channels(0).storage_error(), HasSubstr("symlink"));
  EXPECT_FALSE(channels->channels(0).configured()) << "nothing is read through the symlink";
  absl::StatusOr<v1::SetChannelResponse> set_channel =
      client_->SetChannel("discord", {{"bot_token", "d-through-link"}});
  EXPECT_EQ(set_channel.status().code(), absl::StatusCode::kFailedPrecondition);

  EXPECT_EQ(ReadFileOrDie(outside), outside_text) << "nothing is written through the symlink";
  EXPECT_TRUE(std::filesystem::is_directory(daemon_.providers_path()));
  EXPECT_TRUE(std::filesystem::is_empty(daemon_.providers_path()));
  EXPECT_THAT(daemon_.Log(), Not(HasSubstr("tg-outside-secret")));
  ProcessResult daemon_status = Ctl({"daemon", "status"});
  EXPECT_EQ(daemon_status.exit_code, 1) << daemon_status.out;
}

}  // namespace
}  // namespace operator_auth::testing
