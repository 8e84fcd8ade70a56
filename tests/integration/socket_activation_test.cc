// The daemon under socket activation, with systemd-socket-activate in systemd's place: it adopts
// the socket it is passed, keeps the peer-uid check and the instance lock on it, leaves the
// socket file to its owner, and refuses to start on anything but one listening Unix stream socket.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "operator_auth/auth_client.h"
#include "tests/support/child_process.h"
#include "tests/support/daemon_process.h"
#include "tests/support/run_as_nobody.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SocketActivationTest : public ::testing::Test {
 protected:
  SocketActivationTest() : daemon_(dir_.path()) {}

  // systemd makes the socket's directory (DirectoryMode=0700) before it listens.
  void SetUp() override { ASSERT_EQ(mkdir(dir_.Sub("run").c_str(), 0700), 0); }

  void TearDown() override {
    if (daemon_.running()) daemon_.Stop();
  }

  // Runs the daemon under `launcher` and waits (bounded) for the socket file to appear, without
  // connecting: a connection is what starts the daemon.
  void Activate(const std::vector<std::string>& launcher) {
    daemon_.SetLauncher(launcher);
    daemon_.Launch();
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!PathExists(daemon_.socket_path()) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    ASSERT_TRUE(PathExists(daemon_.socket_path())) << daemon_.Log();
  }

  void ListenOnTheDaemonSocket() {
    Activate({AUTHD_SYSTEMD_SOCKET_ACTIVATE, "-l", daemon_.socket_path()});
  }

  // The process name of the launched pid: the activator's until it execs the daemon.
  std::string Comm() const {
    return std::string(absl::StripTrailingAsciiWhitespace(
        ReadFileOrDie("/proc/" + std::to_string(daemon_.pid()) + "/comm")));
  }

  ino_t SocketInode() const {
    struct stat st {};
    if (lstat(daemon_.socket_path().c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return 0;
    return st.st_ino;
  }

  std::unique_ptr<AuthClient> NewClient() {
    AuthClientOptions options;
    options.socket_path = daemon_.socket_path();
    options.env_fallback = false;
    // The first call also waits for the daemon to start.
    options.deadline = std::chrono::seconds(10);
    return std::make_unique<AuthClient>(options);
  }

  TempDir dir_;
  DaemonProcess daemon_;
};

TEST_F(SocketActivationTest, FirstConnectionStartsTheDaemonAndTheSocketOutlivesIt) {
  ListenOnTheDaemonSocket();
  // The socket is there before the daemon is.
  EXPECT_EQ(Comm(), "systemd-socket-");  // comm is cut to 15 characters
  const ino_t socket_inode = SocketInode();
  ASSERT_NE(socket_inode, 0u);

  auto set = NewClient()->SetRuntimeApiKey("openai", "sk-activated");
  ASSERT_TRUE(set.ok()) << set.status() << daemon_.Log();
  EXPECT_EQ(Comm(), "operator-authd");
  EXPECT_THAT(daemon_.Log(), HasSubstr("socket activation: adopted the socket systemd passed"));
  EXPECT_THAT(daemon_.Log(), Not(HasSubstr("bound by this daemon")));

  // Another client reaches the same process: a runtime key lives in its memory only.
  auto key = NewClient()->GetApiKey("openai");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "sk-activated");
  EXPECT_EQ(key->source, ApiKeySource::kDaemonRuntime);

  ProcessResult stopped = daemon_.Stop();
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_THAT(stopped.err, HasSubstr("received SIGTERM"));
  // systemd owns the socket file and listens on it again for the next start.
  EXPECT_EQ(SocketInode(), socket_inode);
}

TEST_F(SocketActivationTest, HandStartedDaemonCannotTakeTheActivatedSocket) {
  ListenOnTheDaemonSocket();
  ASSERT_TRUE(NewClient()->SetRuntimeApiKey("openai", "sk-activated").ok()) << daemon_.Log();
  const ino_t socket_inode = SocketInode();

  ProcessOptions options;
  options.timeout = absl::Seconds(10);
  ProcessResult by_hand = RunProcess(
      {AUTHD_DAEMON_PATH, "--home", dir_.Sub("home2"), "--socket", daemon_.socket_path()}, options);
  EXPECT_EQ(by_hand.exit_code, 1) << by_hand.err;
  EXPECT_THAT(by_hand.err, HasSubstr("another operator-authd is already serving"));

  // Same socket file, still answered by the activated daemon.
  EXPECT_EQ(SocketInode(), socket_inode);
  auto key = NewClient()->GetApiKey("openai");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "sk-activated");
}

TEST_F(SocketActivationTest, PeerWithAnotherUidIsRefusedOnTheActivatedSocket) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a client as another uid";
  ListenOnTheDaemonSocket();
  // Its connection is the first, so it starts the daemon, which then refuses it.
  ProcessResult as_nobody =
      RunOperatorctlAsNobody(AUTHD_CTL_PATH, dir_, daemon_.socket_path(), {"auth", "list"});
  EXPECT_EQ(as_nobody.exit_code, 3) << as_nobody.out << as_nobody.err;

  // Our own uid is served; connections are accepted in order, so the refusal is logged by now.
  auto providers = NewClient()->ListProviders();
  ASSERT_TRUE(providers.ok()) << providers.status() << daemon_.Log();
  EXPECT_THAT(daemon_.Log(), HasSubstr("refused a connection from the overflow uid 65534"));
  EXPECT_THAT(daemon_.Log(), HasSubstr("socket activation"));
}

TEST_F(SocketActivationTest, TwoPassedSocketsAreRefusedWithAClearMessage) {
  Activate({AUTHD_SYSTEMD_SOCKET_ACTIVATE, "-l", daemon_.socket_path(), "-l",
            dir_.Sub("run/second.sock")});
  ASSERT_TRUE(SocketAccepts(daemon_.socket_path()));  // starts the daemon

  ProcessResult result = daemon_.WaitForExit(absl::Seconds(10));
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("systemd passed 2 file descriptors (LISTEN_FDS)"));
  EXPECT_THAT(result.err, HasSubstr("takes exactly one"));
  EXPECT_NE(SocketInode(), 0u);  // not ours to remove
}

TEST_F(SocketActivationTest, PassedFileThatIsNotASocketIsRefusedWithAClearMessage) {
  // What systemd would pass: LISTEN_PID naming the daemon (sh execs it in place), fd 3.
  daemon_.SetLauncher(
      {"/bin/sh", "-c", "export LISTEN_PID=$$ LISTEN_FDS=1; exec \"$@\" 3</dev/null", "sh"});
  daemon_.Launch();

  ProcessResult result = daemon_.WaitForExit(absl::Seconds(10));
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("is not a listening AF_UNIX stream socket"));
}

TEST_F(SocketActivationTest, PassedDatagramSocketIsRefusedWithAClearMessage) {
  Activate({AUTHD_SYSTEMD_SOCKET_ACTIVATE, "--datagram", "-l", daemon_.socket_path()});
  // A datagram is what starts the daemon on a datagram socket.
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, daemon_.socket_path().c_str(), sizeof(addr.sun_path) - 1);
  EXPECT_EQ(sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 1);
  close(fd);

  ProcessResult result = daemon_.WaitForExit(absl::Seconds(10));
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("is not a listening AF_UNIX stream socket"));
  EXPECT_NE(SocketInode(), 0u);
}

}  // namespace
}  // namespace operator_auth::testing
