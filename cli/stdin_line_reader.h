// Reads what the user pastes during a login (a redirect URL or a code) from stdin, line by line,
// on a thread of its own, and hands each non-empty line to a callback. It stops at Stop(), at EOF
// (the login goes on without pastes) or on a read error. It polls with a short timeout instead of
// blocking in read(), so Stop() never waits on the user. On a terminal echo is off while it runs:
// what is pasted holds an authorization code, and no spinner redraw can garble it; the destructor
// restores the terminal. Nothing here ever prints what was read. Stdin on a terminal of which
// this process is not in the foreground is left alone (reading it would stop the process).
// Thread-safe: Start() and Stop() from one thread, callbacks on the reader's thread.
#pragma once

#include <termios.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace operator_auth::cli {

// A redirect URL is one or two KiB; anything this long is not one, and the daemon limits its
// requests to 64 KiB.
inline constexpr size_t kMaxPastedLineBytes = 16 * 1024;

class StdinLineReader {
 public:
  using LineSink = std::function<void(std::string line)>;

  // `on_line` gets each line without its line ending and surrounding blanks; `on_too_long` is
  // told (without the content) of a line over kMaxPastedLineBytes, which is dropped.
  StdinLineReader(LineSink on_line, std::function<void()> on_too_long);
  ~StdinLineReader();  // Stop()

  StdinLineReader(const StdinLineReader&) = delete;
  StdinLineReader& operator=(const StdinLineReader&) = delete;

  // Starts reading. False when stdin cannot be read here (a background job on a terminal).
  bool Start();
  // Stops reading (within the poll interval) and restores the terminal. Idempotent.
  void Stop();

  // Whether echo was turned off, i.e. whether what is pasted stays invisible.
  bool hides_input() const { return saved_terminal_.has_value(); }

 private:
  void ReadLoop();
  void Deliver(std::string& line);

  LineSink on_line_;
  std::function<void()> on_too_long_;
  std::atomic<bool> stop_{false};
  std::optional<termios> saved_terminal_;
  std::thread thread_;
};

}  // namespace operator_auth::cli
