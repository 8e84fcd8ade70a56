// The real operator-authd binary running on a temp OPERATOR_HOME and socket, for integration
// tests and benchmarks. Start() waits (bounded) until the socket accepts connections.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::testing {

class DaemonProcess {
 public:
  // `root` holds home/ and run/authd.sock; it must outlive the daemon. `binary` defaults to the
  // operator-authd this build made.
  explicit DaemonProcess(const std::string& root, const std::string& binary = "");
  // Kills a daemon still running. With $AUTHD_TEST_LOG_DIR set, every daemon logs at trace level
  // and its log is written there when it ends, for the secret-leak scan.
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  std::string home() const { return root_ + "/home"; }
  std::string auth_dir() const { return root_ + "/home/auth"; }
  std::string providers_path() const { return auth_dir() + "/providers.json"; }
  std::string socket_path() const { return root_ + "/run/authd.sock"; }

  // Extra environment for the daemon (e.g. OPENAI_API_KEY).
  void SetEnv(const std::string& name, const std::string& value) { env_[name] = value; }
  // The authd.json the next Start() uses. Unless set, every built-in OAuth provider's endpoints
  // point at a closed port on 127.0.0.1, so no test can ever reach a real provider.
  void SetConfig(const std::string& json) { config_ = json; }
  std::string config_path() const { return root_ + "/authd.json"; }
  // --log-level for the next Start(); "debug" unless set ("trace" under $AUTHD_TEST_LOG_DIR).
  void SetLogLevel(const std::string& level) { log_level_ = level; }
  // More daemon flags for the next Start().
  void AddArgs(std::vector<std::string> args) { extra_args_ = std::move(args); }
  // A command that runs the daemon for the next Start(), e.g. {"systemd-socket-activate", "-l",
  // socket_path()}: the daemon's argv is appended to it. It must exec the daemon in its place,
  // so that pid() and Signal() reach the daemon.
  void SetLauncher(std::vector<std::string> launcher) { launcher_ = std::move(launcher); }

  // Starts the daemon and waits up to 30 s for its socket. Fails if it exits first.
  absl::Status Start();
  // Starts the daemon (or its launcher) without waiting or connecting: a connection would start
  // a socket-activated daemon.
  void Launch();
  // SIGTERM, then waits up to 10 s. Returns the exit result.
  ProcessResult Stop();
  // Waits up to `timeout` for the daemon to exit by itself. Returns the exit result.
  ProcessResult WaitForExit(absl::Duration timeout);
  void Signal(int sig);
  bool running() const { return child_ != nullptr; }
  pid_t pid() const;
  // What the daemon has logged so far.
  std::string Log() const;

 private:
  void Keep(const ProcessResult& result);

  std::string root_;
  std::string binary_;
  std::string log_level_ = "debug";
  std::string config_;
  std::vector<std::string> extra_args_;
  std::vector<std::string> launcher_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<ChildProcess> child_;
};

// authd.json pointing every built-in OAuth provider's endpoints at `base_url` (e.g. a fake
// OAuth server on 127.0.0.1).
std::string LoopbackOnlyConfig(const std::string& base_url);

// True when something accepts connections on the Unix socket at `path`.
bool SocketAccepts(const std::string& path);

}  // namespace operator_auth::testing
