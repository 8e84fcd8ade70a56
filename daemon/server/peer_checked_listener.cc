#include "daemon/server/peer_checked_listener.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "absl/strings/str_cat.h"
#include "daemon/core/overflow_uid.h"
#include "daemon/core/posix_error.h"
#include "daemon/core/private_directory.h"

namespace operator_auth {
namespace {

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Removes what a crashed daemon left at `path`; refuses to remove anything but a socket.
absl::Status RemoveStaleSocket(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? absl::OkStatus() : PosixError(errno, "stat", path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a socket; refusing to replace it"));
  }
  if (unlink(path.c_str()) != 0) return PosixError(errno, "remove stale socket", path);
  return absl::OkStatus();
}

absl::Status CheckSocketDirectory(const std::string& socket_path) {
  const std::string directory = DirectoryOf(socket_path);
  absl::Status s = EnsurePrivateDirectory(directory, ExistingDirectory::kVerify);
  if (s.ok()) return s;
  return absl::Status(s.code(),
                      absl::StrCat("refusing the socket directory ", directory, ": ", s.message()));
}

// "<socket_path>.lock", held for as long as this daemon serves the path (invariant 10).
absl::StatusOr<FileLock> TakeInstanceLock(const std::string& socket_path) {
  const std::string lock_path = socket_path + ".lock";
  absl::StatusOr<FileLock> lock = FileLock::TryAcquire(lock_path);
  if (!lock.ok() && absl::IsUnavailable(lock.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("another operator-authd is already serving ", socket_path, " (it holds ",
                     lock_path, "); stop it first or choose another --socket"));
  }
  return lock;
}

// The file system path a listening socket is bound to; an abstract or unnamed socket has none,
// and then there is nothing to hang the instance lock on.
absl::StatusOr<std::string> BoundPath(int fd) {
  sockaddr_un addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return PosixError(errno, "getsockname on", "the socket systemd passed");
  }
  const size_t path_offset = offsetof(sockaddr_un, sun_path);
  if (addr.sun_family != AF_UNIX || len <= path_offset || addr.sun_path[0] == '\0') {
    return absl::InvalidArgumentError(
        "the socket systemd passed is not bound to a file system path (abstract or unnamed); "
        "use ListenStream=%t/operator/authd.sock");
  }
  return std::string(addr.sun_path, strnlen(addr.sun_path, len - path_offset));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PeerCheckedListener>> PeerCheckedListener::Bind(
    const std::string& socket_path) {
  sockaddr_un addr{};
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "socket path must be 1 to ", sizeof(addr.sun_path) - 1, " bytes long: ", socket_path));
  }
  // A directory we create is 0700. One that exists is not ours to chmod, but it must be ours
  // and writable by no one else, and so must the directories above it (trusted_path.h): whoever
  // can write it can replace the socket between our bind and a client's connect, or take the
  // instance lock.
  if (absl::Status s = CheckSocketDirectory(socket_path); !s.ok()) return s;

  absl::StatusOr<FileLock> lock = TakeInstanceLock(socket_path);
  if (!lock.ok()) return lock.status();
  if (absl::Status s = RemoveStaleSocket(socket_path); !s.ok()) return s;

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return PosixError(errno, "socket for", socket_path);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    close(fd);
    return PosixError(err, "bind", socket_path);
  }
  if (chmod(socket_path.c_str(), 0600) != 0 || listen(fd, SOMAXCONN) != 0) {
    int err = errno;
    close(fd);
    unlink(socket_path.c_str());
    return PosixError(err, "listen on", socket_path);
  }
  int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    int err = errno;
    close(fd);
    unlink(socket_path.c_str());
    return PosixError(err, "eventfd for", socket_path);
  }
  spdlog::info("listening on {} (bound by this daemon)", socket_path);
  return std::unique_ptr<PeerCheckedListener>(
      new PeerCheckedListener(socket_path, *std::move(lock), fd, wake, /*adopted=*/false));
}

