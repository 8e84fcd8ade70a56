#include "daemon/core/rate_limited_log.h"

#include <utility>

namespace operator_auth {

RateLimitedLog::RateLimitedLog(int lines_per_window, absl::Duration window, Clock now)
    : lines_per_window_(lines_per_window), window_(window), now_(std::move(now)) {}

RateLimitedLog::Verdict RateLimitedLog::Admit() {
  const absl::Time now = now_();
  absl::MutexLock lock(&mu_);
  if (now - window_start_ >= window_ || now < window_start_) {
    window_start_ = now;
    written_in_window_ = 0;
  }
  if (written_in_window_ >= lines_per_window_) {
    ++dropped_;
    return {};
  }
  ++written_in_window_;
  Verdict verdict{true, dropped_};
  dropped_ = 0;
  return verdict;
}

uint64_t RateLimitedLog::pending_dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

}  // namespace operator_auth
