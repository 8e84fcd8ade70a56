#include "tests/support/daemon_process.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace operator_auth::testing {

#ifndef AUTHD_DAEMON_PATH
#error "AUTHD_DAEMON_PATH must name the operator-authd binary"
#endif

bool SocketAccepts(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

namespace {

// $AUTHD_TEST_LOG_DIR: where every daemon's log is kept for the secret-leak scan
// (scripts/leak_scan.py); empty when the logs are not kept.
std::string LogDir() {
  const char* dir = std::getenv("AUTHD_TEST_LOG_DIR");
  return dir == nullptr ? std::string() : std::string(dir);
}

}  // namespace

DaemonProcess::DaemonProcess(const std::string& root, const std::string& binary)
    : root_(root), binary_(binary.empty() ? AUTHD_DAEMON_PATH : binary) {
  // The scan wants everything the daemon can say.
  if (!LogDir().empty()) log_level_ = "trace";
}

DaemonProcess::~DaemonProcess() {
  if (child_ == nullptr) return;
  kill(child_->pid(), SIGKILL);
  Keep(child_->Wait(absl::Seconds(10)));
}

void DaemonProcess::Keep(const ProcessResult& result) {
  const std::string dir = LogDir();
  if (dir.empty() || child_ == nullptr) return;
  static int sequence = 0;
  const std::string path =
      absl::StrCat(dir, "/daemon-", getpid(), "-", child_->pid(), "-", sequence++, ".log");
  if (FILE* f = std::fopen(path.c_str(), "w"); f != nullptr) {
    std::fwrite(result.err.data(), 1, result.err.size(), f);
    std::fclose(f);
  }
}

std::string LoopbackOnlyConfig(const std::string& base_url) {
  nlohmann::json providers = nlohmann::json::object();
  for (const char* id :
       {"anthropic-claude-code", "openai-codex", "google-antigravity", "google-gemini-cli"}) {
    providers[id] = {{"authorize_url", base_url + "/authorize"},
                     {"token_url", base_url + "/token"},
                     {"revocation_url", base_url + "/revoke"}};
  }
  providers["openai-codex"]["device_authorization_url"] =
      base_url + "/api/accounts/deviceauth/usercode";
  for (const char* id : {"google-antigravity", "google-gemini-cli"}) {
    providers[id]["code_assist_url"] = base_url;
    providers[id]["code_assist_poll_interval_ms"] = 50;
  }
  providers["github-copilot"] = {
      {"device_authorization_url", base_url + "/device/code"},
      {"token_url", base_url + "/token"},
      // The fake records the query, so tests can see which enterprise host a refresh used.
      {"copilot_token_url", base_url + "/copilot_internal/v2/token?domain={domain}"},
      // Otherwise the token's proxy-ep names GitHub's host.
      {"copilot_api_url", base_url}};
  return nlohmann::json{{"oauth_providers", providers}}.dump(2);
}

void DaemonProcess::Launch() {
  // Port 9 (discard) on loopback: nothing listens, so every request fails fast and stays local.
  WriteFileOrDie(config_path(),
                 config_.empty() ? LoopbackOnlyConfig("http://127.0.0.1:9") : config_);
  ProcessOptions options;
  // absl::Mutex lock-order cycle detection, which the daemon turns off unless asked (its cost);
  // tests keep it (a cycle aborts the daemon), benchmarks measure without it (BenchDaemon).
  options.env = {{"AUTHD_DEADLOCK_DETECTION", "1"}};
  for (const auto& [name, value] : env_) options.env[name] = value;
  // The daemon's environment must not leak the developer's real keys or paths into tests.
  options.unset_env = {"OPERATOR_HOME", "OPERATOR_AUTHD_SOCKET", "XDG_RUNTIME_DIR"};
  options.timeout = absl::Hours(1);
  const std::vector<std::string> daemon_argv = {binary_,       "--home",      home(),
                                                "--socket",    socket_path(), "--config",
                                                config_path(), "--log-level", log_level_};
  std::vector<std::string> argv = launcher_;
  argv.insert(argv.end(), daemon_argv.begin(), daemon_argv.end());
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  child_ = std::make_unique<ChildProcess>(argv, options);
}

absl::Status DaemonProcess::Start() {
  Launch();
  // Generous: a sanitizer build on a loaded 2-core machine can take seconds to start.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(child_->pid(), &status, WNOHANG) == child_->pid()) {
      std::string log = child_->PeekStderr();
      child_.reset();
      return absl::InternalError(absl::StrCat("operator-authd exited at start: ", log));
    }
    if (SocketAccepts(socket_path())) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError("operator-authd did not open its socket within 30 s");
}

ProcessResult DaemonProcess::Stop() {
  if (child_ == nullptr) return {};
  kill(child_->pid(), SIGTERM);
  ProcessResult result = child_->Wait(absl::Seconds(10));
  Keep(result);
  child_.reset();
  return result;
}

ProcessResult DaemonProcess::WaitForExit(absl::Duration timeout) {
  if (child_ == nullptr) return {};
  ProcessResult result = child_->Wait(timeout);
  Keep(result);
  child_.reset();
  return result;
}

void DaemonProcess::Signal(int sig) {
  if (child_ != nullptr) kill(child_->pid(), sig);
}

pid_t DaemonProcess::pid() const { return child_ == nullptr ? -1 : child_->pid(); }

std::string DaemonProcess::Log() const {
  return child_ == nullptr ? std::string() : child_->PeekStderr();
}

}  // namespace operator_auth::testing
