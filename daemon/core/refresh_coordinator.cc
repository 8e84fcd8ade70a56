#include "daemon/core/refresh_coordinator.h"

#include <algorithm>
#include <cmath>
#include <future>
#include <optional>
#include <random>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/credential_key.h"
#include "daemon/core/failpoint.h"
#include "daemon/core/refresh_token_holder.h"

namespace operator_auth {
namespace {

// Refreshes are rare: a queue this long only fills if something is badly wrong.
constexpr size_t kMaxQueuedRefreshes = 256;
// Logouts are rarer still; two threads so that one hanging endpoint does not hold up the rest.
constexpr int kRevocationThreads = 2;
constexpr size_t kMaxQueuedRevocations = 64;

bool ValidUntil(const Credential& c, absl::Time valid_until) {
  return !c.access.empty() && !c.ExpiresBy(valid_until);
}

// The longest back-off after the storage itself was unavailable (see Run).
constexpr absl::Duration kStorageBackoffCap = absl::Seconds(10);

}  // namespace

RefreshCoordinator::RefreshCoordinator(AuthStorage& storage, OAuthTokenService& refresher,
                                       Clock clock, Options options)
    : storage_(storage),
      refresher_(refresher),
      clock_(clock ? std::move(clock) : Clock([] { return absl::Now(); })),
      options_(options),
      executor_(options.threads, kMaxQueuedRefreshes),
      revocations_(kRevocationThreads, kMaxQueuedRevocations) {}

RefreshCoordinator::~RefreshCoordinator() = default;

absl::Duration RefreshCoordinator::BackoffFor(int failures, bool timed_out,
                                              absl::Duration cap) const {
  // initial * 2^(failures-1), capped, plus up to 25 % jitter so that daemons and tools that
  // failed together do not retry together. A timeout starts far higher: each attempt held the
  // lock for the whole timeout, and an endpoint that hangs once tends to hang again.
  const absl::Duration initial =
      timed_out ? options_.initial_timeout_backoff : options_.initial_backoff;
  double factor = std::pow(2.0, std::min(failures - 1, 30));
  const absl::Duration max = std::min(options_.max_backoff, cap);
  absl::Duration base = std::min(initial * factor, std::max(max, initial));
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(1.0, 1.25);
  return base * jitter(rng);
}

void RefreshCoordinator::Refresh(const std::string& provider, absl::Time valid_until, Done done) {
  // A provider whose refresh token was rejected needs a login, as long as the file still holds
  // that token: answer without touching the network or the lock.
  SecretString stored_refresh;
  {
    std::shared_ptr<const CredentialSnapshot> snapshot = storage_.Snapshot();
    auto it = snapshot->credentials.find(provider);
    if (it != snapshot->credentials.end()) stored_refresh = it->second.refresh;
  }
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    Flight& flight = flights_[provider];
    if (flight.in_flight) {
      flight.waiters.push_back(std::move(done));
      return;
    }
    const absl::Time now = clock_();
    if (!flight.dead_refresh_token.empty() && flight.dead_refresh_token == stored_refresh) {
      refused = absl::UnauthenticatedError(
          absl::StrCat(provider, " needs a new login: ", flight.state.last_error));
    } else if (now < flight.state.retry_after) {
      refused = absl::UnavailableError(absl::StrCat(
          "refreshing the ", provider, " token failed ", flight.state.consecutive_failures,
          " time(s) in a row (", flight.state.last_error, "); next attempt in ",
          absl::FormatDuration(absl::Ceil(flight.state.retry_after - now, absl::Seconds(1)))));
    } else {
      flight.in_flight = true;
      flight.valid_until = valid_until;
      flight.waiters.push_back(std::move(done));
      flight.state.phase = RefreshPhase::kRefreshing;
    }
  }
  if (!refused.ok()) {
    done(refused);
    return;
  }
  if (!executor_.Submit([this, provider, valid_until] { Run(provider, valid_until); })) {
    std::vector<Done> waiters;
    {
      absl::MutexLock lock(&mu_);
      Flight& flight = flights_[provider];
      flight.in_flight = false;
      flight.state.phase = RefreshPhase::kIdle;
      waiters.swap(flight.waiters);
    }
    for (Done& w : waiters) w(absl::ResourceExhaustedError("too many token refreshes queued"));
  }
}

