#include "daemon/core/provider_auth_manager.h"

#include <algorithm>
#include <future>
#include <set>

#include <spdlog/spdlog.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/credential_key.h"
#include "common/provider_id.h"
#include "daemon/core/api_key_rules.h"

namespace operator_auth {
namespace {

StoredType StoredTypeOf(const Credential& c) {
  switch (c.type) {
    case CredentialType::kApiKey:
      return StoredType::kApiKey;
    case CredentialType::kOAuth:
      return StoredType::kOAuth;
    case CredentialType::kUnknown:
      return StoredType::kUnknown;
  }
  return StoredType::kUnknown;
}

// A resolved key of credential key `key`: its provider and account parts filled in.
ResolvedKey KeyOf(const SecretString& secret, KeySource source, std::string label,
                  int64_t expires_unix_ms, const std::string& key, KeyUsage usage) {
  ResolvedKey out{secret, source, std::move(label), expires_unix_ms, std::string(), std::move(usage),
                  std::string(AccountOfKey(key))};
  out.provider = out.account.empty() ? key : std::string(ProviderOfKey(key));
  return out;
}

}  // namespace

ProviderAuthManager::ProviderAuthManager(AuthStorage& storage, const ProviderRegistry& registry,
                                         EnvLookup env, Clock clock, RefreshCoordinator* refresher,
                                         CredentialCompletion* completion)
    : storage_(storage),
      registry_(std::make_shared<const ProviderRegistry>(registry)),
      env_(env ? std::move(env) : EnvLookup(ProcessEnv)),
      clock_(clock ? std::move(clock) : Clock([] { return absl::Now(); })),
      refresher_(refresher),
      completion_(completion) {
  storage_listener_ = storage_.AddChangeListener([this] { KeyStateMoved(); });
}

ProviderAuthManager::~ProviderAuthManager() { storage_.RemoveChangeListener(storage_listener_); }

void ProviderAuthManager::KeyStateMoved() {
  key_generation_.fetch_add(1, std::memory_order_release);
  absl::MutexLock lock(&key_listeners_mu_);
  key_listeners_.NotifyAll();
}

uint64_t ProviderAuthManager::AddKeyStateListener(std::function<void()> listener) {
  absl::MutexLock lock(&key_listeners_mu_);
  return key_listeners_.Add(std::move(listener));
}

void ProviderAuthManager::RemoveKeyStateListener(uint64_t id) {
  absl::MutexLock lock(&key_listeners_mu_);
  key_listeners_.Remove(id);
}

ProviderAuthManager::KeyState ProviderAuthManager::CurrentKeyState() {
  KeyState state;
  const uint64_t before = key_generation_.load(std::memory_order_acquire);
  state.snapshot = storage_.Snapshot();
  state.generation = key_generation_.load(std::memory_order_acquire);
  state.settled = state.generation == before;
  return state;
}

std::string ProviderAuthManager::Canonical(absl::string_view name) const {
  return registry()->Canonical(name);
}

std::optional<ResolvedKey> ProviderAuthManager::EnvKey(const std::string& provider) {
  // The environment holds one key per provider: it stands in for the default account only.
  if (!AccountOfKey(provider).empty()) return std::nullopt;
  const std::string env_var = ApiKeyEnvVarName(provider);
  std::optional<std::string> value = env_(env_var);
  if (!value.has_value()) return std::nullopt;
  return KeyOf(SecretString(*std::move(value)), KeySource::kEnv, env_var, 0, provider, KeyUsage());
}

ResolvedKey ProviderAuthManager::OAuthKey(const std::string& provider,
                                          const Credential& credential) const {
  KeyUsage usage;
  if (refresher_ != nullptr) {
    usage = refresher_->service().UsageFor(provider, credential);
  } else {
    usage.kind = KeyKind::kOAuthAccessToken;
    usage.account_id = credential.account_id;
  }
  return KeyOf(credential.access, KeySource::kStored, "providers.json (oauth)",
               credential.expires_unix_ms, provider, std::move(usage));
}

bool ProviderAuthManager::NeedsCompletion(const std::string& provider,
                                          const Credential& credential) const {
  return completion_ != nullptr && refresher_ != nullptr &&
         refresher_->service().NeedsCompletion(provider, credential);
}

void ProviderAuthManager::DeliverOAuth(const std::string& provider, const Credential& credential,
                                       KeyCallback done) {
  if (!NeedsCompletion(provider, credential)) {
    done(OAuthKey(provider, credential));
    return;
  }
  completion_->Complete(
      provider, credential,
      [this, provider, done = std::move(done)](absl::StatusOr<Credential> complete) mutable {
        if (complete.ok()) {
          done(OAuthKey(provider, *complete));
          return;
        }
        if (std::optional<ResolvedKey> env_key = EnvKey(provider)) {
          done(*std::move(env_key));
          return;
        }
        done(complete.status());
      });
}

bool ProviderAuthManager::Expired(const Credential& credential) const {
  return credential.ExpiresBy(clock_() + kOAuthExpiryMargin);
}

ProviderAuthManager::Resolution ProviderAuthManager::Resolve(const std::string& provider,
                                                             const CredentialSnapshot& snapshot) {
  {
    absl::MutexLock lock(&runtime_mu_);
    auto it = runtime_keys_.find(provider);
    if (it != runtime_keys_.end()) {
      return {KeyOf(it->second.key, KeySource::kRuntime, "runtime", 0, provider, KeyUsage()),
              nullptr, false, absl::OkStatus()};
    }
  }
  absl::Status failure;
  auto stored = snapshot.credentials.find(provider);
  if (stored != snapshot.credentials.end() && stored->second.usable()) {
    const Credential& c = stored->second;
    if (c.type == CredentialType::kApiKey) {
      return {KeyOf(c.key, KeySource::kStored, "providers.json (api_key)", 0, provider, KeyUsage()),
              nullptr, false, absl::OkStatus()};
    }
    if (!c.access.empty() && !Expired(c)) {
      return {KeyOf(c.access, KeySource::kStored, "providers.json (oauth)", c.expires_unix_ms,
                    provider, KeyUsage()),
              &c, false, absl::OkStatus()};
    }
    if (!c.refresh.empty() && refresher_ != nullptr && refresher_->CanRefresh(provider)) {
      return {std::nullopt, nullptr, true, absl::OkStatus()};
    }
    failure = absl::FailedPreconditionError(
        absl::StrCat("the stored OAuth token for ", provider, " has expired; log in again"));
  }
  if (std::optional<ResolvedKey> env_key = EnvKey(provider)) {
    return {std::move(env_key), nullptr, false, absl::OkStatus()};
  }
  if (failure.ok() && !AccountOfKey(provider).empty()) {
    const absl::string_view id = ProviderOfKey(provider), account = AccountOfKey(provider);
    failure = absl::NotFoundError(absl::StrCat(
        "no credential for account \"", account, "\" of ", id, ": log in with `operatorctl auth login ",
        id, " --account ", account, "` or set a key with `operatorctl auth set ", id, " --account ",
        account, " --api-key -`"));
  }
  if (failure.ok()) {
    const std::string env_var = ApiKeyEnvVarName(provider);
    std::string why = absl::StrCat("no credential for provider ", provider,
                                   ": set one with `operatorctl auth set ", provider,
                                   " --api-key -` or export ", env_var, " for the daemon");
    if (stored != snapshot.credentials.end()) {
      const Credential& c = stored->second;
      absl::StrAppend(
          &why, " (the stored entry is unusable: ",
          c.problem.empty() ? absl::StrCat("unknown type \"", c.type_name, "\"") : c.problem, ")");
    }
    if (!snapshot.load_error.empty()) {
      absl::StrAppend(&why, " (providers.json does not load: ", snapshot.load_error, ")");
    }
    failure = absl::NotFoundError(why);
  }
  return {std::nullopt, nullptr, false, failure};
}

ProviderAuthManager::KeyLookup ProviderAuthManager::LookUp(
    absl::string_view provider, std::shared_ptr<const CredentialSnapshot> snapshot) {
  KeyLookup lookup;
  lookup.snapshot = std::move(snapshot);
  absl::StatusOr<std::string> key = KeyIn(provider, *lookup.snapshot);
  if (!key.ok()) {
    lookup.answer = key.status();
    return lookup;
  }
  lookup.id = *std::move(key);
  Resolution r = Resolve(lookup.id, *lookup.snapshot);
  if (r.refresh) return lookup;
  if (r.oauth != nullptr) {
    if (NeedsCompletion(lookup.id, *r.oauth)) {
      lookup.completing = r.oauth;
    } else {
      ResolvedKey answer = OAuthKey(lookup.id, *r.oauth);
      // Until Expired() would say so (InfiniteFuture stays infinite).
      answer.reusable_until = r.oauth->ExpiryTime() - kOAuthExpiryMargin;
      lookup.answer = std::move(answer);
    }
  } else if (r.key.has_value()) {
    // The environment is read afresh at every call (a test's EnvLookup may change): never kept.
    if (r.key->source != KeySource::kEnv) r.key->reusable_until = absl::InfiniteFuture();
    lookup.answer = *std::move(r.key);
  } else {
    lookup.answer = std::move(r.failure);
  }
  return lookup;
}

void ProviderAuthManager::ContinueLookUp(KeyLookup lookup, KeyCallback done) {
  if (lookup.completing != nullptr) {
    DeliverOAuth(lookup.id, *lookup.completing, std::move(done));
    return;
  }
  const std::string& id = lookup.id;
  refresher_->Refresh(id, clock_() + kOAuthExpiryMargin,
                      [this, id, done = std::move(done)](absl::StatusOr<Credential> fresh) mutable {
                        if (fresh.ok()) {
                          DeliverOAuth(id, *fresh, std::move(done));
                          return;
                        }
                        // The refresh failed; the environment may still stand in (the credential
                        // stays stored).
                        if (std::optional<ResolvedKey> env_key = EnvKey(id)) {
                          done(*std::move(env_key));
                          return;
                        }
                        done(fresh.status());
                      });
}

absl::StatusOr<ResolvedKey> ProviderAuthManager::GetApiKey(absl::string_view provider) {
  std::promise<absl::StatusOr<ResolvedKey>> promise;
  std::future<absl::StatusOr<ResolvedKey>> result = promise.get_future();
  GetApiKeyAsync(provider, [&promise](absl::StatusOr<ResolvedKey> key) {
    promise.set_value(std::move(key));
  });
  return result.get();
}

absl::StatusOr<std::string> ProviderAuthManager::KeyIn(absl::string_view selector,
                                                       const CredentialSnapshot& snapshot) const {
  if (selector.find('@') == absl::string_view::npos) {  // the hot path: the default account
    if (absl::Status s = ValidateProviderId(selector); !s.ok()) return s;
    return Canonical(selector);
  }
  absl::StatusOr<CredentialSelector> parsed = ParseCredentialSelector(selector);
  if (!parsed.ok()) return parsed.status();
  std::string id = Canonical(parsed->provider);
  auto name = snapshot.default_accounts.find(id);
  // Both arms string_views: a mixed ternary would make a std::string temporary the view outlives.
  const absl::string_view default_name = name == snapshot.default_accounts.end()
                                             ? absl::string_view(kDefaultAccountName)
                                             : absl::string_view(name->second);
  if (parsed->account == default_name) return id;
  return CredentialKey(id, parsed->account);
}

absl::StatusOr<std::string> ProviderAuthManager::KeyFor(absl::string_view selector) {
  return KeyIn(selector, *storage_.Snapshot());
}

std::string ProviderAuthManager::DefaultAccountName(const std::string& provider) {
  std::shared_ptr<const CredentialSnapshot> snapshot = storage_.Snapshot();
  auto name = snapshot->default_accounts.find(provider);
  return name == snapshot->default_accounts.end() ? kDefaultAccountName : name->second;
}

absl::StatusOr<bool> ProviderAuthManager::SetDefaultAccount(absl::string_view provider,
                                                            absl::string_view account) {
  if (absl::Status s = ValidateProviderId(provider); !s.ok()) return s;
  if (absl::Status s = ValidateAccountName(account); !s.ok()) return s;
  const std::string id = Canonical(provider);
  bool changed = false;
  std::string old_name;
  absl::Status s = storage_.Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
    auto names = document.DefaultAccountNames();
    old_name = names.contains(id) ? names.at(id) : std::string(kDefaultAccountName);
    absl::StatusOr<bool> swapped = document.SetDefaultAccount(id, std::string(account));
    if (!swapped.ok()) return swapped.status();
    changed = *swapped;
    return changed;
  });
  if (!s.ok()) return s;
  if (changed) {
    // The refresh state of both places follows no credential any more: start afresh.
    for (const std::string& key : {id, CredentialKey(id, old_name), CredentialKey(id, account)}) {
      if (refresher_ != nullptr) refresher_->Forget(key);
      if (completion_ != nullptr) completion_->Forget(key);
    }
  }
  return changed;
}

