#include "cli/secret_prompt.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <iterator>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace operator_auth::cli {
namespace {

constexpr int kTerminatingSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// What the signal handler needs to put the terminal back. Set before the handler is installed and
// cleared after it is removed, so the handler only ever sees a complete value.
volatile sig_atomic_t g_restore_armed = 0;
int g_restore_fd = -1;
termios g_restore_state{};

extern "C" void RestoreTerminalAndDie(int sig) {
  if (g_restore_armed != 0) tcsetattr(g_restore_fd, TCSANOW, &g_restore_state);
  // SA_RESETHAND put the default action back, so the re-raised signal, delivered once this
  // handler returns, ends the process as it would have without us.
  raise(sig);
}

// Turns echo off on a terminal for its lifetime. The destructor restores the saved settings and
// signal handlers; a terminating signal restores the settings before the process dies.
class EchoOffTerminal {
 public:
  explicit EchoOffTerminal(int fd) : fd_(fd) {
    if (tcgetattr(fd_, &saved_) != 0) return;
    g_restore_fd = fd_;
    g_restore_state = saved_;
    g_restore_armed = 1;
    struct sigaction action {};
    action.sa_handler = RestoreTerminalAndDie;
    action.sa_flags = SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < std::size(kTerminatingSignals); ++i) {
      sigaction(kTerminatingSignals[i], nullptr, &previous_[i]);
      // A signal the invoker chose to ignore (nohup, a background job) must stay harmless.
      if (previous_[i].sa_handler != SIG_IGN) sigaction(kTerminatingSignals[i], &action, nullptr);
    }
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK | ECHONL);
    // TCSAFLUSH drops anything typed before the prompt appeared: it was not meant as the key.
    active_ = tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
    if (!active_) Disarm();
  }

  ~EchoOffTerminal() {
    if (!active_) return;
    tcsetattr(fd_, TCSANOW, &saved_);
    Disarm();
  }

  EchoOffTerminal(const EchoOffTerminal&) = delete;
  EchoOffTerminal& operator=(const EchoOffTerminal&) = delete;

 private:
  void Disarm() {
    for (size_t i = 0; i < std::size(kTerminatingSignals); ++i) {
      sigaction(kTerminatingSignals[i], &previous_[i], nullptr);
    }
    g_restore_armed = 0;
  }

  int fd_;
  bool active_ = false;
  termios saved_{};
  struct sigaction previous_[std::size(kTerminatingSignals)]{};
};

absl::Status ReadError(int error_number) {
  return absl::Status(absl::ErrnoToStatusCode(error_number),
                      absl::StrCat("cannot read the API key from stdin: ",
                                   std::generic_category().message(error_number)));
}

// Appends from `fd` to `out` until EOF, or until a newline when `stop_at_newline`. Reads one byte
// past kMaxSecretBytes so that the caller can tell "exactly at the limit" from "over it".
absl::Status ReadUntil(int fd, bool stop_at_newline, std::string& out) {
  char buffer[4096];
  while (out.size() <= kMaxSecretBytes) {
    const size_t want = std::min(sizeof(buffer), kMaxSecretBytes + 1 - out.size());
    const ssize_t n = read(fd, buffer, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ReadError(errno);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
    if (stop_at_newline && out.back() == '\n') break;
  }
  return absl::OkStatus();
}

void StripOneLineEnding(std::string& s) {
  if (!s.empty() && s.back() == '\n') {
    s.pop_back();
    if (!s.empty() && s.back() == '\r') s.pop_back();
  }
}

}  // namespace

absl::StatusOr<std::string> ReadSecretFromStdin(absl::string_view prompt) {
  std::string secret;
  if (isatty(STDIN_FILENO) == 1) {
    std::cerr << prompt << std::flush;
    absl::Status read;
    {
      EchoOffTerminal quiet(STDIN_FILENO);
      read = ReadUntil(STDIN_FILENO, /*stop_at_newline=*/true, secret);
    }
    std::cerr << "\n";  // the user's Enter was not echoed
    if (!read.ok()) return read;
  } else {
    if (absl::Status read = ReadUntil(STDIN_FILENO, /*stop_at_newline=*/false, secret);
        !read.ok()) {
      return read;
    }
  }
  if (secret.size() > kMaxSecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the API key on stdin is longer than ", kMaxSecretBytes, " bytes"));
  }
  StripOneLineEnding(secret);
  if (secret.empty()) return absl::InvalidArgumentError("no API key was given on stdin");
  return secret;
}

}  // namespace operator_auth::cli
