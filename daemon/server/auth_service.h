// operator_auth.v1.AuthService over the callback API: translates proto <-> ProviderAuthManager
// and nothing else. Reads answer on the gRPC thread (no disk write, no network); writes, which
// may wait for providers.lock, run on a BlockingExecutor. Thread-safe.
#pragma once

#include "daemon/core/api_key_watch_hub.h"
#include "daemon/core/blocking_executor.h"
#include "daemon/core/client_gate.h"
#include "daemon/core/login_slots.h"
#include "daemon/core/provider_auth_manager.h"
#include "daemon/oauth/provider_oauth_service.h"
#include "daemon/server/api_key_answers.h"
#include "daemon/server/call_tracker.h"
#include "daemon/server/request_counter.h"
#include "daemon/vendor/vendor_sync.h"
#include "operator_auth/v1/auth.grpc.pb.h"

namespace operator_auth {

// GetApiKey is a raw method: it answers with bytes an ApiKeyAnswerCache may already hold.
class AuthServiceImpl final
    : public v1::AuthService::WithRawCallbackMethod_GetApiKey<v1::AuthService::CallbackService> {
 public:
  // `manager`, `oauth`, `writes` and `calls` must outlive the service. Every call is counted in
  // `calls` until it has finished.
  // `watches` serves WatchApiKey; it must outlive the server. Watch streams are not counted in
  // `calls`: they last until the client leaves, and shutdown cancels them. Every call is counted
  // by method in `requests` (streams when they open).
  // `gate` decides, by the client rules, whether the caller may have or change a credential
  // (GetApiKey, WatchApiKey, SetApiKey, SetRuntimeApiKey, Logout, Login, ImportLogins,
  // UnlinkVendor) and records each of those calls in its audit sink, if it has one; it must
  // outlive the server. GetAuthStatus, ListProviders and DrainErrors carry no secret and stay
  // open to every client.
  AuthServiceImpl(ProviderAuthManager& manager, ProviderOAuthService& oauth,
                  BlockingExecutor& writes, CallTracker& calls, ApiKeyWatchHub& watches,
                  RequestCounter& requests, VendorSync& vendor_sync, ClientGate& gate);
  ~AuthServiceImpl() override;

  // Takes a serialized GetApiKeyRequest and answers with a serialized GetApiKeyResponse.
  grpc::ServerUnaryReactor* GetApiKey(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetAuthStatus(grpc::CallbackServerContext* context,
                                          const v1::GetAuthStatusRequest* request,
                                          v1::AuthStatus* response) override;
  grpc::ServerUnaryReactor* ListProviders(grpc::CallbackServerContext* context,
                                          const v1::ListProvidersRequest* request,
                                          v1::ListProvidersResponse* response) override;
  grpc::ServerUnaryReactor* SetApiKey(grpc::CallbackServerContext* context,
                                      const v1::SetApiKeyRequest* request,
                                      v1::SetApiKeyResponse* response) override;
  grpc::ServerUnaryReactor* SetRuntimeApiKey(grpc::CallbackServerContext* context,
                                             const v1::SetRuntimeApiKeyRequest* request,
                                             v1::SetRuntimeApiKeyResponse* response) override;
  grpc::ServerUnaryReactor* Logout(grpc::CallbackServerContext* context,
                                   const v1::LogoutRequest* request,
                                   v1::LogoutResponse* response) override;
  grpc::ServerUnaryReactor* DrainErrors(grpc::CallbackServerContext* context,
                                        const v1::DrainErrorsRequest* request,
                                        v1::DrainErrorsResponse* response) override;
  grpc::ServerBidiReactor<v1::LoginRequest, v1::LoginEvent>* Login(
      grpc::CallbackServerContext* context) override;
  grpc::ServerWriteReactor<v1::ApiKeyUpdate>* WatchApiKey(
      grpc::CallbackServerContext* context, const v1::WatchApiKeyRequest* request) override;
  grpc::ServerUnaryReactor* ImportLogins(grpc::CallbackServerContext* context,
                                         const v1::ImportLoginsRequest* request,
                                         v1::ImportLoginsResponse* response) override;
  grpc::ServerUnaryReactor* UnlinkVendor(grpc::CallbackServerContext* context,
                                         const v1::UnlinkVendorRequest* request,
                                         v1::UnlinkVendorResponse* response) override;
  grpc::ServerUnaryReactor* SetDefaultAccount(grpc::CallbackServerContext* context,
                                              const v1::SetDefaultAccountRequest* request,
                                              v1::SetDefaultAccountResponse* response) override;

 private:
  // Asks the client gate whether the caller of `call` may act on `provider`'s `account` (as
  // requested). Allowed: nullptr, with `rule` set to the matching client rule's name (empty when
  // none matched). Refused: finishes the call with the refusal, records it in the audit trail,
  // and returns the call's reactor for the handler to return.
  grpc::ServerUnaryReactor* RefusedByGate(grpc::CallbackServerContext* context, const char* method,
                                          const CallTracker::Call& call, absl::string_view provider,
                                          absl::string_view account, RequestCounter::Slot& counter,
                                          std::string& rule);
  // What the audit trail records for a requested `provider` and `account`: the canonical id and
  // the account as named; both empty when either does not parse (it could be a key pasted in
  // its place).
  struct AuditName {
    std::string provider;
    std::string account;
  };
  AuditName AuditNameOf(absl::string_view provider, absl::string_view account) const;
  // Records the end of a call on `provider`'s `account` (as requested; recorded under the
  // provider's canonical id; account empty for the default).
  std::function<void(const absl::Status&)> AuditOnFinish(const char* method,
                                                         const CallTracker::Call& call,
                                                         std::string rule,
                                                         absl::string_view provider,
                                                         absl::string_view account);

  ProviderAuthManager& manager_;
  ProviderOAuthService& oauth_;
  BlockingExecutor& writes_;
  CallTracker& calls_;
  ApiKeyWatchHub& watches_;
  RequestCounter::Slot& get_api_key_;
  RequestCounter::Slot& get_auth_status_;
  RequestCounter::Slot& list_providers_;
  RequestCounter::Slot& set_api_key_;
  RequestCounter::Slot& set_runtime_api_key_;
  RequestCounter::Slot& logout_;
  RequestCounter::Slot& drain_errors_;
  RequestCounter::Slot& login_;
  RequestCounter::Slot& watch_api_key_;
  RequestCounter::Slot& import_logins_;
  RequestCounter::Slot& unlink_vendor_;
  RequestCounter::Slot& set_default_account_;
  VendorSync& vendor_sync_;
  ClientGate& gate_;
  ApiKeyAnswerCache answers_;
  uint64_t answers_listener_ = 0;  // manager_'s key-state listener, which moves answers_ on
  LoginSlots logins_;  // one login per provider, LoginSlots::kDefaultMaxLogins in all
};

}  // namespace operator_auth
