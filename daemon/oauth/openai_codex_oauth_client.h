// OpenAI Codex (ChatGPT subscriptions): RFC 6749 tokens whose access token carries the ChatGPT
// account id (the "https://api.openai.com/auth" claim), which every Codex request names; a
// device-code login besides the browser one (openai_device_login.h); and revocation in the JSON
// body codex-rs sends (openai/codex codex-rs/login/src/auth/revoke.rs: the refresh token with
// token_type_hint and client_id, else the access token without client_id). Thread-safe.
#pragma once

#include "daemon/oauth/oauth_client.h"

namespace operator_auth {

class OpenAICodexOAuthClient : public OAuthClient {
 public:
  using OAuthClient::OAuthClient;

  absl::Status Revoke(const Credential& current) override;
  absl::StatusOr<bool> UsesDeviceFlow(const LoginOptions& options) const override;
  absl::StatusOr<DeviceAuthorization> StartDeviceAuthorization(const LoginOptions& options) override;
  absl::StatusOr<std::optional<Credential>> PollDeviceAuthorization(
      const DeviceAuthorization& device, const LoginOptions& options,
      absl::Duration& interval) override;
  KeyUsage UsageFor(const Credential& credential) const override;

 protected:
  absl::StatusOr<Credential> CredentialFromReply(const TokenReply& reply,
                                                 const Credential* previous) override;
};

}  // namespace operator_auth
