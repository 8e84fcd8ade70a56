#include "tests/bench/bench_daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace operator_auth::bench {
namespace {

constexpr std::chrono::seconds kStartTimeout{10};
constexpr std::chrono::seconds kStopTimeout{10};
constexpr std::chrono::milliseconds kPollInterval{10};
// The child's exit code when execv() fails, as the shell reports a command it cannot run.
constexpr int kExecFailedCode = 127;

bool SocketAccepts(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const bool accepted = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return accepted;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("signal ", WTERMSIG(status));
  return absl::StrCat("wait status ", status);
}

}  // namespace

absl::StatusOr<std::unique_ptr<BenchDaemon>> BenchDaemon::Start(const std::string& daemon_path) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp", "/authd-bench-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp(", pattern, ") failed: ", std::strerror(errno)));
  }
  // From here the destructor removes the directory whatever fails next.
  std::unique_ptr<BenchDaemon> daemon(new BenchDaemon(pattern));
  if (daemon->socket_path().size() >= sizeof(sockaddr_un{}.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "socket path ", daemon->socket_path(), " is too long for AF_UNIX; set a shorter TMPDIR"));
  }
  if (absl::Status s = daemon->Spawn(daemon_path); !s.ok()) return s;
  if (absl::Status s = daemon->AwaitSocket(); !s.ok()) return s;
  return daemon;
}

absl::Status BenchDaemon::Spawn(const std::string& daemon_path) {
  // Everything the child needs is built before fork(): between fork() and exec() only
  // async-signal-safe calls are allowed.
  std::vector<std::string> args = {daemon_path,   "--home",      home(), "--socket",
                                   socket_path(), "--log-level", "warn"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork failed: ", std::strerror(errno)));
  if (pid == 0) {
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    execv(argv[0], argv.data());
    _exit(kExecFailedCode);
  }
  pid_ = pid;
  return absl::OkStatus();
}

absl::Status BenchDaemon::AwaitSocket() {
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      const bool exec_failed = WIFEXITED(status) && WEXITSTATUS(status) == kExecFailedCode;
      return absl::InternalError(absl::StrCat("operator-authd exited at start (",
                                              DescribeWaitStatus(status), ")",
                                              exec_failed ? ": cannot execute the binary" : ""));
    }
    if (SocketAccepts(socket_path())) return absl::OkStatus();
    std::this_thread::sleep_for(kPollInterval);
  }
  return absl::DeadlineExceededError(
      absl::StrCat("operator-authd did not accept on ", socket_path(), " within 10 s"));
}

absl::Status BenchDaemon::Stop() {
  if (pid_ < 0) return absl::OkStatus();
  const pid_t pid = pid_;
  pid_ = -1;
  kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) != pid) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return absl::DeadlineExceededError("operator-authd did not stop within 10 s of SIGTERM");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("operator-authd stopped with ", DescribeWaitStatus(status)));
}

BenchDaemon::~BenchDaemon() {
  Stop().IgnoreError();
  std::error_code ignored;
  std::filesystem::remove_all(root_, ignored);
}

}  // namespace operator_auth::bench
