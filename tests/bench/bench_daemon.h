// The real operator-authd as a child process on a private mkdtemp() directory (home/ and
// authd.sock inside it), for the benchmark. The directory goes, with everything in it, when
// the object does. The daemon's argv carries paths only; secrets reach it over gRPC.
// Not thread-safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace operator_auth::bench {

class BenchDaemon {
 public:
  // Starts `daemon_path` and waits up to 10 s for its socket to accept connections.
  static absl::StatusOr<std::unique_ptr<BenchDaemon>> Start(const std::string& daemon_path);
  ~BenchDaemon();  // stops a daemon still running, then removes the directory
  BenchDaemon(const BenchDaemon&) = delete;
  BenchDaemon& operator=(const BenchDaemon&) = delete;

  std::string socket_path() const { return root_ + "/authd.sock"; }

  // SIGTERM, then waits up to 10 s (SIGKILL past that). OK when the daemon exited with 0.
  absl::Status Stop();

 private:
  explicit BenchDaemon(std::string root) : root_(std::move(root)) {}
  std::string home() const { return root_ + "/home"; }
  absl::Status Spawn(const std::string& daemon_path);
  absl::Status AwaitSocket();

  std::string root_;
  pid_t pid_ = -1;
};

}  // namespace operator_auth::bench
