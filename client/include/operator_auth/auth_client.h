// The C++ client agents link to ask operator-authd for credentials.
//
//   operator_auth::AuthClient client;               // default socket, like the daemon's
//   absl::StatusOr<operator_auth::ApiKey> key = client.GetApiKey("openai");
//
// GetApiKey falls back to the caller's own {ID}_API_KEY environment variable when the daemon has
// no credential or cannot be reached, and says so in `source`. Every call has a deadline.
// Thread-safety: an AuthClient is safe to share between threads; calls may run concurrently over
// its one channel. Construction does not connect; the first call does.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "operator_auth/v1/auth.grpc.pb.h"

namespace operator_auth {

enum class ApiKeySource {
  kDaemonStored,   // providers.json, through the daemon
  kDaemonRuntime,  // a runtime key set in the daemon
  kDaemonEnv,      // the daemon's own environment
  kCallerEnv,      // this process's environment, because the daemon had nothing or was away
};

enum class ApiKeyKind {
  kUnknown,           // from this process's environment: the caller knows best
  kApiKey,            // goes where the provider's API expects a key
  kOAuthAccessToken,  // goes in "Authorization: Bearer"
};

struct ApiKey {
  std::string key;
  ApiKeySource source = ApiKeySource::kDaemonStored;
  // Where it came from in words: the daemon's label, or "VAR (daemon unreachable)".
  std::string label;
  int64_t expires_unix_ms = 0;  // 0: does not expire
  // What else a request with this key needs (from the daemon; empty from the caller's env):
  std::string provider;  // the canonical id, also when an alias was asked for
  std::string account;   // the named account it came from; empty for the default account
  ApiKeyKind kind = ApiKeyKind::kUnknown;
  std::string account_id;  // openai-codex: the ChatGPT account
  std::string project_id;  // Google Code Assist: the project every request names
  std::string base_url;    // empty: the provider's usual API host
  std::vector<std::pair<std::string, std::string>> headers;  // non-secret request headers
};

struct AuthClientOptions {
  // Empty: $OPERATOR_AUTHD_SOCKET, else $XDG_RUNTIME_DIR/operator/authd.sock, else
  // $OPERATOR_HOME/run/authd.sock (OPERATOR_HOME defaulting to ~/.operator).
  std::string socket_path;
  std::chrono::milliseconds deadline{2000};
  // Whether GetApiKey may answer from this process's environment.
  bool env_fallback = true;
  // The account every call names, unless its provider names one itself ("PROVIDER@ACCOUNT").
  // Empty: $OPERATOR_AUTH_ACCOUNT, else the provider's default account. The caller's own
  // {ID}_API_KEY stands in for the default account only.
  std::string account;
};

class AuthClient {
 public:
  explicit AuthClient(AuthClientOptions options = {});

  // The provider's key. NOT_FOUND when neither the daemon nor the environment has one; the
  // daemon's own error (e.g. INVALID_ARGUMENT) otherwise.
  absl::StatusOr<ApiKey> GetApiKey(absl::string_view provider);

  // Thin calls for tools such as operatorctl. No environment fallback.
  absl::StatusOr<v1::AuthStatus> GetAuthStatus(absl::string_view provider);
  absl::StatusOr<v1::ListProvidersResponse> ListProviders();
  absl::StatusOr<v1::SetApiKeyResponse> SetApiKey(absl::string_view provider,
                                                  absl::string_view key);
  absl::StatusOr<v1::SetRuntimeApiKeyResponse> SetRuntimeApiKey(absl::string_view provider,
                                                                absl::string_view key);
  absl::StatusOr<v1::LogoutResponse> Logout(absl::string_view provider);
  absl::StatusOr<v1::DrainErrorsResponse> DrainErrors();
  // Copies an agent CLI's logins (source: claude-code, codex, gemini-cli, pi; `path` absolute)
  // into the daemon and, with `keep_in_sync`, keeps that file in step with them.
  absl::StatusOr<v1::ImportLoginsResponse> ImportLogins(absl::string_view source,
                                                        absl::string_view path,
                                                        bool keep_in_sync);
  absl::StatusOr<v1::UnlinkVendorResponse> UnlinkVendor(absl::string_view source);
  // Makes named account `account` the provider's default.
  absl::StatusOr<v1::SetDefaultAccountResponse> SetDefaultAccount(absl::string_view provider,
                                                                   absl::string_view account);
  // The account calls name when their provider does not (options, else $OPERATOR_AUTH_ACCOUNT);
  // empty for the default account.
  const std::string& account() const { return options_.account; }

  // Chat-channel credentials (ChannelService). No environment fallback.
  absl::StatusOr<v1::ListChannelsResponse> ListChannels();
  absl::StatusOr<v1::GetChannelResponse> GetChannel(absl::string_view channel);
  absl::StatusOr<v1::SetChannelResponse> SetChannel(
      absl::string_view channel, const std::map<std::string, std::string>& fields);
  absl::StatusOr<v1::UnsetChannelResponse> UnsetChannel(absl::string_view channel);

  // The daemon's own state (DaemonService).
  absl::StatusOr<v1::DaemonStatus> GetDaemonStatus();

  // Opens an interactive Login stream (no deadline beyond the daemon's own 5-minute limit):
  // write a LoginRequest with `start` first, then answers or a cancel; read LoginEvents until
  // Read() returns false, then Finish(). `context` must outlive the stream; TryCancel() on it
  // cancels the login from any thread.
  std::unique_ptr<grpc::ClientReaderWriter<v1::LoginRequest, v1::LoginEvent>> OpenLogin(
      grpc::ClientContext& context);

  const std::string& socket_path() const { return socket_path_; }

 private:
  template <typename Request, typename Response, typename Stub, typename Method>
  absl::StatusOr<Response> Call(Stub& stub, Method method, const Request& request);
  // Names this client's account in `request`, unless its provider names one itself.
  template <typename Request>
  void NameAccount(Request& request) const {
    if (!options_.account.empty() && request.provider().find('@') == std::string::npos) {
      request.set_account(options_.account);
    }
  }

  std::string socket_path_;
  AuthClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AuthService::Stub> stub_;
  std::unique_ptr<v1::ChannelService::Stub> channel_stub_;
  std::unique_ptr<v1::DaemonService::Stub> daemon_stub_;
};

// True when `status` came from failing to reach the daemon (no socket, refused, no answer in
// time) rather than from the daemon itself.
bool IsDaemonUnreachable(const absl::Status& status);

}  // namespace operator_auth
