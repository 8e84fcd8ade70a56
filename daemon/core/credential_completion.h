// Fills in what a stored OAuth credential lacks and only the provider can tell (Google: the Code
// Assist project), once per credential however many callers ask:
//  - single flight per provider: callers that ask while a completion runs join it;
//  - off the hot path, on its own thread; the network call runs without providers.lock, and only
//    the final write takes it, adding the attributes only if the stored credential is still the
//    one completed (same refresh token) and leaving everything else in the entry as it is;
//  - remembered: a success for the credential it was for (callers are answered from memory even
//    when the write failed); a failure that needs the user (FAILED_PRECONDITION /
//    PERMISSION_DENIED) until the credential changes or Forget(); a transient one for a back-off
//    that starts at 30 s and doubles up to 10 min.
// Thread-safe. `done` runs on the completion thread or inline, never under a lock.
#pragma once

#include <functional>
#include <map>
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
#include "daemon/core/secret_string.h"

namespace operator_auth {

class CredentialCompletion {
 public:
  struct Options {
    absl::Duration initial_backoff = absl::Seconds(30);
    absl::Duration max_backoff = absl::Minutes(10);
  };
  using Clock = std::function<absl::Time()>;
  using Done = absl::AnyInvocable<void(absl::StatusOr<Credential>)>;  // move-only

  // `storage` and `service` must outlive the completion.
  CredentialCompletion(AuthStorage& storage, OAuthTokenService& service, Clock clock,
                       Options options);
  CredentialCompletion(AuthStorage& storage, OAuthTokenService& service)
      : CredentialCompletion(storage, service, nullptr, Options()) {}
  ~CredentialCompletion();  // finishes completions in flight

  // Calls `done` exactly once with `current` plus the completed attributes, or the error.
  void Complete(const std::string& provider, const Credential& current, Done done);
  // Forgets what is remembered for `provider` (a new login, a reloaded configuration).
  void Forget(const std::string& provider);

 private:
  // A caller waiting for a flight, with the credential it asked about: when the flight turns out
  // to be for another credential (a new login arrived meanwhile), it is asked again for its own.
  struct Waiter {
    SecretString identity;
    Credential current;
    Done done;
  };

  struct Flight {
    bool in_flight = false;
    std::vector<Waiter> waiters;
    // Which credential the remembered outcome is for (its refresh token, else its access token).
    SecretString identity;
    std::map<std::string, std::string> attributes;  // the remembered success
    absl::Status failure;                           // the remembered failure
    absl::Time retry_after = absl::InfinitePast();
    int transient_failures = 0;
  };

  void Run(const std::string& provider, const Credential& current, const SecretString& identity);

  AuthStorage& storage_;
  OAuthTokenService& service_;
  const Clock clock_;
  const Options options_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Flight> flights_ ABSL_GUARDED_BY(mu_);

  // Last member: destroyed first, so completions in flight finish while the rest still exists.
  BlockingExecutor executor_;
};

}  // namespace operator_auth
