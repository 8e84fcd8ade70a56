#include "cli/stdin_line_reader.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace operator_auth::cli {
namespace {

// How long Stop() may have to wait for the reader to notice.
constexpr int kPollIntervalMs = 100;

}  // namespace

StdinLineReader::StdinLineReader(LineSink on_line, std::function<void()> on_too_long)
    : on_line_(std::move(on_line)), on_too_long_(std::move(on_too_long)) {}

StdinLineReader::~StdinLineReader() { Stop(); }

bool StdinLineReader::Start() {
  if (thread_.joinable()) return true;
  if (isatty(STDIN_FILENO) == 1) {
    // -1: not this process's controlling terminal, which cannot stop it either.
    const pid_t foreground = tcgetpgrp(STDIN_FILENO);
    if (foreground >= 0 && foreground != getpgrp()) return false;
    termios saved{};
    if (tcgetattr(STDIN_FILENO, &saved) == 0) {
      termios quiet = saved;
      // ICANON stays on: the terminal still hands over whole lines, and Ctrl-C still interrupts.
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK | ECHONL);
      if (tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0) saved_terminal_ = saved;
    }
  }
  thread_ = std::thread([this] { ReadLoop(); });
  return true;
}

void StdinLineReader::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (saved_terminal_.has_value()) {
    tcsetattr(STDIN_FILENO, TCSANOW, &*saved_terminal_);
    saved_terminal_.reset();
  }
}

void StdinLineReader::ReadLoop() {
  std::string line;
  bool dropping = false;  // inside a line that is too long
  char buffer[4096];
  while (!stop_) {
    pollfd readable{STDIN_FILENO, POLLIN, 0};
    const int ready = poll(&readable, 1, kPollIntervalMs);
    if (ready < 0 && errno != EINTR) return;
    if (ready <= 0) continue;
    if ((readable.revents & POLLNVAL) != 0) return;
    const ssize_t n = read(STDIN_FILENO, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return;
    }
    if (n == 0) break;  // EOF
    for (ssize_t i = 0; i < n; ++i) {
      const char c = buffer[i];
      if (c == '\n') {
        if (!dropping) Deliver(line);
        line.clear();
        dropping = false;
      } else if (dropping) {
        continue;
      } else if (line.size() >= kMaxPastedLineBytes) {
        line.clear();
        dropping = true;
        on_too_long_();
      } else {
        line.push_back(c);
      }
    }
  }
  // A last line without a newline, e.g. from `printf %s "$url" | operatorctl auth login ...`.
  if (!stop_ && !dropping) Deliver(line);
}

void StdinLineReader::Deliver(std::string& line) {
  const absl::string_view text = absl::StripAsciiWhitespace(line);
  if (!text.empty()) on_line_(std::string(text));
  line.clear();
}

}  // namespace operator_auth::cli