absl::StatusOr<std::optional<int>> PeerCheckedListener::TakeSystemdSocket() {
  const int count = sd_listen_fds(/*unset_environment=*/1);
  if (count < 0) return PosixError(-count, "sd_listen_fds", "LISTEN_FDS");
  if (count == 0) return std::nullopt;
  if (count > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "systemd passed ", count,
        " file descriptors (LISTEN_FDS); operator-authd takes exactly one, a listening AF_UNIX "
        "stream socket (one ListenStream= with a path in operator-authd.socket)"));
  }
  const int fd = SD_LISTEN_FDS_START;
  const int is_unix_listener = sd_is_socket_unix(fd, SOCK_STREAM, /*listening=*/1, nullptr, 0);
  if (is_unix_listener < 0) return PosixError(-is_unix_listener, "inspect", "LISTEN_FDS fd 3");
  if (is_unix_listener == 0) {
    return absl::InvalidArgumentError(
        "the file descriptor systemd passed (LISTEN_FDS, fd 3) is not a listening AF_UNIX stream "
        "socket; operator-authd.socket must use ListenStream= with a path");
  }
  return fd;
}

absl::StatusOr<std::unique_ptr<PeerCheckedListener>> PeerCheckedListener::Adopt(int listen_fd) {
  // On failure the fd is closed but the file never unlinked: the socket file is systemd's.
  auto fail = [listen_fd](absl::Status status) {
    close(listen_fd);
    return status;
  };
  absl::StatusOr<std::string> socket_path = BoundPath(listen_fd);
  if (!socket_path.ok()) return fail(socket_path.status());
  // systemd made the directory (0700, ours), but a unit edited to listen elsewhere must meet
  // the same rule as a --socket path.
  if (absl::Status s = CheckSocketDirectory(*socket_path); !s.ok()) return fail(s);
  absl::StatusOr<FileLock> lock = TakeInstanceLock(*socket_path);
  if (!lock.ok()) return fail(lock.status());
  // The accept loop drains the backlog until EAGAIN, so the fd must not block; systemd passes
  // it blocking.
  const int flags = fcntl(listen_fd, F_GETFL);
  if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return fail(PosixError(errno, "make non-blocking", *socket_path));
  }
  int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) return fail(PosixError(errno, "eventfd for", *socket_path));
  spdlog::info("listening on {} (socket activation: adopted the socket systemd passed)",
               *socket_path);
  return std::unique_ptr<PeerCheckedListener>(
      new PeerCheckedListener(*socket_path, *std::move(lock), listen_fd, wake, /*adopted=*/true));
}

PeerCheckedListener::PeerCheckedListener(std::string socket_path, FileLock instance_lock,
                                         int listen_fd, int wake_fd, bool adopted)
    : socket_path_(std::move(socket_path)),
      instance_lock_(std::move(instance_lock)),
      listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      own_uid_(geteuid()),
      overflow_uid_(OverflowUid()),
      adopted_(adopted) {}

PeerCheckedListener::~PeerCheckedListener() { Stop(); }

void PeerCheckedListener::Start(ConnectionHandler handler, ConnectionTable* connections) {
  handler_ = std::move(handler);
  connections_ = connections;
  spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  thread_ = std::thread([this] { AcceptLoop(); });
}

void PeerCheckedListener::Stop() {
  if (stopped_) return;
  stopped_ = true;
  uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) < 0) {
    spdlog::warn("could not wake the accept loop: {}", std::strerror(errno));
  }
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
  close(wake_fd_);
  if (spare_fd_ >= 0) close(spare_fd_);
  // systemd keeps an adopted socket's file and its own copy of the fd, so that the next
  // connection starts the daemon again; removing the file would strand the socket unit.
  if (!adopted_) unlink(socket_path_.c_str());
  instance_lock_.reset();
}

bool PeerCheckedListener::PeerAllowed(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
    LogRefusal(absl::StrCat("refused a connection: cannot read its peer credentials: ",
                            std::strerror(errno)));
    return false;
  }
  // The overflow uid is refused by a rule of its own, ahead of the others: it stands for any
  // process of another user namespace whose uid has no mapping here, whatever its real uid.
  if (cred.uid == overflow_uid_) {
    spdlog::warn(
        "refused a connection from the overflow uid {} (pid {}): an unmapped user from another "
        "user namespace",
        cred.uid, cred.pid);
    return false;
  }
  if (cred.uid == own_uid_ || cred.uid == 0) return true;
  LogRefusal(absl::StrCat("refused a connection from uid ", cred.uid, " (pid ", cred.pid,
                          "): only uid ", own_uid_, " may use this daemon"));
  return false;
}