std::vector<AccountListing> ProviderAuthManager::AccountsOf(const std::string& provider,
                                                            const CredentialSnapshot& snapshot) {
  std::vector<AccountListing> out;
  const std::string prefix = absl::StrCat(provider, "@");
  for (auto it = snapshot.credentials.lower_bound(prefix);
       it != snapshot.credentials.end() && absl::StartsWith(it->first, prefix); ++it) {
    out.push_back({std::string(AccountOfKey(it->first)), false, StatusFrom(it->first, snapshot)});
  }
  auto name = snapshot.default_accounts.find(provider);
  if (out.empty() && name == snapshot.default_accounts.end()) return out;
  AccountListing first{name == snapshot.default_accounts.end() ? kDefaultAccountName : name->second,
                       true, StatusFrom(provider, snapshot)};
  out.insert(out.begin(), std::move(first));
  return out;
}

ProviderStatus ProviderAuthManager::StatusFrom(const std::string& provider,
                                               const CredentialSnapshot& snapshot) {
  ProviderStatus status;
  status.provider = std::string(ProviderOfKey(provider));
  status.account = std::string(AccountOfKey(provider));
  status.default_account = status.account.empty();
  if (status.default_account) {
    auto name = snapshot.default_accounts.find(provider);
    status.account = name == snapshot.default_accounts.end() ? kDefaultAccountName : name->second;
  }
  status.env_var = ApiKeyEnvVarName(status.provider);
  status.storage_error = snapshot.load_error;
  auto stored = snapshot.credentials.find(provider);
  if (stored != snapshot.credentials.end()) {
    const Credential& c = stored->second;
    status.stored_type = StoredTypeOf(c);
    if (c.type == CredentialType::kOAuth) {
      status.expires_unix_ms = c.expires_unix_ms;
      status.expired = Expired(c);
      status.account_id = c.account_id;
      status.project_id = c.Attribute(kProjectIdAttribute, kProjectIdAttributePi);
      if (refresher_ != nullptr) {
        status.refresh = refresher_->StateOf(provider);
        status.needs_login = refresher_->NeedsLogin(provider, c.refresh);
        if (!status.needs_login && status.refresh.phase == RefreshPhase::kNeedsLogin) {
          status.refresh.phase = RefreshPhase::kIdle;  // someone logged in again since
        }
      }
    }
  }
  {
    absl::MutexLock lock(&runtime_mu_);
    status.runtime_override = runtime_keys_.contains(provider);
  }
  Resolution r = Resolve(provider, snapshot);
  if (r.key.has_value()) {
    status.configured = true;
    status.source = r.key->source;
    status.label = r.key->label;
  } else if (r.refresh && !status.needs_login) {
    // Expired, but the next GetApiKey refreshes it.
    status.configured = true;
    status.source = KeySource::kStored;
    status.label = "providers.json (oauth, refresh due)";
  } else if (status.needs_login) {
    if (std::optional<ResolvedKey> env_key = EnvKey(provider)) {
      status.configured = true;
      status.source = KeySource::kEnv;
      status.label = env_key->label;
    }
  }
  return status;
}

