// The daemon's Unix socket: binds it under an exclusive instance lock (gRPC on its own would
// silently unlink a live daemon's socket), or adopts the one systemd passed (socket activation)
// under the same lock, then runs its own accept loop that checks every peer's uid with
// SO_PEERCRED before handing the connection to gRPC. Peers whose uid is neither ours nor root's
// are refused at accept time, and so is the overflow uid (overflow_uid.h) by a rule of its own.
// The socket's directory must be ours and writable by no one else (trusted_path.h).
//
// Hostile neighbours: every accepted connection is admitted to a ConnectionTable first (the cap;
// when full it sheds the longest-idle connection, see connection_table.h). Running out of file
// descriptors (EMFILE / ENFILE) does not make the loop spin: it sheds an idle connection if there
// is one, else it closes a spare descriptor it keeps (/dev/null), accepts the pending connection
// and closes it at once, reopens the spare (the libev / nginx trick), and backs off for
// kAcceptBackoff. Refusals and accept errors are logged at most kLogLinesPerSecond a second each,
// then counted in the next line.
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
#include "absl/time/time.h"
#include "daemon/core/connection_table.h"
#include "daemon/core/file_lock.h"
#include "daemon/core/rate_limited_log.h"

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

  static constexpr absl::Duration kAcceptBackoff = absl::Milliseconds(50);
  static constexpr int kLogLinesPerSecond = 5;

  // Starts the accept thread. `connections` (may be null: no cap) must outlive Stop().
  void Start(ConnectionHandler handler, ConnectionTable* connections);
  // Stops accepting, joins the accept thread, removes the socket (unless adopted) and releases
  // the lock.
  void Stop();

  const std::string& socket_path() const { return socket_path_; }
  // True when the socket came from systemd rather than from Bind.
  bool adopted() const { return adopted_; }
  // Connections from another uid.
  uint64_t refused_connections() const { return refused_; }
  // Connections closed at accept because the cap or the descriptors ran out.
  uint64_t dropped_connections() const { return dropped_; }

 private:
  PeerCheckedListener(std::string socket_path, FileLock instance_lock, int listen_fd, int wake_fd,
                      bool adopted);
  void AcceptLoop();
  // Returns true when the loop should try accept() again at once (it shed a connection, which
  // only `may_shed` allows).
  bool OnAcceptError(int error, bool may_shed);
  // Waits `how_long` unless Stop() comes first; true when stopping.
  bool PauseOrStop(absl::Duration how_long);
  bool PeerAllowed(int fd);
  void LogRefusal(const std::string& message);

  const std::string socket_path_;
  std::optional<FileLock> instance_lock_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;   // eventfd that interrupts poll() on Stop()
  int spare_fd_ = -1;  // /dev/null, given up to accept-and-close one connection at EMFILE
  const uid_t own_uid_;
  const uid_t overflow_uid_;
  const bool adopted_;
  ConnectionHandler handler_;
  ConnectionTable* connections_ = nullptr;
  RateLimitedLog refusal_log_{kLogLinesPerSecond, absl::Seconds(1)};
  RateLimitedLog accept_error_log_{kLogLinesPerSecond, absl::Seconds(1)};
  std::thread thread_;
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> dropped_{0};
  bool stopped_ = false;
};

}  // namespace operator_auth