void PeerCheckedListener::LogRefusal(const std::string& message) {
  RateLimitedLog::Verdict verdict = refusal_log_.Admit();
  if (!verdict.write) return;
  if (verdict.dropped_before == 0) {
    spdlog::warn("{}", message);
  } else {
    spdlog::warn("{} ({} more refusals not logged)", message, verdict.dropped_before);
  }
}

bool PeerCheckedListener::PauseOrStop(absl::Duration how_long) {
  pollfd wake{wake_fd_, POLLIN, 0};
  const int ready = poll(&wake, 1, static_cast<int>(absl::ToInt64Milliseconds(how_long)));
  return ready > 0;
}

bool PeerCheckedListener::OnAcceptError(int error, bool may_shed) {
  if (error == EAGAIN || error == EWOULDBLOCK || error == EINTR || error == ECONNABORTED) {
    return false;
  }
  const bool out_of_descriptors = error == EMFILE || error == ENFILE;
  // An idle connection is the cheapest thing to give back: the pending client then gets in.
  if (out_of_descriptors && may_shed && connections_ != nullptr && connections_->ShedOne()) {
    RateLimitedLog::Verdict verdict = accept_error_log_.Admit();
    if (verdict.write) {
      spdlog::warn(
          "accept on {}: {}; shed the longest-idle connection ({} more accept errors "
          "not logged)",
          socket_path_, std::strerror(error), verdict.dropped_before);
    }
    return true;
  }
  if (out_of_descriptors && spare_fd_ >= 0) {
    // Nothing to shed: refuse the pending connection at once instead of leaving it in the
    // backlog, where it would keep poll() awake and its client waiting.
    close(spare_fd_);
    const int pending = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (pending >= 0) {
      close(pending);
      ++dropped_;
    }
    spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);  // retried at the next EMFILE if taken
  }
  RateLimitedLog::Verdict verdict = accept_error_log_.Admit();
  if (verdict.write) {
    std::string line = absl::StrCat("accept on ", socket_path_, ": ", std::strerror(error));
    if (out_of_descriptors) {
      absl::StrAppend(&line, "; no idle connection to shed, so a pending one was closed");
    }
    if (verdict.dropped_before > 0) {
      absl::StrAppend(&line, " (", verdict.dropped_before, " more accept errors not logged)");
    }
    spdlog::error("{}", line);
  }
  return false;
}

void PeerCheckedListener::AcceptLoop() {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (true) {
    int ready = poll(fds, 2, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      spdlog::error("accept loop stopped: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    // Drain the backlog: one wake-up may stand for several connections.
    bool backlog_drained = false;
    bool shed_for_this_accept = false;  // at most one shed per connection let in
    while (!backlog_drained) {
      // gRPC expects a non-blocking fd.
      int conn = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (conn < 0) {
        const int error = errno;
        if (OnAcceptError(error, !shed_for_this_accept)) {
          shed_for_this_accept = true;
          continue;
        }
        backlog_drained = true;
        const bool transient =
            error == EAGAIN || error == EWOULDBLOCK || error == EINTR || error == ECONNABORTED;
        // Anything else (EMFILE, ENOBUFS, ...) would fail again at once: pause, never spin.
        if (!transient && PauseOrStop(kAcceptBackoff)) return;
        continue;
      }
      shed_for_this_accept = false;
      if (!PeerAllowed(conn)) {
        ++refused_;
        close(conn);
        continue;
      }
      if (connections_ != nullptr) {
        if (absl::Status admitted = connections_->Admit(conn); !admitted.ok()) {
          ++dropped_;
          LogRefusal(absl::StrCat("closed a new connection: ", admitted.message()));
          close(conn);
          continue;
        }
      }
      handler_(conn);
    }
  }
}

}  // namespace operator_auth
