// Decides which lines of a repetitive log message (a refused peer, an accept error) are written:
// at most `lines_per_window` per window, the rest only counted, and the first line written after
// a window that dropped some carries the count. A flood then costs a few lines a second instead
// of filling the journal, and nothing is hidden without a trace.
// Thread-safe; the clock is injectable for tests.
#pragma once

#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace operator_auth {

class RateLimitedLog {
 public:
  using Clock = std::function<absl::Time()>;

  struct Verdict {
    bool write = false;
    // When `write`: how many lines were dropped since the last one written. Say so in the line.
    uint64_t dropped_before = 0;
  };

  RateLimitedLog(int lines_per_window, absl::Duration window, Clock now = absl::Now);

  // One line wants out: may it be written?
  Verdict Admit();
  // Lines dropped and not yet reported by a written line.
  uint64_t pending_dropped() const;

 private:
  const int lines_per_window_;
  const absl::Duration window_;
  const Clock now_;
  mutable absl::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int written_in_window_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace operator_auth
