#include "daemon/core/rate_limited_log.h"

#include <gtest/gtest.h>

namespace operator_auth {
namespace {

class FakeClock {
 public:
  RateLimitedLog::Clock AsClock() {
    return [this] { return now_; };
  }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
};

TEST(RateLimitedLog, WritesABurstThenCountsTheRestAndReportsTheCountWithTheNextLine) {
  FakeClock clock;
  RateLimitedLog log(3, absl::Seconds(1), clock.AsClock());
  for (int i = 0; i < 3; ++i) {
    RateLimitedLog::Verdict v = log.Admit();
    EXPECT_TRUE(v.write);
    EXPECT_EQ(v.dropped_before, 0u);
  }
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(log.Admit().write);
  EXPECT_EQ(log.pending_dropped(), 1000u);

  clock.Advance(absl::Milliseconds(999));
  EXPECT_FALSE(log.Admit().write) << "still the same window";

  clock.Advance(absl::Milliseconds(1));
  RateLimitedLog::Verdict next = log.Admit();
  EXPECT_TRUE(next.write);
  EXPECT_EQ(next.dropped_before, 1001u);
  EXPECT_EQ(log.pending_dropped(), 0u);
  EXPECT_EQ(log.Admit().dropped_before, 0u) << "a count is reported once";
}

TEST(RateLimitedLog, AFloodOfTenSecondsWritesAFewLinesPerSecond) {
  FakeClock clock;
  RateLimitedLog log(5, absl::Seconds(1), clock.AsClock());
  int written = 0;
  uint64_t reported = 0;
  constexpr int kAttempts = 10'000;
  for (int i = 0; i < kAttempts; ++i) {
    RateLimitedLog::Verdict v = log.Admit();
    if (v.write) {
      ++written;
      reported += v.dropped_before;
    }
    clock.Advance(absl::Milliseconds(1));  // 1,000 attempts a second for 10 s
  }
  EXPECT_EQ(written, 50);
  EXPECT_EQ(reported + log.pending_dropped() + written, static_cast<uint64_t>(kAttempts))
      << "every line is either written or counted";
}

TEST(RateLimitedLog, AClockThatStepsBackStartsANewWindow) {
  FakeClock clock;
  RateLimitedLog log(1, absl::Seconds(1), clock.AsClock());
  EXPECT_TRUE(log.Admit().write);
  EXPECT_FALSE(log.Admit().write);
  clock.Advance(absl::Seconds(-10));
  EXPECT_TRUE(log.Admit().write) << "a clock stepped back must not silence the log for 10 s";
}

}  // namespace
}  // namespace operator_auth
