#include "tests/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "absl/time/clock.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::testing {

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const ProcessOptions& options)
    : timeout_(options.timeout) {
  std::string pattern = "/tmp/authd-child-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  WriteFileOrDie(dir_ + "/stdin", options.stdin_data);
  // A socket pair rather than a pipe: a write after the child has gone fails (MSG_NOSIGNAL)
  // instead of raising SIGPIPE in the test.
  int stdin_pair[2] = {-1, -1};
  if (options.stdin_pipe && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stdin_pair) != 0) {
    throw std::runtime_error("socketpair failed");
  }

  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int in = options.stdin_pipe ? stdin_pair[1] : open((dir_ + "/stdin").c_str(), O_RDONLY);
    int out = open((dir_ + "/stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open((dir_ + "/stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(127);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (const std::string& name : options.unset_env) unsetenv(name.c_str());
    for (const auto& [k, v] : options.env) setenv(k.c_str(), v.c_str(), 1);
    execv(args[0], args.data());
    _exit(127);
  }
  if (options.stdin_pipe) {
    close(stdin_pair[1]);
    stdin_fd_ = stdin_pair[0];
  }
}

ChildProcess::~ChildProcess() {
  CloseStdin();
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string ChildProcess::PeekStdout() const {
  return PathExists(dir_ + "/stdout") ? ReadFileOrDie(dir_ + "/stdout") : std::string();
}

std::string ChildProcess::PeekStderr() const {
  return PathExists(dir_ + "/stderr") ? ReadFileOrDie(dir_ + "/stderr") : std::string();
}

bool ChildProcess::WriteStdin(const std::string& data) {
  size_t written = 0;
  while (stdin_fd_ >= 0 && written < data.size()) {
    ssize_t n = send(stdin_fd_, data.data() + written, data.size() - written, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    written += static_cast<size_t>(n);
  }
  return written == data.size();
}

void ChildProcess::CloseStdin() {
  if (stdin_fd_ < 0) return;
  close(stdin_fd_);
  stdin_fd_ = -1;
}

ProcessResult ChildProcess::Wait() { return Wait(timeout_); }

ProcessResult ChildProcess::Wait(absl::Duration timeout) {
  ProcessResult result;
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (absl::Now() >= deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      result.timed_out = true;
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  reaped_ = true;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  if (result.timed_out) result.exit_code = -1;
  result.out = PathExists(dir_ + "/stdout") ? ReadFileOrDie(dir_ + "/stdout") : "";
  result.err = PathExists(dir_ + "/stderr") ? ReadFileOrDie(dir_ + "/stderr") : "";
  return result;
}

ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ChildProcess child(argv, options);
  return child.Wait();
}

}  // namespace operator_auth::testing
