#include "daemon/core/credential_completion.h"

#include <algorithm>
#include <optional>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace operator_auth {
namespace {

constexpr int kThreads = 1;
constexpr size_t kMaxQueued = 64;

SecretString IdentityOf(const Credential& c) { return c.refresh.empty() ? c.access : c.refresh; }

Credential With(Credential c, const std::map<std::string, std::string>& attributes) {
  for (const auto& [name, value] : attributes) c.attributes[name] = value;
  return c;
}

bool NeedsUser(const absl::Status& s) {
  return absl::IsFailedPrecondition(s) || absl::IsPermissionDenied(s);
}

}  // namespace

CredentialCompletion::CredentialCompletion(AuthStorage& storage, OAuthTokenService& service,
                                           Clock clock, Options options)
    : storage_(storage),
      service_(service),
      clock_(clock ? std::move(clock) : Clock([] { return absl::Now(); })),
      options_(options),
      executor_(kThreads, kMaxQueued) {}

CredentialCompletion::~CredentialCompletion() = default;

void CredentialCompletion::Complete(const std::string& provider, const Credential& current,
                                    Done done) {
  const SecretString identity = IdentityOf(current);
  std::optional<absl::StatusOr<Credential>> answer;  // set when answered from memory
  {
    absl::MutexLock lock(&mu_);
    Flight& flight = flights_[provider];
    if (flight.in_flight) {
      flight.waiters.push_back({identity, current, std::move(done)});
      return;
    }
    if (flight.identity != identity) {
      // Another credential (a new login, another tool's write): nothing remembered applies.
      flight.identity = identity;
      flight.attributes.clear();
      flight.failure = absl::OkStatus();
      flight.retry_after = absl::InfinitePast();
      flight.transient_failures = 0;
    }
    if (!flight.attributes.empty()) {
      answer = With(current, flight.attributes);
    } else if (!flight.failure.ok() &&
               (NeedsUser(flight.failure) || clock_() < flight.retry_after)) {
      answer = flight.failure;
    } else {
      flight.in_flight = true;
      flight.waiters.push_back({identity, current, std::move(done)});
    }
  }
  if (answer.has_value()) {
    done(*std::move(answer));
    return;
  }
  if (!executor_.Submit(
          [this, provider, current, identity] { Run(provider, current, identity); })) {
    std::vector<Waiter> waiters;
    {
      absl::MutexLock lock(&mu_);
      Flight& flight = flights_[provider];
      flight.in_flight = false;
      waiters.swap(flight.waiters);
    }
    for (Waiter& w : waiters) w.done(absl::ResourceExhaustedError("too many completions queued"));
  }
}

void CredentialCompletion::Run(const std::string& provider, const Credential& current,
                               const SecretString& identity) {
  // The network call, without any lock held.
  absl::StatusOr<std::map<std::string, std::string>> attributes =
      service_.Complete(provider, current);
  if (attributes.ok() && !attributes->empty()) {
    // Only the write takes providers.lock, and only adds to the credential we completed.
    absl::Status written =
        storage_.Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
          std::map<std::string, Credential> credentials = document.Credentials();
          auto it = credentials.find(provider);
          if (it == credentials.end() || it->second.type != CredentialType::kOAuth ||
              IdentityOf(it->second) != identity) {
            return false;  // logged out or replaced meanwhile
          }
          Credential stored = it->second;
          bool changed = false;
          for (const auto& [name, value] : *attributes) {
            auto [slot, inserted] = stored.attributes.emplace(name, value);
            if (!inserted && slot->second != value) {
              slot->second = value;
              inserted = true;
            }
            changed = changed || inserted;
          }
          if (changed) document.Put(provider, stored);
          return changed;
        });
    if (!written.ok()) {
      spdlog::warn("completing the {} credential: could not store it ({}); serving it from memory",
                   provider, std::string(written.message()));
    }
  }
  std::vector<Waiter> waiters;
  {
    absl::MutexLock lock(&mu_);
    Flight& flight = flights_[provider];
    flight.in_flight = false;
    waiters.swap(flight.waiters);
    if (flight.identity == identity) {
      if (attributes.ok()) {
        flight.attributes = *attributes;
        flight.failure = absl::OkStatus();
        flight.transient_failures = 0;
      } else {
        flight.failure = attributes.status();
        if (!NeedsUser(flight.failure)) {
          ++flight.transient_failures;
          absl::Duration wait = options_.initial_backoff;
          for (int i = 1; i < flight.transient_failures && wait < options_.max_backoff; ++i) {
            wait *= 2;
          }
          flight.retry_after = clock_() + std::min(wait, options_.max_backoff);
        }
      }
    }
  }
  if (!attributes.ok()) {
    spdlog::warn("completing the {} credential failed: {}", provider,
                 std::string(attributes.status().message()));
  }
  for (Waiter& w : waiters) {
    if (w.identity == identity) {
      // The completed attributes on the credential this caller asked about.
      w.done(attributes.ok() ? absl::StatusOr<Credential>(With(w.current, *attributes))
                             : absl::StatusOr<Credential>(attributes.status()));
    } else {
      Complete(provider, w.current, std::move(w.done));  // its own flight, now or after this one
    }
  }
}

void CredentialCompletion::Forget(const std::string& provider) {
  absl::MutexLock lock(&mu_);
  auto it = flights_.find(provider);
  if (it != flights_.end() && !it->second.in_flight) flights_.erase(it);
}

}  // namespace operator_auth
