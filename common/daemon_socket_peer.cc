#include "common/daemon_socket_peer.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace operator_auth {
namespace {

constexpr int kConnectTimeoutSeconds = 2;

}  // namespace

absl::Status CheckDaemonSocketPeer(const std::string& socket_path) {
  sockaddr_un addr{};
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
    return absl::OkStatus();  // gRPC reports an unusable path itself
  }
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot check who serves ", socket_path, ": socket: ", std::strerror(errno)));
  }
  // Bounds a connect that waits for room in a full backlog.
  const timeval timeout{kConnectTimeoutSeconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd);
    if (err == EAGAIN || err == ETIMEDOUT || err == EINTR) {
      return absl::UnavailableError(absl::StrCat("operator-authd at ", socket_path,
                                                 " did not accept a connection within ",
                                                 kConnectTimeoutSeconds, " s"));
    }
    return absl::OkStatus();  // nothing there to distrust: the call reports it unreachable
  }
  ucred cred{};
  socklen_t len = sizeof(cred);
  const bool known =
      getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof(cred);
  const int err = errno;
  close(fd);
  if (!known) {
    return absl::PermissionDeniedError(
        absl::StrCat("refusing to talk to ", socket_path,
                     ": cannot tell who serves it (SO_PEERCRED: ", std::strerror(err), ")"));
  }
  const uid_t own = geteuid();
  if (cred.uid == own || cred.uid == 0) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "refusing to talk to ", socket_path, ": it is served by uid ", cred.uid, " (pid ", cred.pid,
      "), not by uid ", own,
      " (this user) or root; another user may have planted it. Remove it "
      "and start operator-authd, or point OPERATOR_AUTHD_SOCKET at your daemon's socket"));
}

}  // namespace operator_auth
