// Turns SIGINT, SIGTERM, SIGHUP and SIGQUIT into calls of a callback on a thread of its own, so
// that a long interactive command (a login) can wind down cleanly instead of dying mid-way. The
// signal handler only writes a byte to a pipe (async-signal-safe); the thread does the rest. A
// signal the invoker chose to ignore (nohup, a background job) stays ignored. The destructor puts
// the previous handlers back. One InterruptWatch at a time per process; not to be combined with
// ReadSecretFromStdin, which owns the same signals while it reads.
#pragma once

#include <signal.h>

#include <functional>
#include <iterator>
#include <thread>

namespace operator_auth::cli {

class InterruptWatch {
 public:
  // `on_interrupt(count)` runs on the watch's thread once per signal; count is 1 for the first.
  explicit InterruptWatch(std::function<void(int count)> on_interrupt);
  ~InterruptWatch();

  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

  // False when the pipe could not be made; the signals then keep their previous handlers.
  bool active() const { return read_fd_ >= 0; }

 private:
  static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

  void Run();

  std::function<void(int)> on_interrupt_;
  int read_fd_ = -1;
  int write_fd_ = -1;
  struct sigaction previous_[std::size(kSignals)]{};
  std::thread thread_;
};

}  // namespace operator_auth::cli
