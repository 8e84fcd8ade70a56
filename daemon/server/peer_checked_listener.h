// The daemon's Unix socket: binds it under an exclusive instance lock (gRPC on its own would
// silently unlink a live daemon's socket), or adopts the one systemd passed (socket activation)
// under the same lock, then runs its own accept loop that checks every peer's uid with
// SO_PEERCRED before handing the connection to gRPC. Peers whose uid is neither ours nor root's
// are refused at accept time, and so is the overflow uid (overflow_uid.h) by a rule of its own.
// The socket's directory must be ours and writable by no one else (trusted_path.h).
// Start() once, Stop() once (also from the destructor); the handler runs on the accept thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/core/file_lock.h"

namespace operator_auth {

class PeerCheckedListener {
 public:
  // Receives ownership of an accepted, peer-checked connection fd.
  using ConnectionHandler = std::function<void(int fd)>;

  // Creates the socket's directory 0700, or refuses an existing one that is not ours or that
  // others may write (PERMISSION_DENIED naming it), takes "<socket_path>.lock"
  // (FAILED_PRECONDITION naming the path when another daemon holds it), replaces a stale socket,
  // binds and listens (0600).
  static absl::StatusOr<std::unique_ptr<PeerCheckedListener>> Bind(const std::string& socket_path);

  // The listening socket systemd passed to this process (LISTEN_FDS / LISTEN_PID), or nullopt
  // when there is none. Clears LISTEN_* so that children do not inherit them; as that edits the
  // environment, call it before other threads start. INVALID_ARGUMENT when more than one fd was
  // passed or the fd is not a listening AF_UNIX stream socket.
  static absl::StatusOr<std::optional<int>> TakeSystemdSocket();

  // Adopts a listening AF_UNIX stream socket bound to a path (from TakeSystemdSocket). Takes
  // "<path>.lock" as Bind does, so that a daemon started by hand cannot replace the socket while
  // this one serves it; Stop() leaves the socket file to systemd, which owns it.
  static absl::StatusOr<std::unique_ptr<PeerCheckedListener>> Adopt(int listen_fd);

  ~PeerCheckedListener();
  PeerCheckedListener(const PeerCheckedListener&) = delete;
  PeerCheckedListener& operator=(const PeerCheckedListener&) = delete;

  // Starts the accept thread.
  void Start(ConnectionHandler handler);
  // Stops accepting, joins the accept thread, removes the socket (unless adopted) and releases
  // the lock.
  void Stop();

  const std::string& socket_path() const { return socket_path_; }
  // True when the socket came from systemd rather than from Bind.
  bool adopted() const { return adopted_; }
  uint64_t refused_connections() const { return refused_; }

 private:
  PeerCheckedListener(std::string socket_path, FileLock instance_lock, int listen_fd, int wake_fd,
                      bool adopted);
  void AcceptLoop();
  bool PeerAllowed(int fd);

  const std::string socket_path_;
  std::optional<FileLock> instance_lock_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd that interrupts poll() on Stop()
  const uid_t own_uid_;
  const uid_t overflow_uid_;
  const bool adopted_;
  ConnectionHandler handler_;
  std::thread thread_;
  std::atomic<uint64_t> refused_{0};
  bool stopped_ = false;
};

}  // namespace operator_auth