absl::StatusOr<ProviderStatus> ProviderAuthManager::GetStatus(absl::string_view provider) {
  std::shared_ptr<const CredentialSnapshot> snapshot = storage_.Snapshot();
  absl::StatusOr<std::string> key = KeyIn(provider, *snapshot);
  if (!key.ok()) return key.status();
  return StatusFrom(*key, *snapshot);
}

void ProviderAuthManager::SetRegistry(ProviderRegistry registry) {
  auto replacement = std::make_shared<const ProviderRegistry>(std::move(registry));
  absl::MutexLock lock(&registry_mu_);
  registry_.swap(replacement);
  // After the swap: also covers the OAuth configuration (usage, completion) SIGHUP replaced
  // before it (daemon/main.cc).
  KeyStateMoved();
}

std::shared_ptr<const ProviderRegistry> ProviderAuthManager::registry() const {
  absl::MutexLock lock(&registry_mu_);
  return registry_;
}

std::vector<ProviderListing> ProviderAuthManager::ListProviders(View view) {
  std::shared_ptr<const CredentialSnapshot> snapshot =
      view == View::kCurrent ? storage_.Snapshot() : storage_.LastSnapshot();
  std::shared_ptr<const ProviderRegistry> registry = this->registry();
  std::vector<ProviderListing> out;
  for (const ProviderDescriptor& p : registry->providers()) {
    out.push_back({p.id, p.display_name, p.kind, true, StatusFrom(p.id, *snapshot),
                   registry->AliasesOf(p.id), AccountsOf(p.id, *snapshot)});
  }
  std::set<std::string> custom;
  for (const auto& [id, credential] : snapshot->credentials) {
    const std::string provider(ProviderOfKey(id));
    if (registry->Find(provider) == nullptr && ValidateProviderId(provider).ok()) {
      custom.insert(provider);
    }
  }
  {
    absl::MutexLock lock(&runtime_mu_);
    for (const auto& [id, runtime] : runtime_keys_) {
      if (registry->Find(ProviderOfKey(id)) == nullptr) custom.insert(std::string(ProviderOfKey(id)));
    }
  }
  for (const std::string& id : custom) {
    auto stored = snapshot->credentials.find(id);
    ProviderKind kind =
        stored != snapshot->credentials.end() && stored->second.type == CredentialType::kOAuth
            ? ProviderKind::kOAuth
            : ProviderKind::kApiKey;
    out.push_back({id, id, kind, false, StatusFrom(id, *snapshot), {}, AccountsOf(id, *snapshot)});
  }
  return out;
}

