// Talks to one provider's OAuth endpoints: refresh, revocation, and the pieces of a login
// (authorize URL, code exchange, device authorization and polling). OAuthClient itself speaks
// plain RFC 6749 / 7636 / 8628 / 7009, which custom providers use; each provider dialect that
// differs overrides the parts that differ, one file per dialect. MakeOAuthClient picks one.
// Thread-safe: no mutable state beyond the HttpClient, which is thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/core/credential.h"
#include "daemon/oauth/http_client.h"
#include "daemon/oauth/oauth_provider_config.h"
#include "daemon/oauth/token_reply.h"

namespace operator_auth {

struct DeviceAuthorization {
  std::string device_code;  // secret: never logged
  std::string user_code;
  std::string verification_uri;
  std::string verification_uri_complete;
  absl::Duration expires_in = absl::Minutes(15);
  absl::Duration interval = absl::Seconds(5);
};

// Login options a client may pass (e.g. the GitHub Enterprise host).
struct LoginOptions {
  std::string enterprise_domain;
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

  // Device flow (RFC 8628).
  virtual absl::StatusOr<DeviceAuthorization> StartDeviceAuthorization(const LoginOptions& options);
  // nullopt while the user has not approved yet (authorization_pending). A slow_down answer adds
  // 5 s to `interval`, as RFC 8628 3.5 says.
  virtual absl::StatusOr<std::optional<Credential>> PollDeviceAuthorization(
      const DeviceAuthorization& device, const LoginOptions& options, absl::Duration& interval);

 protected:
  // Posts `fields` to `url` in the configured format (form or JSON) and reads the reply.
  absl::StatusOr<TokenReply> PostTokenRequest(const std::string& url, const HttpFields& fields,
                                              absl::string_view what);
  // The stored credential for a token reply; `previous` (when refreshing) supplies what the
  // reply leaves out: the refresh token when it did not rotate, and the attributes.
  virtual absl::StatusOr<Credential> CredentialFromReply(const TokenReply& reply,
                                                         const Credential* previous);
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
