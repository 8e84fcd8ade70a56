// Waiting for a condition another thread or process brings about, in tests: a bounded poll that
// stops by itself.
#pragma once

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace operator_auth::testing {

// Polls `done` every 5 ms for up to `timeout`; true when it became true.
inline bool Eventually(const std::function<bool()>& done,
                       absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return done();
}

}  // namespace operator_auth::testing
