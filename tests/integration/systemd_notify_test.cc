// sd_notify: the daemon tells a Type=notify service manager when it serves and when it stops. A
// datagram socket the test reads stands in for systemd's NOTIFY_SOCKET.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "operator_auth/auth_client.h"
#include "tests/support/child_process.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

// One notification: its lines ("READY=1", "STATUS=...") and the pid the kernel vouches for
// (systemd only listens to the main pid by default).
struct Notification {
  std::vector<std::string> lines;
  pid_t pid = -1;
};

// A bound datagram socket that collects notifications, as systemd's notify socket does.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    const int on = 1;
    bound_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
             setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }

  // Receives until a notification holds `line`, for up to `timeout`; every notification received
  // on the way, that one last, is appended to `seen`. False when none came in time.
  bool ReceiveUntil(const std::string& line, absl::Duration timeout,
                    std::vector<Notification>& seen) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      pollfd pfd = {fd_, POLLIN, 0};
      const int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
      if (poll(&pfd, 1, wait_ms > 0 ? wait_ms : 0) <= 0) continue;
      std::optional<Notification> n = Read();
      if (!n.has_value()) continue;
      seen.push_back(*n);
      for (const std::string& l : n->lines) {
        if (l == line) return true;
      }
    }
    return false;
  }

 private:
  std::optional<Notification> Read() {
    char data[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    iovec iov = {data, sizeof(data)};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    Notification notification;
    notification.lines =
        absl::StrSplit(std::string(data, static_cast<size_t>(n)), '\n', absl::SkipEmpty());
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
        ucred cred{};
        std::memcpy(&cred, CMSG_DATA(c), sizeof(cred));
        notification.pid = cred.pid;
      }
    }
    return notification;
  }

  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

std::string Describe(const std::vector<Notification>& seen) {
  std::vector<std::string> texts;
  for (const Notification& n : seen) texts.push_back(absl::StrJoin(n.lines, "|"));
  return absl::StrJoin(texts, "\n");
}

TEST(SystemdNotifyTest, ReadyOnceTheSocketAnswersAndStoppingOnSigterm) {
  TempDir dir;
  DaemonProcess daemon(dir.path());
  NotifySocket notify(dir.Sub("notify.sock"));
  ASSERT_TRUE(notify.bound());
  daemon.SetEnv("NOTIFY_SOCKET", notify.path());
  daemon.Launch();  // no probing connection: READY=1 alone must say when it serves

  std::vector<Notification> seen;
  ASSERT_TRUE(notify.ReceiveUntil("READY=1", absl::Seconds(10), seen))
      << Describe(seen) << daemon.Log();
  // Sent after the daemon logged that it serves (a write to stderr that has completed), and
  // whoever hears it can connect at once and be answered.
  EXPECT_THAT(daemon.Log(), HasSubstr("operator-authd serving on"));
  EXPECT_TRUE(SocketAccepts(daemon.socket_path()));
  AuthClientOptions options;
  options.socket_path = daemon.socket_path();
  options.env_fallback = false;
  auto providers = AuthClient(options).ListProviders();
  EXPECT_TRUE(providers.ok()) << providers.status();
  const Notification& ready = seen.back();
  EXPECT_EQ(ready.pid, daemon.pid());
  EXPECT_THAT(ready.lines, Contains("STATUS=serving on " + daemon.socket_path()));
  EXPECT_EQ(seen.size(), 1u) << Describe(seen);

  daemon.Signal(SIGTERM);
  seen.clear();
  ASSERT_TRUE(notify.ReceiveUntil("STOPPING=1", absl::Seconds(10), seen))
      << Describe(seen) << daemon.Log();
  EXPECT_EQ(seen.back().pid, daemon.pid());
  for (const Notification& n : seen) EXPECT_THAT(n.lines, Not(Contains("READY=1")));
  ProcessResult result = daemon.WaitForExit(absl::Seconds(10));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, Not(HasSubstr("could not notify systemd")));
}

}  // namespace
}  // namespace operator_auth::testing
