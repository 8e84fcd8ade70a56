// Resolves, reports and changes provider credentials. Resolution order for GetApiKey:
//   runtime key (memory only) > stored API key > stored OAuth access token (refreshed through
//   the RefreshCoordinator when it has expired) > the daemon's {ID}_API_KEY environment variable.
// Environment values are never persisted. Every entry point validates its input. No network and
// no disk write on the read path; the storage's snapshot notices external edits.
// Thread-safe: any number of callers may use one manager at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/core/auth_storage.h"
#include "daemon/core/change_listeners.h"
#include "daemon/core/credential_completion.h"
#include "daemon/core/env_lookup.h"
#include "daemon/core/key_usage.h"
#include "daemon/core/provider_registry.h"
#include "daemon/core/refresh_coordinator.h"
#include "daemon/core/secret_string.h"

namespace operator_auth {

enum class KeySource { kStored, kRuntime, kEnv };

// An OAuth token counts as expired this long before its "expires" time.
// Runtime keys live in memory only, so their number is bounded, and one client's share of it.
inline constexpr size_t kMaxRuntimeKeys = 256;
inline constexpr size_t kMaxRuntimeKeysPerPeer = 32;

inline constexpr absl::Duration kOAuthExpiryMargin = absl::Seconds(30);

struct ResolvedKey {
  SecretString key;
  KeySource source = KeySource::kStored;
  std::string label;  // "providers.json (api_key)", "runtime", or the env variable's name
  int64_t expires_unix_ms = 0;
  std::string provider;  // the canonical id, also when the caller named an alias
  KeyUsage usage;
  std::string account;  // the named account it came from; empty for the default account
  // Until when the same request, in the same key state (ProviderAuthManager::KeyState), gets this
  // very answer: forever for a runtime key or a stored API key; for a stored OAuth token, the
  // moment it starts to count as expired. Never (InfinitePast) for an environment key, and for
  // an answer that needed a refresh or a completion.
  absl::Time reusable_until = absl::InfinitePast();
};

enum class StoredType { kNone, kApiKey, kOAuth, kUnknown };

// Everything status shows about a provider. Holds no secret.
struct ProviderStatus {
  std::string provider;
  std::string account;  // the account's name ("default" unless `auth default` named another)
  bool default_account = true;
  bool configured = false;
  std::optional<KeySource> source;  // set when configured
  std::string label;
  StoredType stored_type = StoredType::kNone;
  int64_t expires_unix_ms = 0;
  bool expired = false;
  std::string account_id;
  std::string project_id;  // Google Code Assist, once known
  std::string env_var;
  bool runtime_override = false;
  std::string storage_error;
  // OAuth refresh state, when the provider has a stored OAuth credential.
  bool needs_login = false;
  RefreshState refresh;
};

struct LogoutResult {
  bool removed = false;   // a stored credential was removed
  bool revoking = false;  // an OAuth credential is being revoked at the provider
};

// The outcome of a revocation: OK when the provider confirmed it.
using RevocationDone = std::function<void(absl::Status)>;

// One account of a provider in a listing.
struct AccountListing {
  std::string name;
  bool is_default = false;
  ProviderStatus status;
};

struct ProviderListing {
  std::string id;
  std::string display_name;
  ProviderKind kind = ProviderKind::kApiKey;
  bool builtin = false;
  ProviderStatus status;
  std::vector<std::string> aliases;
  // Every account with a stored credential, the default first; empty when the provider has only
  // its default account and nothing names it.
  std::vector<AccountListing> accounts;
};

class ProviderAuthManager {
 public:
  using EnvLookup = operator_auth::EnvLookup;
  using Clock = std::function<absl::Time()>;

  // Move-only, so a caller's call guard can ride in it as is.
  using KeyCallback = absl::AnyInvocable<void(absl::StatusOr<ResolvedKey>)>;

  // `storage`, `refresher` and `completion` (when given) must outlive the manager; `registry` is
  // copied. Without a refresher an expired OAuth token is reported as expired; without a
  // completion a credential is handed out as stored. `env` defaults to the process environment,
  // `clock` to absl::Now.
  ProviderAuthManager(AuthStorage& storage, const ProviderRegistry& registry,
                      EnvLookup env = nullptr, Clock clock = nullptr,
                      RefreshCoordinator* refresher = nullptr,
                      CredentialCompletion* completion = nullptr);
  ~ProviderAuthManager();
  ProviderAuthManager(const ProviderAuthManager&) = delete;
  ProviderAuthManager& operator=(const ProviderAuthManager&) = delete;

  // Every entry point below accepts an alias of a provider (the registry's) and answers with the
  // canonical id. This is that mapping; `name` must be a valid id.
  std::string Canonical(absl::string_view name) const;