void RefreshCoordinator::Run(const std::string& provider, absl::Time valid_until) {
  absl::StatusOr<Credential> result = absl::NotFoundError("no stored credential");
  bool refreshed = false;
  bool refresher_failed = false;
  SecretString used_refresh_token;

  // The token-endpoint call runs under the storage's lock, as the shared protocol requires (a
  // py-filelock tool must not refresh the same token meanwhile), but outside this process's
  // writer queue: our other writes go on under the lock this hold keeps, while other processes
  // wait for it. So the read before the call and the write after it are two updates, and the
  // write checks that nobody replaced the credential in between.
  absl::StatusOr<AuthStorage::LockHold> hold = storage_.HoldLock();
  absl::Status written = hold.status();
  // The storage itself could not be locked or written (not a participant, not the endpoint).
  bool storage_unavailable = absl::IsUnavailable(written);
  // A participant (a vendor CLI's file kept in sync) is entered under the storage's lock and
  // left after the write, so neither side can refresh the token in between.
  std::shared_ptr<RefreshParticipant> participant = this->participant();
  absl::StatusOr<RefreshParticipant::Hold> participant_hold = RefreshParticipant::Hold();
  if (written.ok() && participant != nullptr) {
    participant_hold = participant->BeforeRefresh(provider);
    written = participant_hold.status();
  }
  std::optional<Credential> stale;
  if (written.ok()) {
    written = storage_.Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
      AUTHD_FAILPOINT("refresh.locked");
      std::map<std::string, Credential> credentials = document.Credentials();
      auto it = credentials.find(provider);
      if (it == credentials.end()) {
        return absl::NotFoundError(absl::StrCat("no stored credential for ", provider));
      }
      const Credential& current = it->second;
      if (current.type != CredentialType::kOAuth) {
        return absl::FailedPreconditionError(
            absl::StrCat("the stored credential for ", provider, " is not an OAuth token"));
      }
      // Re-read under the lock: another process (or an earlier flight) may have refreshed it.
      if (ValidUntil(current, valid_until)) {
        result = current;
        return false;
      }
      if (current.refresh.empty()) {
        return absl::UnauthenticatedError(
            absl::StrCat("no refresh token is stored for ", provider, "; log in again"));
      }
      stale = current;
      return false;
    });
  }
  if (participant_hold.ok() && absl::IsUnavailable(written)) storage_unavailable = true;
  if (written.ok() && stale.has_value()) {
    used_refresh_token = stale->refresh;
    absl::StatusOr<Credential> fresh = refresher_.Refresh(provider, *stale);
    if (!fresh.ok()) {
      refresher_failed = true;
      written = fresh.status();
    } else {
      storage_.JournalRefresh(provider, used_refresh_token, *fresh);
      AUTHD_FAILPOINT("refresh.token_received");
      written = storage_.Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
        std::map<std::string, Credential> credentials = document.Credentials();
        auto it = credentials.find(provider);
        std::string write_to = provider;
        if (it == credentials.end() || it->second.refresh != used_refresh_token) {
          // `auth default` may have moved this account to another place while the endpoint
          // answered: the rotated token belongs wherever the refresh token we spent is now.
          // Dropping it would leave that account with a spent refresh token.
          std::string moved =
              KeyHoldingRefreshToken(credentials, ProviderOfKey(provider), used_refresh_token);
          if (!moved.empty()) write_to = std::move(moved);
        }
        if (write_to != provider) {
          spdlog::info("the {} credential moved to {} during its refresh; storing it there",
                       provider, write_to);
          document.Put(write_to, *fresh);
          // Our callers asked for what `provider` names now, which is another account.
          if (it != credentials.end() && ValidUntil(it->second, valid_until)) {
            result = it->second;
          } else {
            result = absl::AbortedError(absl::StrCat(
                "the ", provider, " account changed while it was being refreshed; try again"));
          }
          return true;
        }
        if (it == credentials.end() || it->second.refresh != used_refresh_token) {
          // Logged out or logged in again while the endpoint answered: what is stored now wins.
          spdlog::info("the {} credential changed during its refresh; keeping the new one",
                       provider);
          if (it != credentials.end() && ValidUntil(it->second, valid_until)) {
            result = it->second;
            return false;
          }
          return absl::AbortedError(absl::StrCat(
              "the ", provider, " credential changed while it was being refreshed; try again"));
        }
        document.Put(provider, *fresh);
        result = *std::move(fresh);
        refreshed = true;
        return true;
      });
      // Unavailable: the storage keeps the answer and writes it when it can.
      if (absl::IsUnavailable(written)) {
        storage_unavailable = true;
      } else {
        storage_.RefreshSettled(provider);
      }
    }
  }
  if (refreshed && written.ok() && participant_hold.ok() && *participant_hold != nullptr) {
    participant->AfterRefresh(provider);
  }
  participant_hold = RefreshParticipant::Hold();
  hold = AuthStorage::LockHold();  // other processes may take the lock from here on
  if (!written.ok()) result = written;
  if (refreshed && written.ok()) AUTHD_FAILPOINT("refresh.written");

  std::vector<Done> waiters;
  {
    absl::MutexLock lock(&mu_);
    Flight& flight = flights_[provider];
    RefreshState& state = flight.state;
    flight.in_flight = false;
    waiters.swap(flight.waiters);
    const absl::Time now = clock_();
    if (result.ok()) {
      state.phase = RefreshPhase::kIdle;
      state.last_error.clear();
      state.consecutive_failures = 0;
      state.retry_after = absl::InfinitePast();
      if (refreshed) {
        state.last_success = now;
        state.obtained_expires_unix_ms = result->expires_unix_ms;
        ++state.refreshes;
        state.scheduled = absl::InfiniteFuture();  // the background refresher plans anew
        spdlog::info("refreshed the {} token; valid until {}", provider,
                     absl::FormatTime(absl::FromUnixMillis(result->expires_unix_ms)));
      }
      flight.dead_refresh_token.clear();
    } else if (absl::IsUnauthenticated(result.status())) {
      state.phase = RefreshPhase::kNeedsLogin;
      state.last_error = std::string(result.status().message());
      spdlog::warn("{} needs a new login: {}", provider, state.last_error);
      state.consecutive_failures = 0;
      state.retry_after = absl::InfinitePast();
      flight.dead_refresh_token = used_refresh_token;
    } else if (refresher_failed) {
      state.phase = RefreshPhase::kBackoff;
      state.last_error = std::string(result.status().message());
      ++state.consecutive_failures;
      state.retry_after =
          now + BackoffFor(state.consecutive_failures, absl::IsDeadlineExceeded(result.status()));
      spdlog::warn("refreshing the {} token failed ({} in a row): {}; next attempt in {}", provider,
                   state.consecutive_failures, state.last_error,
                   absl::FormatDuration(absl::Trunc(state.retry_after - now, absl::Seconds(1))));
    } else if (storage_unavailable) {
      // The storage cannot be locked or written now: another process keeps providers.lock past
      // the lock timeout, or a fleet's cluster has no quorum. No call was made, but each attempt
      // waits its whole timeout, and the background refresher would ask every second: back off,
      // to at most kStorageBackoffCap, so a cluster that comes back is used within seconds.
      state.phase = RefreshPhase::kBackoff;
      state.last_error = std::string(result.status().message());
      ++state.consecutive_failures;
      state.retry_after =
          now + BackoffFor(state.consecutive_failures, false, kStorageBackoffCap);
      if (state.consecutive_failures == 1) {
        spdlog::warn("cannot refresh the {} token now: {}; trying again after a pause", provider,
                     state.last_error);
      }
    } else {
      // Nothing stored, or the file cannot be written: no network call was made, so there is
      // nothing to back off from.
      state.phase = RefreshPhase::kIdle;
      state.last_error = std::string(result.status().message());
    }
  }
  for (Done& w : waiters) w(result);
}

