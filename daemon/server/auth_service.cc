#include "daemon/server/auth_service.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/credential_key.h"
#include "common/provider_id.h"
#include "daemon/server/key_conversion.h"
#include "daemon/server/login_reactor.h"
#include "daemon/server/status_conversion.h"
#include "daemon/server/unary_finish.h"
#include "daemon/server/watch_reactor.h"

namespace operator_auth {
namespace {

// How long a logout's answer waits for the provider to confirm the revocation.
constexpr absl::Duration kRevocationAnswerWait = absl::Milliseconds(1500);
// A vendor file's path longer than this is refused before it reaches the file system.
constexpr size_t kMaxVendorPathBytes = 4096;
// The provider and account a request names: "PROVIDER@ACCOUNT" in `provider`, or `account`
// (empty: the default account). No copy, for the hot path; an account named both ways and
// differently is refused later by the manager (ParseCredentialSelector).
struct Named {
  absl::string_view provider;
  absl::string_view account;
};
template <typename Request>
Named NameOf(const Request& request) {
  absl::string_view provider = request.provider();
  const size_t at = provider.find('@');
  if (at == absl::string_view::npos) return {provider, request.account()};
  return {provider.substr(0, at), provider.substr(at + 1)};
}

// The selector a request names: "PROVIDER" or "PROVIDER@ACCOUNT" (ParseCredentialSelector
// refuses an account named both ways).
template <typename Request>
std::string SelectorOf(const Request& request) {
  return CredentialKey(request.provider(), request.account());
}

// The sync status of `status.provider()`'s login with a vendor CLI's file, when there is one.
void AddVendorLink(const VendorSync& vendor_sync, v1::AuthStatus& status) {
  std::optional<VendorLinkStatus> link = vendor_sync.LinkFor(status.provider());
  if (!link.has_value()) return;
  v1::VendorLinkInfo* info = status.mutable_sync();
  info->set_source(std::string(VendorSourceName(link->source)));
  info->set_path(link->path);
  if (link->last_sync != absl::InfinitePast()) {
    info->set_last_sync_unix_ms(absl::ToUnixMillis(link->last_sync));
  }
  info->set_error(link->last_error);
}

v1::StoredCredentialType ToProto(StoredType type) {
  switch (type) {
    case StoredType::kNone:
      return v1::STORED_CREDENTIAL_TYPE_NONE;
    case StoredType::kApiKey:
      return v1::STORED_CREDENTIAL_TYPE_API_KEY;
    case StoredType::kOAuth:
      return v1::STORED_CREDENTIAL_TYPE_OAUTH;
    case StoredType::kUnknown:
      return v1::STORED_CREDENTIAL_TYPE_UNKNOWN;
  }
  return v1::STORED_CREDENTIAL_TYPE_UNKNOWN;
}

const char* RefreshPhaseName(RefreshPhase phase) {
  switch (phase) {
    case RefreshPhase::kIdle:
      return "idle";
    case RefreshPhase::kRefreshing:
      return "refreshing";
    case RefreshPhase::kBackoff:
      return "backoff";
    case RefreshPhase::kNeedsLogin:
      return "needs_login";
  }
  return "idle";
}

void ToProto(const ProviderStatus& in, v1::AuthStatus& out) {
  out.set_provider(in.provider);
  out.set_account(in.account);
  out.set_default_account(in.default_account);
  out.set_configured(in.configured);
  out.set_source(in.source ? ToProto(*in.source) : v1::CREDENTIAL_SOURCE_UNSPECIFIED);
  out.set_label(in.label);
  out.set_stored_type(ToProto(in.stored_type));
  out.set_expires_unix_ms(in.expires_unix_ms);
  out.set_expired(in.expired);
  out.set_account_id(in.account_id);
  out.set_project_id(in.project_id);
  out.set_env_var(in.env_var);
  out.set_runtime_override(in.runtime_override);
  out.set_storage_error(in.storage_error);
  out.set_needs_login(in.needs_login);
  out.set_refresh_state(RefreshPhaseName(in.refresh.phase));
  out.set_refresh_error(in.refresh.last_error);
  if (in.refresh.retry_after != absl::InfinitePast()) {
    out.set_next_retry_unix_ms(absl::ToUnixMillis(in.refresh.retry_after));
  }
  if (in.refresh.scheduled != absl::InfiniteFuture()) {
    out.set_next_refresh_unix_ms(absl::ToUnixMillis(in.refresh.scheduled));
  }
  if (in.refresh.last_success != absl::InfinitePast()) {
    out.set_last_refresh_unix_ms(absl::ToUnixMillis(in.refresh.last_success));
  }
}

}  // namespace

AuthServiceImpl::AuthServiceImpl(ProviderAuthManager& manager, ProviderOAuthService& oauth,
                                 BlockingExecutor& writes, CallTracker& calls,
                                 ApiKeyWatchHub& watches, RequestCounter& requests,
                                 VendorSync& vendor_sync, ClientGate& gate)
    : manager_(manager),
      oauth_(oauth),
      writes_(writes),
      calls_(calls),
      watches_(watches),
      get_api_key_(requests.Register("/operator_auth.v1.AuthService/GetApiKey")),
      get_auth_status_(requests.Register("/operator_auth.v1.AuthService/GetAuthStatus")),
      list_providers_(requests.Register("/operator_auth.v1.AuthService/ListProviders")),
      set_api_key_(requests.Register("/operator_auth.v1.AuthService/SetApiKey")),
      set_runtime_api_key_(requests.Register("/operator_auth.v1.AuthService/SetRuntimeApiKey")),
      logout_(requests.Register("/operator_auth.v1.AuthService/Logout")),
      drain_errors_(requests.Register("/operator_auth.v1.AuthService/DrainErrors")),
      login_(requests.Register("/operator_auth.v1.AuthService/Login")),
      watch_api_key_(requests.Register("/operator_auth.v1.AuthService/WatchApiKey")),
      import_logins_(requests.Register("/operator_auth.v1.AuthService/ImportLogins")),
      unlink_vendor_(requests.Register("/operator_auth.v1.AuthService/UnlinkVendor")),
      set_default_account_(requests.Register("/operator_auth.v1.AuthService/SetDefaultAccount")),
      vendor_sync_(vendor_sync),
      gate_(gate) {
  answers_listener_ =
      manager_.AddKeyStateListener([this] { answers_.MoveTo(manager_.KeyGeneration()); });
}

AuthServiceImpl::~AuthServiceImpl() { manager_.RemoveKeyStateListener(answers_listener_); }

grpc::ServerUnaryReactor* AuthServiceImpl::RefusedByGate(
    grpc::CallbackServerContext* context, const char* method, const CallTracker::Call& call,
    absl::string_view provider, absl::string_view account, RequestCounter::Slot& counter,
    std::string& rule) {
  const absl::Status allowed = gate_.CheckProvider(call.identity().get(), provider, account, rule);
  if (allowed.ok()) return nullptr;
  if (gate_.auditing()) {
    AuditName name = AuditNameOf(provider, account);
    gate_.Record(method, call.identity(), std::move(rule), std::move(name.provider),
                 std::move(name.account), allowed);
  }
  return FinishNow(context, allowed, counter);
}

AuthServiceImpl::AuditName AuthServiceImpl::AuditNameOf(absl::string_view provider,
                                                        absl::string_view account) const {
  // An id that does not even parse is not recorded: it could be a key pasted in its place.
  if (!ValidateProviderId(provider).ok() ||
      (!account.empty() && !ValidateAccountName(account).ok())) {
    return {};
  }
  return {manager_.Canonical(provider), std::string(account)};
}

std::function<void(const absl::Status&)> AuthServiceImpl::AuditOnFinish(
    const char* method, const CallTracker::Call& call, std::string rule,
    absl::string_view provider, absl::string_view account) {
  if (!gate_.auditing()) return nullptr;
  return [this, method, peer = call.identity(), rule = std::move(rule),
          name = AuditNameOf(provider, account)](const absl::Status& outcome) {
    gate_.Record(method, peer, rule, name.provider, name.account, outcome);
  };
}

grpc::ServerUnaryReactor* AuthServiceImpl::GetApiKey(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request_bytes,
                                                     grpc::ByteBuffer* response) {
  CallTracker::Call call = calls_.Track(context);
  grpc::Slice whole;
  if (!request_bytes->TrySingleSlice(&whole).ok() &&
      !request_bytes->DumpToSingleSlice(&whole).ok()) {
    return FinishNow(context, absl::InvalidArgumentError("the GetApiKey request does not parse"),
                     get_api_key_);
  }
  const absl::string_view request_key(reinterpret_cast<const char*>(whole.begin()), whole.size());
  // Taking the state notices other processes' writes first: a kept answer is never older than
  // what the credentials files say now.
  const ProviderAuthManager::KeyState state = manager_.CurrentKeyState();
  // The identity is the connection's, read at accept: no syscall here; without rules the gate
  // answers at once.
  std::string rule;
  if (std::optional<KeptApiKeyAnswer> kept =
          answers_.Find(request_key, state.generation, manager_.Now())) {
    if (grpc::ServerUnaryReactor* refused =
            RefusedByGate(context, "GetApiKey", call, kept->asked_provider, kept->asked_account,
                          get_api_key_, rule)) {
      return refused;
    }
    *response = grpc::ByteBuffer(&kept->answer.slice, 1);
    if (gate_.auditing()) {
      gate_.Record("GetApiKey", call.identity(), std::move(rule), std::move(kept->answer.provider),
                   std::move(kept->answer.account), absl::OkStatus());
    }
    return FinishNow(context, absl::OkStatus(), get_api_key_);
  }
  v1::GetApiKeyRequest request;
  if (!request.ParseFromArray(request_key.data(), static_cast<int>(request_key.size()))) {
    return FinishNow(context, absl::InvalidArgumentError("the GetApiKey request does not parse"),
                     get_api_key_);
  }
  const Named named = NameOf(request);
  if (grpc::ServerUnaryReactor* refused = RefusedByGate(context, "GetApiKey", call, named.provider,
                                                        named.account, get_api_key_, rule)) {
    return refused;
  }
  // The hot path names the default account: the selector is the provider field as it is.
  std::string selector_storage;
  absl::string_view selector = request.provider();
  if (!request.account().empty()) {
    selector_storage = SelectorOf(request);
    selector = selector_storage;
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Answered inline unless a token had to be refreshed or completed (then from that thread).
  // The guard moves into the callback, which is called in place when answered inline.
  std::optional<uint64_t> keep_at;
  if (state.settled) keep_at = state.generation;
  auto done = [this, reactor, response, keep_at, rule = std::move(rule), call = std::move(call),
               kept_as = std::string(request_key),
               asked = AuditName{std::string(named.provider), std::string(named.account)}](
                  absl::StatusOr<ResolvedKey> key) mutable {
    get_api_key_.Record(key.ok());
    AuditName name;
    if (key.ok()) {
      ApiKeyAnswer answer = SerializeApiKeyAnswer(*key);
      *response = grpc::ByteBuffer(&answer.slice, 1);
      name = {answer.provider, answer.account};
      if (keep_at.has_value() && key->reusable_until != absl::InfinitePast()) {
        answers_.Keep(kept_as, *keep_at, key->reusable_until,
                      {std::move(answer), std::move(asked.provider), std::move(asked.account)});
      }
    } else if (gate_.auditing()) {
      name = AuditNameOf(asked.provider, asked.account);
    }
    if (gate_.auditing()) {
      gate_.Record("GetApiKey", call.identity(), std::move(rule), std::move(name.provider),
                   std::move(name.account), key.status());
    }
    reactor->Finish(ToGrpcStatus(key.status()));
  };
  manager_.GetApiKeyAsync(selector, state, std::move(done));
  return reactor;
}

grpc::ServerUnaryReactor* AuthServiceImpl::GetAuthStatus(grpc::CallbackServerContext* context,
                                                         const v1::GetAuthStatusRequest* request,
                                                         v1::AuthStatus* response) {
  CallTracker::Call call = calls_.Track(context);
  absl::StatusOr<ProviderStatus> status = manager_.GetStatus(SelectorOf(*request));
  if (status.ok()) {
    ToProto(*status, *response);
    AddVendorLink(vendor_sync_, *response);
  }
  return FinishNow(context, status.status(), get_auth_status_);
}

grpc::ServerUnaryReactor* AuthServiceImpl::ListProviders(grpc::CallbackServerContext* context,
                                                         const v1::ListProvidersRequest*,
                                                         v1::ListProvidersResponse* response) {
  CallTracker::Call call = calls_.Track(context);
  for (const ProviderListing& p : manager_.ListProviders()) {
    v1::ProviderInfo* info = response->add_providers();
    info->set_id(p.id);
    info->set_display_name(p.display_name);
    info->set_kind(p.kind == ProviderKind::kOAuth ? v1::PROVIDER_KIND_OAUTH
                                                  : v1::PROVIDER_KIND_API_KEY);
    info->set_builtin(p.builtin);
    ToProto(p.status, *info->mutable_status());
    AddVendorLink(vendor_sync_, *info->mutable_status());
    for (const std::string& alias : p.aliases) info->add_aliases(alias);
    for (const AccountListing& account : p.accounts) {
      v1::AccountInfo* out = info->add_accounts();
      out->set_name(account.name);
      out->set_is_default(account.is_default);
      ToProto(account.status, *out->mutable_status());
      if (account.is_default) AddVendorLink(vendor_sync_, *out->mutable_status());
    }
  }
  return FinishNow(context, absl::OkStatus(), list_providers_);
}

grpc::ServerUnaryReactor* AuthServiceImpl::SetApiKey(grpc::CallbackServerContext* context,
                                                     const v1::SetApiKeyRequest* request,
                                                     v1::SetApiKeyResponse* response) {
  CallTracker::Call call = calls_.Track(context);
  std::string rule;
  const Named named = NameOf(*request);
  if (grpc::ServerUnaryReactor* refused = RefusedByGate(context, "SetApiKey", call, named.provider,
                                                        named.account, set_api_key_, rule)) {
    return refused;
  }
  auto audit = AuditOnFinish("SetApiKey", call, std::move(rule), named.provider, named.account);
  return FinishOnExecutor(
      context, writes_, std::move(call), set_api_key_,
      [this, request, response] {
        absl::StatusOr<bool> replaced = manager_.SetApiKey(SelectorOf(*request), request->key());
        if (replaced.ok()) response->set_replaced(*replaced);
        return replaced.status();
      },
      std::move(audit));
}

grpc::ServerUnaryReactor* AuthServiceImpl::SetRuntimeApiKey(
    grpc::CallbackServerContext* context, const v1::SetRuntimeApiKeyRequest* request,
    v1::SetRuntimeApiKeyResponse* response) {
  CallTracker::Call call = calls_.Track(context);
  std::string rule;
  const Named named = NameOf(*request);
  if (grpc::ServerUnaryReactor* refused =
          RefusedByGate(context, "SetRuntimeApiKey", call, named.provider, named.account,
                        set_runtime_api_key_, rule)) {
    return refused;
  }
  absl::StatusOr<bool> cleared =
      manager_.SetRuntimeApiKey(SelectorOf(*request), request->key(), context->peer());
  if (cleared.ok()) response->set_cleared(*cleared);
  if (auto audit = AuditOnFinish("SetRuntimeApiKey", call, std::move(rule), named.provider,
                                 named.account)) {
    audit(cleared.status());
  }
  return FinishNow(context, cleared.status(), set_runtime_api_key_);
}

grpc::ServerUnaryReactor* AuthServiceImpl::Logout(grpc::CallbackServerContext* context,
                                                  const v1::LogoutRequest* request,
                                                  v1::LogoutResponse* response) {
  CallTracker::Call call = calls_.Track(context);
  std::string rule;
  const Named named = NameOf(*request);
  if (grpc::ServerUnaryReactor* refused =
          RefusedByGate(context, "Logout", call, named.provider, named.account, logout_, rule)) {
    return refused;
  }
  auto audit = AuditOnFinish("Logout", call, std::move(rule), named.provider, named.account);
  return FinishOnExecutor(
      context, writes_, std::move(call), logout_,
      [this, request, response] {
        // The revocation runs on the coordinator's own threads after the removal; the answer waits
        // for it only briefly, so a hanging revocation endpoint holds up neither writes nor the
        // caller (whose deadline is short). It goes on in the background past that.
        struct Revocation {
          absl::Notification done;
          absl::Status outcome;  // written before `done` is notified
        };
        auto revocation = std::make_shared<Revocation>();
        absl::StatusOr<LogoutResult> result =
            manager_.Logout(SelectorOf(*request), [revocation](absl::Status outcome) {
              revocation->outcome = std::move(outcome);
              revocation->done.Notify();
            });
        if (!result.ok()) return result.status();
        response->set_removed(result->removed);
        if (!result->revoking) return absl::OkStatus();
        if (revocation->done.WaitForNotificationWithTimeout(kRevocationAnswerWait)) {
          response->set_revoked(revocation->outcome.ok());
          response->set_revocation_error(std::string(revocation->outcome.message()));
        } else {
          response->set_revocation_error(absl::StrCat(
              "the provider has not confirmed the revocation within ",
              absl::FormatDuration(kRevocationAnswerWait), "; it goes on in the background"));
        }
        return absl::OkStatus();
      },
      std::move(audit));
}

grpc::ServerUnaryReactor* AuthServiceImpl::DrainErrors(grpc::CallbackServerContext* context,
                                                       const v1::DrainErrorsRequest*,
                                                       v1::DrainErrorsResponse* response) {
  CallTracker::Call call = calls_.Track(context);
  for (StorageError& e : manager_.DrainErrors()) {
    v1::StorageError* out = response->add_errors();
    out->set_file(std::move(e.file));
    out->set_message(std::move(e.message));
    out->set_unix_ms(absl::ToUnixMillis(e.when));
  }
  return FinishNow(context, absl::OkStatus(), drain_errors_);
}

grpc::ServerBidiReactor<v1::LoginRequest, v1::LoginEvent>* AuthServiceImpl::Login(
    grpc::CallbackServerContext* context) {
  login_.Record(true);
  return new LoginReactor(manager_, oauth_, logins_, gate_, calls_.Track(context));
}

grpc::ServerWriteReactor<v1::ApiKeyUpdate>* AuthServiceImpl::WatchApiKey(
    grpc::CallbackServerContext* context, const v1::WatchApiKeyRequest* request) {
  watch_api_key_.Record(true);
  const std::string name = SelectorOf(*request);
  const Named named = NameOf(*request);
  ConnectionTable::Call connection = calls_.TrackStream(context);
  std::string rule;
  absl::Status allowed =
      gate_.CheckProvider(connection.identity().get(), named.provider, named.account, rule);
  // An invalid selector is refused by the reactor, and recorded without the id (it could be a
  // key pasted in its place); a valid one is watched under its credential key ("PROVIDER" or
  // "PROVIDER@ACCOUNT", the provider canonical).
  absl::StatusOr<std::string> key = manager_.KeyFor(name);
  if (gate_.auditing()) {
    // Recorded when the watch is admitted or refused: it hands out the key from then on.
    gate_.Record("WatchApiKey", connection.identity(), std::move(rule),
                 key.ok() ? std::string(ProviderOfKey(*key)) : std::string(),
                 key.ok() ? std::string(named.account) : std::string(), allowed);
  }
  return new WatchReactor(watches_, key.ok() ? *key : name, context->peer(), std::move(connection),
                          std::move(allowed));
}

grpc::ServerUnaryReactor* AuthServiceImpl::ImportLogins(grpc::CallbackServerContext* context,
                                                        const v1::ImportLoginsRequest* request,
                                                        v1::ImportLoginsResponse* response) {
  absl::StatusOr<VendorSource> source = ParseVendorSource(request->source());
  if (!source.ok()) return FinishNow(context, source.status(), import_logins_);
  if (request->path().empty() || request->path()[0] != '/' ||
      request->path().size() > kMaxVendorPathBytes) {
    return FinishNow(context,
                     absl::InvalidArgumentError("path must be an absolute path of the vendor's file"),
                     import_logins_);
  }
  CallTracker::Call call = calls_.Track(context);
  PeerIdentityPtr peer = call.identity();
  // Records are per provider, written by the work; `ran` tells a full queue apart.
  auto ran = std::make_shared<bool>(false);
  return FinishOnExecutor(
      context, writes_, std::move(call), import_logins_,
      [this, request, response, source = *source, peer, ran] {
        *ran = true;
        std::string rule;
        std::string refused;
        // Every provider in the file must be allowed, or nothing is imported.
        absl::StatusOr<ImportResult> result =
            vendor_sync_.Import(source, request->path(), request->keep_in_sync(),
                                request->account(),
                                [this, &peer, &rule, &refused, request](const std::string& provider) {
                                  absl::Status allowed = gate_.CheckProvider(
                                      peer.get(), provider, request->account(), rule);
                                  if (!allowed.ok()) refused = provider;
                                  return allowed;
                                });
        if (!result.ok()) {
          std::string account = refused.empty() ? std::string() : request->account();
          gate_.Record("ImportLogins", peer, std::move(rule), std::move(refused),
                       std::move(account), result.status());
          return result.status();
        }
        response->set_path(result->path);
        response->set_linked(result->linked);
        for (const ImportedLogin& login : result->logins) {
          v1::ImportedLogin* out = response->add_logins();
          out->set_provider(login.provider);
          out->set_type(login.type == CredentialType::kApiKey ? v1::STORED_CREDENTIAL_TYPE_API_KEY
                                                              : v1::STORED_CREDENTIAL_TYPE_OAUTH);
          out->set_expires_unix_ms(login.expires_unix_ms);
          out->set_replaced(login.replaced);
          gate_.Record("ImportLogins", peer, rule, login.provider, request->account(),
                       absl::OkStatus());
        }
        return absl::OkStatus();
      },
      [this, peer, ran](const absl::Status& outcome) {
        if (!*ran) {
          gate_.Record("ImportLogins", peer, std::string(), std::string(),
                       std::string(), outcome);
        }
      });
}

grpc::ServerUnaryReactor* AuthServiceImpl::UnlinkVendor(grpc::CallbackServerContext* context,
                                                        const v1::UnlinkVendorRequest* request,
                                                        v1::UnlinkVendorResponse* response) {
  absl::StatusOr<VendorSource> source = ParseVendorSource(request->source());
  if (!source.ok()) return FinishNow(context, source.status(), unlink_vendor_);
  CallTracker::Call call = calls_.Track(context);
  PeerIdentityPtr peer = call.identity();
  auto ran = std::make_shared<bool>(false);
  return FinishOnExecutor(
      context, writes_, std::move(call), unlink_vendor_,
      [this, response, source = *source, peer, ran] {
        *ran = true;
        // Unlinking changes how every provider of the link is kept: each must be allowed.
        std::vector<std::string> providers;
        for (VendorLinkStatus& link : vendor_sync_.Links()) {
          if (link.source == source) providers = std::move(link.providers);
        }
        std::string rule;
        for (const std::string& provider : providers) {
          absl::Status allowed = gate_.CheckProvider(peer.get(), provider, "", rule);
          if (!allowed.ok()) {
            gate_.Record("UnlinkVendor", peer, std::move(rule), provider,
                         std::string(), allowed);
            return allowed;
          }
        }
        absl::StatusOr<bool> removed = vendor_sync_.Unlink(source);
        if (removed.ok()) response->set_removed(*removed);
        if (providers.empty()) {
          gate_.Record("UnlinkVendor", peer, rule, std::string(), std::string(),
                       removed.status());
        }
        for (const std::string& provider : providers) {
          gate_.Record("UnlinkVendor", peer, rule, provider, std::string(),
                       removed.status());
        }
        return removed.status();
      },
      [this, peer, ran](const absl::Status& outcome) {
        if (!*ran) {
          gate_.Record("UnlinkVendor", peer, std::string(), std::string(),
                       std::string(), outcome);
        }
      });
}

grpc::ServerUnaryReactor* AuthServiceImpl::SetDefaultAccount(
    grpc::CallbackServerContext* context, const v1::SetDefaultAccountRequest* request,
    v1::SetDefaultAccountResponse* response) {
  CallTracker::Call call = calls_.Track(context);
  std::string rule;
  // It changes what every caller naming no account gets: the account must be the caller's to
  // have.
  if (grpc::ServerUnaryReactor* refused =
          RefusedByGate(context, "SetDefaultAccount", call, request->provider(), request->account(),
                        set_default_account_, rule)) {
    return refused;
  }
  auto audit = AuditOnFinish("SetDefaultAccount", call, std::move(rule), request->provider(),
                             request->account());
  return FinishOnExecutor(
      context, writes_, std::move(call), set_default_account_,
      [this, request, response] {
        if (absl::Status s = ValidateProviderId(request->provider()); !s.ok()) return s;
        const std::string id = manager_.Canonical(request->provider());
        std::string previous = manager_.DefaultAccountName(id);
        absl::StatusOr<bool> changed = manager_.SetDefaultAccount(id, request->account());
        if (!changed.ok()) return changed.status();
        response->set_changed(*changed);
        response->set_previous(std::move(previous));
        return absl::OkStatus();
      },
      std::move(audit));
}

}  // namespace operator_auth