absl::StatusOr<bool> ProviderAuthManager::SetApiKey(absl::string_view provider,
                                                    absl::string_view key) {
  absl::StatusOr<std::string> key_of = KeyFor(provider);
  if (!key_of.ok()) return key_of.status();
  if (absl::Status s = ValidateApiKey(key); !s.ok()) return s;
  bool replaced = false;
  const std::string& id = *key_of;
  absl::Status s = storage_.Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
    replaced = document.Put(id, Credential::ApiKey(std::string(key)));
    return true;
  });
  if (!s.ok()) return s;
  return replaced;
}

absl::Status ProviderAuthManager::StoreOAuthLogin(absl::string_view provider,
                                                  const Credential& credential) {
  absl::StatusOr<std::string> key_of = KeyFor(provider);
  if (!key_of.ok()) return key_of.status();
  const std::string& id = *key_of;
  absl::Status s = storage_.Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
    document.Replace(id, credential);
    return true;
  });
  if (s.ok() && refresher_ != nullptr) refresher_->Forget(id);
  if (s.ok() && completion_ != nullptr) completion_->Forget(id);
  return s;
}

absl::StatusOr<bool> ProviderAuthManager::SetRuntimeApiKey(absl::string_view provider,
                                                           absl::string_view key,
                                                           absl::string_view peer) {
  absl::StatusOr<std::string> key_of = KeyFor(provider);
  if (!key_of.ok()) return key_of.status();
  if (!key.empty()) {
    if (absl::Status s = ValidateApiKey(key); !s.ok()) return s;
  }
  const std::string& id = *key_of;
  absl::MutexLock lock(&runtime_mu_);
  bool cleared = false;
  if (key.empty()) {
    cleared = runtime_keys_.erase(id) > 0;
  } else {
    auto it = runtime_keys_.find(id);
    if (it == runtime_keys_.end()) {
      if (runtime_keys_.size() >= kMaxRuntimeKeys) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "the daemon already holds ", kMaxRuntimeKeys, " runtime keys; clear some first"));
      }
      size_t of_peer = 0;
      for (const auto& [other, runtime] : runtime_keys_) of_peer += runtime.peer == peer;
      if (of_peer >= kMaxRuntimeKeysPerPeer) {
        return absl::ResourceExhaustedError(
            absl::StrCat("this client already set ", of_peer,
                         " runtime keys, the most one may hold; clear some first"));
      }
      it = runtime_keys_.emplace(id, RuntimeKey()).first;
    }
    it->second.key = SecretString(key);
    it->second.peer = std::string(peer);
  }
  KeyStateMoved();
  if (runtime_listener_) runtime_listener_();
  return cleared;
}

