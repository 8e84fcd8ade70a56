// Talks to one provider's OAuth endpoints: refresh, revocation, and the pieces of a login
// (authorize URL, code exchange, device authorization and polling). OAuthClient itself speaks
// plain RFC 6749 / 7636 / 8628 / 7009, which custom providers use; each provider dialect that
// differs overrides the parts that differ, one file per dialect. MakeOAuthClient picks one.
// Thread-safe: no mutable state beyond the HttpClient, which is thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/core/credential.h"
#include "daemon/core/key_usage.h"
#include "daemon/oauth/http_client.h"
#include "daemon/oauth/oauth_provider_config.h"
#include "daemon/oauth/token_reply.h"

namespace operator_auth {

// Bounds for a device authorization's numbers (RFC 8628 3.2); GitHub gives 900 s and 5 s.
inline constexpr int64_t kMinDeviceCodeLifetimeS = 60;
inline constexpr int64_t kMaxDeviceCodeLifetimeS = 30 * 60;
inline constexpr int64_t kMinPollIntervalS = 1;
inline constexpr int64_t kMaxPollIntervalS = 60;

// A whole number of seconds in `object[key]`, given as a JSON number or a decimal string (some
// providers send strings); nullopt when absent or unreadable. Not clamped.
std::optional<int64_t> WholeSeconds(const nlohmann::json& object, const char* key);

struct DeviceAuthorization {
  std::string device_code;  // secret: never logged
  std::string user_code;
  std::string verification_uri;
  std::string verification_uri_complete;
  absl::Duration expires_in = absl::Minutes(15);
  absl::Duration interval = absl::Seconds(5);
};

// Login options a client may pass.
struct LoginOptions {
  std::string enterprise_domain;  // GitHub Copilot: a GitHub Enterprise host, validated
  bool device = false;            // a device-code login where the provider has one besides
                                  // its browser login (OpenAI Codex)
};

class OAuthClient {
 public:
  using Clock = std::function<absl::Time()>;

  OAuthClient(OAuthProviderConfig config, HttpClient& http, Clock clock);
  virtual ~OAuthClient() = default;

  const OAuthProviderConfig& config() const { return config_; }

  // See OAuthTokenService::Refresh for the error classes.
  virtual absl::StatusOr<Credential> Refresh(const Credential& current);

  // RFC 7009 revocation of the refresh token (else the access token). OK when the provider
  // has no revocation endpoint (nothing to do).
  virtual absl::Status Revoke(const Credential& current);

  // Authorization code flow with PKCE S256.
  virtual std::string AuthorizeUrl(const std::string& code_challenge,
                                   const std::string& state) const;
  virtual absl::StatusOr<Credential> ExchangeCode(const std::string& code,
                                                  const std::string& code_verifier,
                                                  const std::string& state);

  // Whether a login with `options` runs the device flow (the provider's only flow, or asked for
  // and offered); INVALID_ARGUMENT when a device login is asked for and the provider has none.
  virtual absl::StatusOr<bool> UsesDeviceFlow(const LoginOptions& options) const;

  // Device flow (RFC 8628).
  virtual absl::StatusOr<DeviceAuthorization> StartDeviceAuthorization(const LoginOptions& options);
  // nullopt while the user has not approved yet (authorization_pending). A slow_down answer adds
  // 5 s to `interval`, as RFC 8628 3.5 says.
  virtual absl::StatusOr<std::optional<Credential>> PollDeviceAuthorization(
      const DeviceAuthorization& device, const LoginOptions& options, absl::Duration& interval);

  // The steps after a login's tokens arrive (Google: the Code Assist project; Copilot: enabling
  // models), returning the credential to store. `notes` gets one line per thing the user should
  // know (what was enabled, what is missing). A failure of a best-effort step is a note, not an
  // error.
  virtual absl::StatusOr<Credential> FinishLogin(Credential credential,
                                                 std::vector<std::string>& notes);

  // One line shown when a login starts, for providers whose terms restrict third-party use of
  // their OAuth client; empty when there is nothing to say.
  virtual std::string TermsNotice() const { return std::string(); }

  // What a caller needs besides the access token (see KeyUsage). No I/O.
  virtual KeyUsage UsageFor(const Credential& credential) const;
  // True when the credential lacks something Complete() can fetch (Google: the project). No I/O.
  virtual bool NeedsCompletion(const Credential& credential) const;
  // Fetches it; see OAuthTokenService::Complete.
  virtual absl::StatusOr<std::map<std::string, std::string>> Complete(const Credential& credential);

 protected:
  // Posts `fields` to `url` in the configured format (form or JSON) and reads the reply.
  absl::StatusOr<TokenReply> PostTokenRequest(const std::string& url, const HttpFields& fields,
                                              absl::string_view what);
  // The stored credential for a token reply; `previous` (when refreshing) supplies what the
  // reply leaves out: the refresh token when it did not rotate, and the attributes.
  virtual absl::StatusOr<Credential> CredentialFromReply(const TokenReply& reply,
                                                         const Credential* previous);
  // The authorization-code grant (RFC 6749 4.1.3) with `redirect_uri`.
  absl::StatusOr<Credential> ExchangeCodeFor(const std::string& code,
                                             const std::string& code_verifier,
                                             const std::string& redirect_uri);
  // client_id, and client_secret when configured.
  HttpFields ClientFields() const;
  int64_t ExpiresAt(std::optional<int64_t> expires_in_s) const;
  absl::StatusOr<HttpResponse> Send(HttpRequest request, absl::string_view what);

  const OAuthProviderConfig config_;
  HttpClient& http_;
  const Clock clock_;
};

// The client for `config.dialect`.
std::unique_ptr<OAuthClient> MakeOAuthClient(OAuthProviderConfig config, HttpClient& http,
                                             OAuthClient::Clock clock = nullptr);

}  // namespace operator_auth
