#include "daemon/vendor/vendor_lock.h"

#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <optional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "tests/support/temp_dir.h"

namespace operator_auth {
namespace {

using ::testing::HasSubstr;
using testing::PathExists;
using testing::TempDir;

constexpr absl::Duration kShortTimeout = absl::Milliseconds(200);

VendorLockSpec Spec(const std::string& path) { return {path, absl::Seconds(60), absl::Seconds(5)}; }

// Sets the directory's mtime `age` into the past, as a holder that stopped renewing leaves it.
void Age(const std::string& path, absl::Duration age) {
  const timeval then = absl::ToTimeval(absl::Now() - age);
  const timeval times[2] = {then, then};
  ASSERT_EQ(utimes(path.c_str(), times), 0);
}

absl::Time MTime(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0);
  return absl::TimeFromTimespec(st.st_mtim);
}

TEST(VendorLock, TakesEveryLockAndReleasesThemInReverse) {
  TempDir dir;
  // The second lock lives inside the first: releasing in the order of taking could not remove
  // the first (it is not empty yet).
  const std::string outer = dir.Sub("outer.lock");
  const std::string inner = outer + "/inner.lock";
  {
    absl::StatusOr<VendorLock> lock =
        VendorLock::Acquire({Spec(outer), Spec(inner)}, kShortTimeout);
    ASSERT_TRUE(lock.ok()) << lock.status();
    EXPECT_TRUE(PathExists(outer));
    EXPECT_TRUE(PathExists(inner));
  }
  EXPECT_FALSE(PathExists(inner));
  EXPECT_FALSE(PathExists(outer));
}

TEST(VendorLock, NoSpecsIsANoOpLock) {
  absl::StatusOr<VendorLock> lock = VendorLock::Acquire({}, kShortTimeout);
  EXPECT_TRUE(lock.ok()) << lock.status();
}

TEST(VendorLock, AHeldLockIsUnavailableAfterTheTimeout) {
  TempDir dir;
  const std::string path = dir.Sub("auth.json.lock");
  absl::StatusOr<VendorLock> first = VendorLock::Acquire({Spec(path)}, kShortTimeout);
  ASSERT_TRUE(first.ok()) << first.status();
  const absl::Time start = absl::Now();
  absl::StatusOr<VendorLock> second = VendorLock::Acquire({Spec(path)}, kShortTimeout);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr(path));
  EXPECT_GE(absl::Now() - start, kShortTimeout);
  EXPECT_TRUE(PathExists(path));                            // still the first holder's
  *first = VendorLock::Acquire({}, kShortTimeout).value();  // releases it
  EXPECT_FALSE(PathExists(path));
  EXPECT_TRUE(VendorLock::Acquire({Spec(path)}, kShortTimeout).ok());
}

TEST(VendorLock, AStaleLockIsTakenOverAndAFreshOneIsNot) {
  TempDir dir;
  const std::string path = dir.Sub(".oauth_refresh.lock");
  ASSERT_EQ(mkdir(path.c_str(), 0700), 0);  // a holder that is alive
  absl::StatusOr<VendorLock> lock = VendorLock::Acquire({Spec(path)}, kShortTimeout);
  EXPECT_EQ(lock.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(PathExists(path));

  Age(path, absl::Seconds(61));  // the holder died a minute ago
  lock = VendorLock::Acquire({Spec(path)}, absl::Seconds(5));
  ASSERT_TRUE(lock.ok()) << lock.status();
  EXPECT_GT(MTime(path), absl::Now() - absl::Seconds(30));  // ours now
  lock = absl::UnavailableError("released");
  EXPECT_FALSE(PathExists(path));
}

TEST(VendorLock, TheHolderRenewsTheMtime) {
  TempDir dir;
  const std::string path = dir.Sub("auth.json.lock");
  absl::StatusOr<VendorLock> lock =
      VendorLock::Acquire({{path, absl::Seconds(30), absl::Seconds(1)}}, kShortTimeout);
  ASSERT_TRUE(lock.ok()) << lock.status();
  Age(path, absl::Seconds(20));
  const absl::Time deadline = absl::Now() + absl::Milliseconds(2500);
  while (MTime(path) < absl::Now() - absl::Seconds(10) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_GT(MTime(path), absl::Now() - absl::Seconds(10)) << "the mtime was not renewed";
}

TEST(VendorLock, WhenALaterLockIsHeldTheEarlierOnesAreReleased) {
  TempDir dir;
  const std::string first = dir.Sub("first.lock");
  const std::string second = dir.Sub("second.lock");
  ASSERT_EQ(mkdir(second.c_str(), 0700), 0);
  absl::StatusOr<VendorLock> lock = VendorLock::Acquire({Spec(first), Spec(second)}, kShortTimeout);
  EXPECT_EQ(lock.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(lock.status().message(), HasSubstr(second));
  EXPECT_FALSE(PathExists(first));
  EXPECT_TRUE(PathExists(second));  // not ours: left alone

  // A lock that cannot be made at all (its directory is missing) is an error, not a wait.
  lock = VendorLock::Acquire({Spec(first), Spec(dir.Sub("missing/x.lock"))}, kShortTimeout);
  EXPECT_FALSE(lock.ok());
  EXPECT_NE(lock.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(PathExists(first));
}

// Claude Code's older lock beside ~/.claude, where the sandboxed service may not write (the home
// is read-only there): an optional lock that cannot be made is skipped; a required one is an
// error. /sys refuses mkdir to root too (EPERM, or EROFS where it is mounted read-only).
TEST(VendorLock, AnOptionalLockThatCannotBeMadeIsSkipped) {
  TempDir dir;
  const std::string first = dir.Sub("first.lock");
  VendorLockSpec unwritable = Spec("/sys/operator-authd-test.lock");
  EXPECT_FALSE(VendorLock::Acquire({Spec(first), unwritable}, kShortTimeout).ok());
  EXPECT_FALSE(PathExists(first));
  unwritable.required = false;
  absl::StatusOr<VendorLock> lock = VendorLock::Acquire({Spec(first), unwritable}, kShortTimeout);
  ASSERT_TRUE(lock.ok()) << lock.status();
  EXPECT_TRUE(PathExists(first));
  // A held optional lock is still waited for: only one that cannot be made is skipped.
  const std::string held = dir.Sub("held.lock");
  ASSERT_EQ(mkdir(held.c_str(), 0700), 0);
  VendorLockSpec optional_held = Spec(held);
  optional_held.required = false;
  EXPECT_EQ(VendorLock::Acquire({optional_held}, kShortTimeout).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(VendorLock, MovesKeepTheLock) {
  TempDir dir;
  const std::string path = dir.Sub("auth.json.lock");
  absl::StatusOr<VendorLock> acquired = VendorLock::Acquire({Spec(path)}, kShortTimeout);
  ASSERT_TRUE(acquired.ok());
  std::optional<VendorLock> moved;
  moved.emplace(*std::move(acquired));
  acquired = absl::UnavailableError("moved from");  // destroys the moved-from lock
  EXPECT_TRUE(PathExists(path));
  VendorLock assigned = VendorLock::Acquire({}, kShortTimeout).value();
  assigned = *std::move(moved);
  moved.reset();
  EXPECT_TRUE(PathExists(path));
  EXPECT_FALSE(VendorLock::Acquire({Spec(path)}, absl::ZeroDuration()).ok());
  assigned = VendorLock::Acquire({}, kShortTimeout).value();
  EXPECT_FALSE(PathExists(path));
}

}  // namespace
}  // namespace operator_auth