absl::StatusOr<LogoutResult> ProviderAuthManager::Logout(absl::string_view provider,
                                                         RevocationDone revoked) {
  absl::StatusOr<std::string> key_of = KeyFor(provider);
  if (!key_of.ok()) return key_of.status();
  const std::string id = *key_of;
  // Remove under the lock and revoke exactly what was removed: a refresh racing with us may
  // have rotated the token since any earlier look.
  std::optional<Credential> removed;
  absl::Status s = storage_.Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
    std::map<std::string, Credential> credentials = document.Credentials();
    auto it = credentials.find(id);
    if (it == credentials.end()) return false;
    removed = it->second;
    return document.Remove(id);
  });
  if (!s.ok()) return s;
  LogoutResult result;
  result.removed = removed.has_value();
  if (removed.has_value() && removed->type == CredentialType::kOAuth && refresher_ != nullptr) {
    result.revoking = true;
    refresher_->Revoke(id, *std::move(removed),
                       [id, revoked = std::move(revoked)](absl::Status outcome) {
                         if (!outcome.ok()) {
                           spdlog::warn("revoking the removed {} credential failed: {}", id,
                                        std::string(outcome.message()));
                         }
                         if (revoked) revoked(outcome);
                       });
  }
  return result;
}

}  // namespace operator_auth
