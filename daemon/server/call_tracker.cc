#include "daemon/server/call_tracker.h"

#include "absl/time/clock.h"

namespace operator_auth {

bool CallTracker::WaitUntilIdle(absl::Duration timeout) {
  // Shutdown is rare and short: polling keeps the per-call cost to two atomic operations.
  const absl::Time deadline = absl::Now() + timeout;
  while (in_flight_.load(std::memory_order_acquire) != 0) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

}  // namespace operator_auth
