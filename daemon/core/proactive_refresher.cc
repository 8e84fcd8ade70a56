#include "daemon/core/proactive_refresher.h"

#include <algorithm>
#include <functional>

namespace operator_auth {

ProactiveRefresher::ProactiveRefresher(AuthStorage& storage, RefreshCoordinator& coordinator,
                                       Clock clock, Options options)
    : storage_(storage),
      coordinator_(coordinator),
      clock_(clock ? std::move(clock) : Clock([] { return absl::Now(); })),
      options_(options) {
  // Runs under the storage's lock; takes only ours, which is never held while we call into the
  // storage.
  storage_listener_ = storage_.AddChangeListener([this] {
    absl::MutexLock lock(&mu_);
    wake_ = true;
  });
}

ProactiveRefresher::~ProactiveRefresher() {
  storage_.RemoveChangeListener(storage_listener_);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(this, &ProactiveRefresher::NoneOutstanding));
}

void ProactiveRefresher::Start() {
  thread_ = std::thread([this] { Loop(); });
  running_ = true;
}

absl::Duration ProactiveRefresher::Jitter(const std::string& provider) const {
  // Stable per provider and per process, spread over [0, max_jitter).
  size_t h = std::hash<std::string>{}(provider) ^ reinterpret_cast<uintptr_t>(this);
  return options_.max_jitter * (static_cast<double>(h % 1000) / 1000.0);
}

absl::Time ProactiveRefresher::RunOnce() {
  const absl::Time now = clock_();
  absl::Time next = now + options_.max_sleep;
  std::shared_ptr<const CredentialSnapshot> snapshot = storage_.Snapshot();
  std::map<std::string, absl::Time> due;
  for (const auto& [id, c] : snapshot->credentials) {
    if (c.type != CredentialType::kOAuth || c.refresh.empty() || c.expires_unix_ms <= 0 ||
        !coordinator_.CanRefresh(id)) {
      continue;
    }
    RefreshState state = coordinator_.StateOf(id);
    if (state.phase == RefreshPhase::kRefreshing || coordinator_.NeedsLogin(id, c.refresh)) {
      continue;
    }
    const absl::Time expires = absl::FromUnixMillis(c.expires_unix_ms);
    absl::Duration lifetime;
    {
      absl::MutexLock lock(&mu_);
      auto seen = first_seen_.find(id);
      if (seen == first_seen_.end() || seen->second.first != c.expires_unix_ms) {
        seen = first_seen_.insert_or_assign(id, std::make_pair(c.expires_unix_ms, now)).first;
      }
      // Remaining time when first seen: a lower bound of the lifetime, exact for tokens we
      // refreshed ourselves.
      lifetime = expires - seen->second.second;
    }
    absl::Duration window =
        std::max(options_.min_window, lifetime * options_.lifetime_fraction) + Jitter(id);
    // A token that lives shorter than the window would be due the moment we renewed it: when
    // it is the one our own last renewal obtained, whose lifetime we know, renew at half-life
    // instead. A token another process wrote since gets the plain window (due at once if short).
    // A token a vendor's CLI also holds is renewed before that CLI would renew it by itself.
    if (std::shared_ptr<RefreshParticipant> participant = coordinator_.participant()) {
      window = std::max(window, participant->RenewLead(id));
    }
    if (state.obtained_expires_unix_ms == c.expires_unix_ms &&
        state.last_success != absl::InfinitePast() && expires > state.last_success) {
      window = std::min(window, (expires - state.last_success) / 2);
    }
    absl::Time when = std::max(expires - window, state.retry_after);
    due[id] = when;
    coordinator_.SetScheduled(id, when);
    if (when <= now) {
      // Ask for validity past the window, so the coordinator refreshes now, under the lock,
      // unless another process already has.
      {
        absl::MutexLock lock(&mu_);
        ++outstanding_;
      }
      coordinator_.Refresh(id, now + window, [this](absl::StatusOr<Credential>) {
        absl::MutexLock lock(&mu_);
        wake_ = true;
        --outstanding_;
      });
    } else {
      next = std::min(next, when);
    }
  }
  absl::MutexLock lock(&mu_);
  due_ = std::move(due);
  return std::max(next, now + absl::Seconds(1));
}

absl::Time ProactiveRefresher::NextDue(const std::string& provider) const {
  absl::MutexLock lock(&mu_);
  auto it = due_.find(provider);
  return it == due_.end() ? absl::InfiniteFuture() : it->second;
}

void ProactiveRefresher::Loop() {
  while (true) {
    absl::Time next = RunOnce();
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithDeadline(absl::Condition(this, &ProactiveRefresher::StoppingOrWoken), next);
    if (stopping_) return;
    if (wake_) {
      // A refresh we started finished: look again soon, but never spin (a refresh that fails
      // without reaching the network, e.g. on an unparseable file, finishes at once).
      wake_ = false;
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Seconds(1));
      if (stopping_) return;
    }
  }
}

}  // namespace operator_auth
