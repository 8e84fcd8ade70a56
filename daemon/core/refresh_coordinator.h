// Refreshes each provider's OAuth token exactly once, however many callers ask at once:
//  - in this process, concurrent callers for one provider join the refresh in flight (single
//    flight); different providers have separate flights;
//  - across processes, the refresh runs under providers.lock: re-read the file, refresh only if
//    the token is still expired there (another process may have done it), write atomically.
// Failures are classified by the OAuthTokenService: a dead refresh token marks the provider as
// needing a new login (the credential stays in the file); transient failures back off
// exponentially (capped) and callers get UNAVAILABLE without a network call meanwhile.
// The network call happens under the file lock, as the shared protocol requires, but not in this
// process's writer queue (AuthStorage::HoldLock): our other writes, and refreshes of other
// providers, go on meanwhile; other processes wait, each call bounded by the HTTP timeout cap.
// A timed-out endpoint backs off from 30 s, so a hanging one holds the lock only a small share
// of the time.
// Thread-safe. `done` callbacks run on a refresh thread or inline, never under a lock.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/core/auth_storage.h"
#include "daemon/core/blocking_executor.h"
#include "daemon/core/oauth_token_service.h"
#include "daemon/core/refresh_participant.h"
#include "daemon/core/secret_string.h"

namespace operator_auth {

enum class RefreshPhase { kIdle, kRefreshing, kBackoff, kNeedsLogin };

// What status shows about a provider's refreshes. Holds no secret.
struct RefreshState {
  RefreshPhase phase = RefreshPhase::kIdle;
  std::string last_error;
  int consecutive_failures = 0;
  absl::Time retry_after = absl::InfinitePast();
  absl::Time last_success = absl::InfinitePast();
  int64_t refreshes = 0;  // successful token-endpoint refreshes by this daemon
  // The expiry of the token this daemon's last refresh obtained (0: none): tells a token we got,
  // whose lifetime we know, from one another process wrote since.
  int64_t obtained_expires_unix_ms = 0;
  // When the background refresher plans to renew the token (InfiniteFuture: not planned).
  absl::Time scheduled = absl::InfiniteFuture();
};

class RefreshCoordinator {
 public:
  struct Options {
    absl::Duration initial_backoff = absl::Seconds(1);
    // After a token endpoint that did not answer in time (DEADLINE_EXCEEDED).
    absl::Duration initial_timeout_backoff = absl::Seconds(30);
    absl::Duration max_backoff = absl::Minutes(5);
    int threads = 4;
  };
  using Clock = std::function<absl::Time()>;
  // Move-only: a waiter's own state (a call guard) moves in, no shared_ptr or copy needed.
  using Done = absl::AnyInvocable<void(absl::StatusOr<Credential>)>;

  // `storage` and `refresher` must outlive the coordinator.
  RefreshCoordinator(AuthStorage& storage, OAuthTokenService& refresher, Clock clock,
                     Options options);
  RefreshCoordinator(AuthStorage& storage, OAuthTokenService& refresher, Clock clock)
      : RefreshCoordinator(storage, refresher, std::move(clock), Options()) {}
  ~RefreshCoordinator();  // finishes refreshes in flight

  // Makes sure `provider`'s stored access token is valid until at least `valid_until`, refreshing
  // it if not. Calls `done` exactly once with the (possibly refreshed) credential or the error:
  // UNAUTHENTICATED (needs a new login), UNAVAILABLE / DEADLINE_EXCEEDED (transient, backing
  // off), NOT_FOUND / FAILED_PRECONDITION (nothing refreshable stored).
  void Refresh(const std::string& provider, absl::Time valid_until, Done done);

  // Blocking form of Refresh, for tests and tools.
  absl::StatusOr<Credential> RefreshAndWait(const std::string& provider, absl::Time valid_until);

  // Forgets the provider's refresh state, then revokes `credential` at the provider (logout) on
  // a revocation thread, off the write path, and calls `done` there with the outcome; at once
  // with RESOURCE_EXHAUSTED, and no network call, when too many revocations are queued.
  using RevokeDone = std::function<void(absl::Status)>;
  void Revoke(const std::string& provider, Credential credential, RevokeDone done);
  // Forgets the provider's refresh state (needs-login, back-off), e.g. after a new login.
  void Forget(const std::string& provider);

  RefreshState StateOf(const std::string& provider) const;
  // True while the refresh token the provider rejected is still the stored one
  // (`stored_refresh`); a new login written by anyone clears it.
  bool NeedsLogin(const std::string& provider, const SecretString& stored_refresh) const;
  // Records when the background refresher plans to renew `provider`'s token, for status.
  void SetScheduled(const std::string& provider, absl::Time when);
  bool CanRefresh(const std::string& provider) const { return refresher_.CanRefresh(provider); }
  // The provider side this coordinator refreshes through (usage, completion).
  OAuthTokenService& service() const { return refresher_; }

  // Calls `participant` around every refresh from now on (null: none). A refresh keeps the
  // participant it started with alive until it ends.
  void SetParticipant(std::shared_ptr<RefreshParticipant> participant) {
    absl::MutexLock lock(&participant_mu_);
    participant_ = std::move(participant);
  }
  std::shared_ptr<RefreshParticipant> participant() const {
    absl::MutexLock lock(&participant_mu_);
    return participant_;
  }

 private:
  struct Flight {
    bool in_flight = false;
    absl::Time valid_until;
    std::vector<Done> waiters;
    RefreshState state;
    // The refresh token the provider rejected; the provider needs a login while the file still
    // holds this one. Memory only, like every other secret the daemon holds.
    SecretString dead_refresh_token;
  };

  void Run(const std::string& provider, absl::Time valid_until);
  // At most `cap` (and options' max_backoff) before the jitter.
  absl::Duration BackoffFor(int failures, bool timed_out,
                            absl::Duration cap = absl::InfiniteDuration()) const;

  AuthStorage& storage_;
  OAuthTokenService& refresher_;
  const Clock clock_;
  const Options options_;
  mutable absl::Mutex participant_mu_;
  std::shared_ptr<RefreshParticipant> participant_ ABSL_GUARDED_BY(participant_mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Flight> flights_ ABSL_GUARDED_BY(mu_);

  // Last members: destroyed first, so refreshes and revocations in flight finish while the rest
  // still exists.
  BlockingExecutor executor_;
  BlockingExecutor revocations_;
};

}  // namespace operator_auth