absl::StatusOr<Credential> RefreshCoordinator::RefreshAndWait(const std::string& provider,
                                                              absl::Time valid_until) {
  std::promise<absl::StatusOr<Credential>> promise;
  std::future<absl::StatusOr<Credential>> future = promise.get_future();
  Refresh(provider, valid_until,
          [&promise](absl::StatusOr<Credential> r) { promise.set_value(std::move(r)); });
  return future.get();
}

void RefreshCoordinator::Revoke(const std::string& provider, Credential credential,
                                RevokeDone done) {
  Forget(provider);
  auto shared_done = std::make_shared<RevokeDone>(std::move(done));
  bool queued =
      revocations_.Submit([this, provider, credential = std::move(credential), shared_done] {
        (*shared_done)(refresher_.Revoke(provider, credential));
      });
  if (!queued) {
    (*shared_done)(absl::ResourceExhaustedError(
        "too many revocations are queued; the credential was removed but not revoked"));
  }
}

void RefreshCoordinator::Forget(const std::string& provider) {
  absl::MutexLock lock(&mu_);
  auto it = flights_.find(provider);
  if (it != flights_.end() && !it->second.in_flight) flights_.erase(it);
}

bool RefreshCoordinator::NeedsLogin(const std::string& provider,
                                    const SecretString& stored_refresh) const {
  absl::MutexLock lock(&mu_);
  auto it = flights_.find(provider);
  return it != flights_.end() && !it->second.dead_refresh_token.empty() &&
         it->second.dead_refresh_token == stored_refresh;
}

void RefreshCoordinator::SetScheduled(const std::string& provider, absl::Time when) {
  absl::MutexLock lock(&mu_);
  flights_[provider].state.scheduled = when;
}

RefreshState RefreshCoordinator::StateOf(const std::string& provider) const {
  absl::MutexLock lock(&mu_);
  auto it = flights_.find(provider);
  return it == flights_.end() ? RefreshState() : it->second.state;
}

}  // namespace operator_auth
