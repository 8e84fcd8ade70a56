// The daemon's Unix socket: binds it under an exclusive instance lock (gRPC on its own would
// silently unlink a live daemon's socket), then runs its own accept loop that checks every
// peer's uid with SO_PEERCRED before handing the connection to gRPC. Peers whose uid is neither
// ours nor root's are refused at accept time.
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

  // Takes "<socket_path>.lock" (FAILED_PRECONDITION naming the path when another daemon holds
  // it), creates the socket's directory 0700, replaces a stale socket, binds and listens (0600).
  static absl::StatusOr<std::unique_ptr<PeerCheckedListener>> Bind(const std::string& socket_path);

  ~PeerCheckedListener();
  PeerCheckedListener(const PeerCheckedListener&) = delete;
  PeerCheckedListener& operator=(const PeerCheckedListener&) = delete;

  // Starts the accept thread.
  void Start(ConnectionHandler handler);
  // Stops accepting, joins the accept thread, removes the socket and releases the lock.
  void Stop();

  const std::string& socket_path() const { return socket_path_; }
  uint64_t refused_connections() const { return refused_; }

 private:
  PeerCheckedListener(std::string socket_path, FileLock instance_lock, int listen_fd, int wake_fd);
  void AcceptLoop();
  bool PeerAllowed(int fd);

  const std::string socket_path_;
  std::optional<FileLock> instance_lock_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd that interrupts poll() on Stop()
  const uid_t own_uid_;
  ConnectionHandler handler_;
  std::thread thread_;
  std::atomic<uint64_t> refused_{0};
  bool stopped_ = false;
};

}  // namespace operator_auth
