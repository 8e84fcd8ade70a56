#include "daemon/core/login_slots.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace operator_auth {
namespace {

using ::testing::HasSubstr;

TEST(LoginSlots, ASecondLoginForTheSameProviderIsRefusedNamingIt) {
  LoginSlots slots;
  absl::StatusOr<LoginSlots::Slot> first = slots.Acquire("anthropic");
  ASSERT_TRUE(first.ok());
  absl::StatusOr<LoginSlots::Slot> second = slots.Acquire("anthropic");
  ASSERT_TRUE(absl::IsAlreadyExists(second.status())) << second.status();
  EXPECT_THAT(second.status().message(), HasSubstr("anthropic"));
  EXPECT_TRUE(slots.Acquire("openai-codex").ok()) << "another provider may log in";
}

TEST(LoginSlots, AtMostMaxLoginsRunAndAFinishedOneFreesItsPlace) {
  LoginSlots slots(2);
  absl::StatusOr<LoginSlots::Slot> a = slots.Acquire("a");
  absl::StatusOr<LoginSlots::Slot> b = slots.Acquire("b");
  ASSERT_TRUE(a.ok() && b.ok());
  absl::StatusOr<LoginSlots::Slot> c = slots.Acquire("c");
  ASSERT_TRUE(absl::IsResourceExhausted(c.status())) << c.status();
  EXPECT_THAT(c.status().message(), HasSubstr("2 logins"));
  *a = LoginSlots::Slot();  // the login of "a" ends
  EXPECT_EQ(slots.running(), 1u);
  EXPECT_TRUE(slots.Acquire("c").ok());
  EXPECT_TRUE(slots.Acquire("a").ok()) << "its provider is free again";
}

TEST(LoginSlots, AMovedSlotReleasesOnce) {
  LoginSlots slots(1);
  {
    absl::StatusOr<LoginSlots::Slot> a = slots.Acquire("a");
    ASSERT_TRUE(a.ok());
    LoginSlots::Slot moved = *std::move(a);
    EXPECT_EQ(slots.running(), 1u);
  }
  EXPECT_EQ(slots.running(), 0u);
}

TEST(LoginSlots, AHundredRacingLoginsNeverExceedTheCap) {
  LoginSlots slots(4);
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::atomic<int> ok{0}, exists{0}, exhausted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<LoginSlots::Slot> slot = slots.Acquire("p" + std::to_string(i % 8));
      if (slot.ok()) {
        int now = ++running;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        --running;
        ++ok;
      } else if (absl::IsAlreadyExists(slot.status())) {
        ++exists;
      } else if (absl::IsResourceExhausted(slot.status())) {
        ++exhausted;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(peak.load(), 4);
  EXPECT_GE(ok.load(), 1);
  EXPECT_EQ(ok + exists + exhausted, 100);
  EXPECT_EQ(slots.running(), 0u);
}

}  // namespace
}  // namespace operator_auth
