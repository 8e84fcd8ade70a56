#include "cli/interrupt_watch.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace operator_auth::cli {
namespace {

// The write end of the live watch's pipe, for the handler; -1 when there is none.
volatile sig_atomic_t g_interrupt_fd = -1;

// What the handler writes for a signal, and what the destructor writes to end the thread.
constexpr char kSignalled = 's';
constexpr char kQuit = 'q';

extern "C" void NoteInterrupt(int) {
  const int saved_errno = errno;
  const int fd = g_interrupt_fd;
  if (fd >= 0) {
    // A full pipe already holds enough wake-ups; losing this byte loses nothing.
    [[maybe_unused]] ssize_t ignored = write(fd, &kSignalled, 1);
  }
  errno = saved_errno;
}

}  // namespace

InterruptWatch::InterruptWatch(std::function<void(int count)> on_interrupt)
    : on_interrupt_(std::move(on_interrupt)) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  g_interrupt_fd = write_fd_;
  thread_ = std::thread([this] { Run(); });

  struct sigaction action {};
  action.sa_handler = NoteInterrupt;
  // SA_RESTART: the other threads' reads and polls carry on; only the watch thread reacts.
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (size_t i = 0; i < std::size(kSignals); ++i) {
    sigaction(kSignals[i], nullptr, &previous_[i]);
    if (previous_[i].sa_handler != SIG_IGN) sigaction(kSignals[i], &action, nullptr);
  }
}

InterruptWatch::~InterruptWatch() {
  if (read_fd_ < 0) return;
  for (size_t i = 0; i < std::size(kSignals); ++i) sigaction(kSignals[i], &previous_[i], nullptr);
  g_interrupt_fd = -1;
  // Blocking for this one byte: it must arrive even if signals filled the pipe.
  fcntl(write_fd_, F_SETFL, 0);
  while (write(write_fd_, &kQuit, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
  close(write_fd_);
  close(read_fd_);
}

void InterruptWatch::Run() {
  int count = 0;
  while (true) {
    pollfd readable{read_fd_, POLLIN, 0};
    if (poll(&readable, 1, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    char bytes[16];
    const ssize_t n = read(read_fd_, bytes, sizeof(bytes));
    if (n <= 0) continue;
    for (ssize_t i = 0; i < n; ++i) {
      if (bytes[i] == kQuit) return;
      on_interrupt_(++count);
    }
  }
}

}  // namespace operator_auth::cli
