#include "daemon/vendor/vendor_lock.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "daemon/core/posix_error.h"
#include "daemon/core/thread_start.h"
#include "spdlog/spdlog.h"

namespace operator_auth {

struct VendorLock::Held {
  std::vector<VendorLockSpec> taken;
  absl::Mutex mu;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  std::thread renewer;

  ~Held() {
    if (renewer.joinable()) {
      {
        absl::MutexLock lock(&mu);
        stopping = true;
      }
      renewer.join();
    }
    // Released in the reverse order of taking.
    for (auto it = taken.rbegin(); it != taken.rend(); ++it) {
      if (rmdir(it->path.c_str()) != 0 && errno != ENOENT) {
        spdlog::warn("could not remove the lock {}: {}", it->path, strerror(errno));
      }
    }
  }

  // Renews each lock's mtime as proper-lockfile's holder does, so no taker sees it stale.
  void Renew() {
    absl::Duration period = absl::InfiniteDuration();
    for (const VendorLockSpec& spec : taken) period = std::min(period, spec.update);
    absl::MutexLock lock(&mu);
    while (!mu.AwaitWithTimeout(absl::Condition(&stopping), period)) {
      for (const VendorLockSpec& spec : taken) utimes(spec.path.c_str(), nullptr);
    }
  }
};

namespace {

enum class Attempt { kTaken, kHeld, kSkipped };

// One attempt at `spec`.
absl::StatusOr<Attempt> TryTake(const VendorLockSpec& spec) {
  if (mkdir(spec.path.c_str(), 0700) == 0) return Attempt::kTaken;
  if (!spec.required && (errno == EROFS || errno == EACCES || errno == EPERM)) {
    spdlog::debug("cannot make the optional lock {} ({}); going on without it", spec.path,
                  strerror(errno));
    return Attempt::kSkipped;
  }
  if (errno != EEXIST) return PosixError(errno, "mkdir", spec.path);
  struct stat st {};
  if (lstat(spec.path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Attempt::kHeld;  // released meanwhile: try again at once
    return PosixError(errno, "stat", spec.path);
  }
  const absl::Time mtime = absl::TimeFromTimespec(st.st_mtim);
  // A directory renewed in the future (a clock step) is not stale: proper-lockfile's rule.
  if (absl::Now() - mtime <= spec.stale) return Attempt::kHeld;
  spdlog::info("taking over the stale lock {} (untouched for {})", spec.path,
               absl::FormatDuration(absl::Trunc(absl::Now() - mtime, absl::Seconds(1))));
  if (rmdir(spec.path.c_str()) != 0 && errno != ENOENT) {
    return PosixError(errno, "remove the stale lock", spec.path);
  }
  return Attempt::kHeld;
}

}  // namespace

VendorLock::VendorLock(std::unique_ptr<Held> held) : held_(std::move(held)) {}
VendorLock::VendorLock(VendorLock&&) noexcept = default;
VendorLock& VendorLock::operator=(VendorLock&&) noexcept = default;
VendorLock::~VendorLock() = default;

absl::StatusOr<VendorLock> VendorLock::Acquire(const std::vector<VendorLockSpec>& specs,
                                               absl::Duration timeout) {
  auto held = std::make_unique<Held>();
  const absl::Time deadline = absl::Now() + timeout;
  for (const VendorLockSpec& spec : specs) {
    absl::Duration pause = absl::Milliseconds(10);
    absl::StatusOr<Attempt> attempt = Attempt::kHeld;
    while (true) {
      attempt = TryTake(spec);
      if (!attempt.ok()) return attempt.status();  // ~Held releases what was taken
      if (*attempt != Attempt::kHeld) break;
      if (absl::Now() >= deadline) {
        return absl::UnavailableError(absl::StrCat(
            spec.path, " is held by another process (the vendor's CLI is refreshing); try again"));
      }
      absl::SleepFor(pause);
      pause = std::min(pause * 2, absl::Milliseconds(200));
    }
    if (*attempt == Attempt::kTaken) held->taken.push_back(spec);
  }
  if (!held->taken.empty()) {
    Held* raw = held.get();
    absl::StatusOr<std::thread> renewer =
        StartThread("vendor lock renewer", [raw] { raw->Renew(); });
    if (!renewer.ok()) return renewer.status();  // ~Held releases the locks
    held->renewer = *std::move(renewer);
  }
  return VendorLock(std::move(held));
}

}  // namespace operator_auth
