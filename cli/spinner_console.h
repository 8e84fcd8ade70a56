// Output for an interactive command that waits: lines on stdout and stderr, plus, when stderr is a
// terminal, a spinner on the last line of stderr ("⠋ Waiting for the browser…") redrawn every
// 100 ms by a thread of its own. Every line printed first clears the spinner, so the two never
// mix; Stop() clears it for good and shows the cursor again. With stderr not a terminal there is
// no spinner and no control character at all. Thread-safe: any thread may print.
#pragma once

#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace operator_auth::cli {

class SpinnerConsole {
 public:
  // `animate`: draw the spinner (stderr is a terminal).
  explicit SpinnerConsole(bool animate);
  ~SpinnerConsole();  // Stop()

  SpinnerConsole(const SpinnerConsole&) = delete;
  SpinnerConsole& operator=(const SpinnerConsole&) = delete;

  // Writes `text` as it is (include the "\n") and flushes.
  void Out(absl::string_view text);
  void Err(absl::string_view text);

  // Shows the spinner with `label` (the cursor hidden) until StopSpinner(); a second call changes
  // the label.
  void StartSpinner(std::string label);
  void StopSpinner();

  // Ends the spinner thread, clears the spinner line and shows the cursor. Idempotent.
  void Stop();

 private:
  void Run();
  void DrawLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClearLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Clears the spinner and shows the cursor again.
  void RestoreLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const bool animate_;
  const bool utf8_;

  absl::Mutex mu_;
  bool spinning_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool drawn_ ABSL_GUARDED_BY(mu_) = false;  // the spinner is on screen
  bool cursor_hidden_ ABSL_GUARDED_BY(mu_) = false;
  size_t frame_ ABSL_GUARDED_BY(mu_) = 0;
  std::string label_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace operator_auth::cli