  // Every entry point below that takes `provider` takes a selector "PROVIDER[@ACCOUNT]"
  // (common/credential_key.h): the default account when no account is named, or when the named
  // one is the default's name. Each account has its own credential, refresh flight, back-off and
  // runtime key; the environment's {ID}_API_KEY stands in only for the default account.
  // This is the credential key a selector names: "PROVIDER" or "PROVIDER@ACCOUNT".
  absl::StatusOr<std::string> KeyFor(absl::string_view selector);
  // The name `provider`'s default account goes by.
  std::string DefaultAccountName(const std::string& provider);
  // Makes named account `account` the provider's default (its entry moves to the top-level place
  // py-filelock readers see); the old default becomes a named account under its name. Returns
  // false when it already was the default; NOT_FOUND when there is no such account.
  absl::StatusOr<bool> SetDefaultAccount(absl::string_view provider, absl::string_view account);

  // What a GetApiKey answer is resolved from, besides the request: the storage's snapshot, the
  // runtime keys and the registry. `generation` moves whenever any of them changes (the storage
  // replaced its snapshot, a runtime key was set or cleared, SIGHUP replaced the registry). An
  // answer resolved from a `settled` state stays the answer to the same request for as long as
  // the generation has not moved, up to its `reusable_until`: what lets a server keep answers.
  struct KeyState {
    std::shared_ptr<const CredentialSnapshot> snapshot;
    uint64_t generation = 0;  // read once the snapshot was taken
    // The generation did not move while the snapshot was taken: answers resolved from this
    // state belong to `generation`. When false they are right, but may belong to an older one.
    bool settled = false;
  };
  // Takes the current snapshot (which notices other processes' writes first) and generation.
  KeyState CurrentKeyState();
  // The current generation, without taking a snapshot.
  uint64_t KeyGeneration() const { return key_generation_.load(std::memory_order_acquire); }
  // Calls `listener` each time the generation moves, under the lock of what changed (the
  // storage's, the runtime keys', the registry's): it must not block or call into the manager
  // or the storage, KeyGeneration() aside. Lets a server drop what it kept of the old state at
  // once (kept answers hold keys). Returns the id RemoveKeyStateListener takes; a removed
  // listener is never called after RemoveKeyStateListener returns.
  uint64_t AddKeyStateListener(std::function<void()> listener);
  void RemoveKeyStateListener(uint64_t id);
  // The clock expiry times are compared with (absl::Now unless the constructor was given one).
  absl::Time Now() const { return clock_(); }

  // Calls `done` exactly once: inline when no refresh is needed (the hot path: no lock beyond the
  // snapshot's, no disk write, no network), else from the refresh or completion thread. NOT_FOUND
  // when no level has a credential; INVALID_ARGUMENT for a bad id; a refresh's or completion's
  // error (e.g. FAILED_PRECONDITION: a Google account that needs GOOGLE_CLOUD_PROJECT) when it
  // failed and no environment key stands in.
  // `done` is any callable taking absl::StatusOr<ResolvedKey>, move-only allowed. Answered
  // inline it is called where it is, never type-erased (the hot path allocates no callback);
  // only a refresh or a completion moves it into a KeyCallback.
  template <typename Done>
  void GetApiKeyAsync(absl::string_view provider, Done&& done) {
    GetApiKeyAsync(provider, CurrentKeyState(), std::forward<Done>(done));
  }
  // The same, resolved from a key state the caller has just taken.
  template <typename Done>
  void GetApiKeyAsync(absl::string_view provider, const KeyState& state, Done&& done) {
    KeyLookup lookup = LookUp(provider, state.snapshot);
    if (lookup.answer.has_value()) {
      std::forward<Done>(done)(*std::move(lookup.answer));
      return;
    }
    ContinueLookUp(std::move(lookup), KeyCallback(std::forward<Done>(done)));
  }
  // Blocking form.
  absl::StatusOr<ResolvedKey> GetApiKey(absl::string_view provider);
  absl::StatusOr<ProviderStatus> GetStatus(absl::string_view provider);
  // Every registered provider, then every other id with a stored or runtime credential (sorted).
  // kCurrent first reads what changed on disk; kLastTaken never waits for a file or its lock
  // (daemon status).
  enum class View { kCurrent, kLastTaken };
  std::vector<ProviderListing> ListProviders(View view = View::kCurrent);

