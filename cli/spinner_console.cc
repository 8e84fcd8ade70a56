#include "cli/spinner_console.h"

#include <cstdlib>
#include <iostream>
#include <iterator>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"

namespace operator_auth::cli {
namespace {

constexpr absl::Duration kFrameInterval = absl::Milliseconds(100);

constexpr absl::string_view kBrailleFrames[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
constexpr absl::string_view kAsciiFrames[] = {"|", "/", "-", "\\"};

constexpr absl::string_view kClearLine = "\r\x1b[K";
constexpr absl::string_view kHideCursor = "\x1b[?25l";
constexpr absl::string_view kShowCursor = "\x1b[?25h";

// The locale the terminal was set up for, as the C library would pick it (LC_ALL, LC_CTYPE,
// LANG). Braille frames on a terminal that is not UTF-8 would show as garbage.
bool LocaleIsUtf8() {
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') continue;
    const std::string lower = absl::AsciiStrToLower(value);
    return absl::StrContains(lower, "utf-8") || absl::StrContains(lower, "utf8");
  }
  return false;
}

}  // namespace

SpinnerConsole::SpinnerConsole(bool animate) : animate_(animate), utf8_(LocaleIsUtf8()) {
  if (animate_) thread_ = std::thread([this] { Run(); });
}

SpinnerConsole::~SpinnerConsole() { Stop(); }

void SpinnerConsole::Out(absl::string_view text) {
  absl::MutexLock lock(&mu_);
  ClearLocked();
  std::cout << text << std::flush;
}

void SpinnerConsole::Err(absl::string_view text) {
  absl::MutexLock lock(&mu_);
  ClearLocked();
  std::cerr << text << std::flush;
}

void SpinnerConsole::StartSpinner(std::string label) {
  absl::MutexLock lock(&mu_);
  spinning_ = true;
  label_ = std::move(label);
}

void SpinnerConsole::StopSpinner() {
  absl::MutexLock lock(&mu_);
  spinning_ = false;
  RestoreLocked();
}

void SpinnerConsole::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    spinning_ = false;
  }
  if (thread_.joinable()) thread_.join();
  absl::MutexLock lock(&mu_);
  RestoreLocked();
}

void SpinnerConsole::Run() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (spinning_) DrawLocked();
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), kFrameInterval);
  }
}

void SpinnerConsole::DrawLocked() {
  const absl::string_view frame = utf8_ ? kBrailleFrames[frame_ % std::size(kBrailleFrames)]
                                        : kAsciiFrames[frame_ % std::size(kAsciiFrames)];
  ++frame_;
  if (!cursor_hidden_) {
    std::cerr << kHideCursor;
    cursor_hidden_ = true;
  }
  std::cerr << kClearLine << frame << " " << label_ << (utf8_ ? "…" : "...") << std::flush;
  drawn_ = true;
}

void SpinnerConsole::ClearLocked() {
  if (!drawn_) return;
  std::cerr << kClearLine << std::flush;
  drawn_ = false;
}

void SpinnerConsole::RestoreLocked() {
  ClearLocked();
  if (!cursor_hidden_) return;
  std::cerr << kShowCursor << std::flush;
  cursor_hidden_ = false;
}

}  // namespace operator_auth::cli
