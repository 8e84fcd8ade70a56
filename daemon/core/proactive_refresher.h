// Renews OAuth tokens before they expire, so GetApiKey on the hot path almost never waits for a
// token endpoint. A token is due when less than max(min_window, lifetime_fraction x lifetime)
// remains, minus a per-provider jitter (so several daemons and tools do not all renew at the same
// instant); a token this daemon obtained itself, whose lifetime is shorter than that window, is
// renewed at half its lifetime instead. It looks again whenever the storage changes (our writes,
// and another tool's once read), so a token written close to expiry is renewed within about a
// second, and at least every max_sleep. Renewal goes through the RefreshCoordinator, so it is the same single refresh the
// callers would otherwise trigger, under the same lock and the same back-off.
// Thread-safe; owns one background thread between Start() and destruction.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/core/auth_storage.h"
#include "daemon/core/refresh_coordinator.h"

namespace operator_auth {

class ProactiveRefresher {
 public:
  struct Options {
    absl::Duration min_window = absl::Minutes(5);
    double lifetime_fraction = 0.1;
    absl::Duration max_jitter = absl::Seconds(30);
    // The longest the thread sleeps between looks, so external edits are picked up.
    absl::Duration max_sleep = absl::Seconds(30);
  };
  using Clock = std::function<absl::Time()>;

  // Listens to `storage` from construction to destruction.
  ProactiveRefresher(AuthStorage& storage, RefreshCoordinator& coordinator, Clock clock,
                     Options options);
  ~ProactiveRefresher();

  void Start();
  // Between Start() and destruction.
  bool running() const { return running_.load(std::memory_order_relaxed); }
  // One look at every OAuth credential: starts the refreshes that are due and returns when the
  // next one will be. Exposed for tests.
  absl::Time RunOnce();
  // When `provider`'s token is next due for renewal (InfiniteFuture when it is not tracked).
  absl::Time NextDue(const std::string& provider) const;

 private:
  void Loop();
  bool StoppingOrWoken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || wake_; }
  bool NoneOutstanding() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return outstanding_ == 0; }
  absl::Duration Jitter(const std::string& provider) const;

  AuthStorage& storage_;
  RefreshCoordinator& coordinator_;
  const Clock clock_;
  const Options options_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Set when a refresh we started finished, or the storage changed: look again at once.
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t storage_listener_ = 0;
  // Refreshes we started whose callbacks have not run yet; the destructor waits for them, since
  // the callbacks touch this object.
  int outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, absl::Time> due_ ABSL_GUARDED_BY(mu_);
  // The expiry each provider had when we first saw it, to estimate the token's lifetime.
  std::map<std::string, std::pair<int64_t, absl::Time>> first_seen_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
  std::atomic<bool> running_{false};
};

}  // namespace operator_auth