  // Persists the OAuth credential a login produced as a new entry (nothing of the old entry
  // survives) and clears the provider's refresh and completion state.
  absl::Status StoreOAuthLogin(absl::string_view provider, const Credential& credential);
  // Persists an API key. Returns true when a stored credential was replaced.
  absl::StatusOr<bool> SetApiKey(absl::string_view provider, absl::string_view key);
  // Memory only, highest priority; an empty key clears it. Returns true when a key was cleared.
  // `peer` names the caller: one may hold at most kMaxRuntimeKeysPerPeer of the
  // kMaxRuntimeKeys runtime keys (RESOURCE_EXHAUSTED past either).
  absl::StatusOr<bool> SetRuntimeApiKey(absl::string_view provider, absl::string_view key,
                                        absl::string_view peer = "");
  // Removes the stored credential and, for OAuth, then revokes exactly that credential at the
  // provider, off the write path: `revoked` (optional) gets the outcome from a revocation
  // thread when LogoutResult::revoking; a failed revocation leaves the removal standing.
  absl::StatusOr<LogoutResult> Logout(absl::string_view provider, RevocationDone revoked = nullptr);

  std::vector<StorageError> DrainErrors() { return storage_.DrainErrors(); }

  // Calls `listener` after a runtime key changed (stored changes come from the storage's own
  // listener). It must not block. Replacing it (nullptr removes it) is safe at any time, and the
  // old one is never called after this returns.
  void SetRuntimeChangeListener(std::function<void()> listener) {
    absl::MutexLock lock(&runtime_mu_);
    runtime_listener_ = std::move(listener);
  }

  // Replaces the registry ListProviders reports (SIGHUP re-reads the configured providers).
  void SetRegistry(ProviderRegistry registry);

 private:
  struct Resolution {
    std::optional<ResolvedKey> key;
    // The stored OAuth credential `key` comes from (points into the snapshot resolved).
    const Credential* oauth = nullptr;
    // The stored OAuth token has expired and can be refreshed: do that before falling back.
    bool refresh = false;
    // Why nothing resolved, when it did not: used for the NOT_FOUND / FAILED_PRECONDITION text.
    absl::Status failure;
  };

  Resolution Resolve(const std::string& provider, const CredentialSnapshot& snapshot);
  // GetApiKeyAsync's first step, on the caller's thread: `answer` is set when the call needs no
  // refresh and no completion; else the rest says which, for ContinueLookUp.
  struct KeyLookup {
    std::optional<absl::StatusOr<ResolvedKey>> answer;
    std::string id;
    std::shared_ptr<const CredentialSnapshot> snapshot;  // keeps `completing` alive
    const Credential* completing = nullptr;  // a valid OAuth credential that needs completion
  };
  KeyLookup LookUp(absl::string_view provider, std::shared_ptr<const CredentialSnapshot> snapshot);
  // KeyFor against a snapshot already taken.
  absl::StatusOr<std::string> KeyIn(absl::string_view selector,
                                    const CredentialSnapshot& snapshot) const;
  std::vector<AccountListing> AccountsOf(const std::string& provider,
                                         const CredentialSnapshot& snapshot);
  void ContinueLookUp(KeyLookup lookup, KeyCallback done);
  bool NeedsCompletion(const std::string& provider, const Credential& credential) const;
  std::optional<ResolvedKey> EnvKey(const std::string& provider);
  // The key for a usable stored OAuth credential, completed first when it needs that.
  void DeliverOAuth(const std::string& provider, const Credential& credential, KeyCallback done);
  ResolvedKey OAuthKey(const std::string& provider, const Credential& credential) const;
  ProviderStatus StatusFrom(const std::string& provider, const CredentialSnapshot& snapshot);
  // Expired, or within kOAuthExpiryMargin of it.
  bool Expired(const Credential& credential) const;

  AuthStorage& storage_;
  std::shared_ptr<const ProviderRegistry> registry() const;

  mutable absl::Mutex registry_mu_;
  std::shared_ptr<const ProviderRegistry> registry_ ABSL_GUARDED_BY(registry_mu_);
  EnvLookup env_;
  Clock clock_;
  RefreshCoordinator* refresher_;
  CredentialCompletion* completion_;

  absl::Mutex runtime_mu_;
  std::function<void()> runtime_listener_ ABSL_GUARDED_BY(runtime_mu_);
  struct RuntimeKey {
    SecretString key;
    std::string peer;  // who set it
  };
  absl::flat_hash_map<std::string, RuntimeKey> runtime_keys_ ABSL_GUARDED_BY(runtime_mu_);

  // KeyState::generation. Moved after the change it stands for is visible (the storage calls
  // its listeners once the new snapshot is in place), so a state read at generation N is at
  // least as new as N.
  std::atomic<uint64_t> key_generation_{0};
  uint64_t storage_listener_ = 0;
  // Moves key_generation_ and tells the key-state listeners.
  void KeyStateMoved();
  absl::Mutex key_listeners_mu_;
  ChangeListeners key_listeners_ ABSL_GUARDED_BY(key_listeners_mu_);
};

}  // namespace operator_auth
