// GitHub Copilot: a device-flow login yields a long-lived GitHub token, kept as "refresh"; it is
// exchanged (GET copilot_internal/v2/token) for the short-lived Copilot token agents use, kept as
// "access". "Refreshing" is that exchange again. A GitHub Enterprise host given at login is kept
// in the credential as "enterprise_url", so refreshes go to the same host.
#pragma once

#include "daemon/oauth/oauth_client.h"

namespace operator_auth {

class GithubCopilotOAuthClient : public OAuthClient {
 public:
  using OAuthClient::OAuthClient;

  absl::StatusOr<Credential> Refresh(const Credential& current) override;
  absl::StatusOr<std::optional<Credential>> PollDeviceAuthorization(
      const DeviceAuthorization& device, const LoginOptions& options,
      absl::Duration& interval) override;

 private:
  // Exchanges `with.refresh` (the GitHub token) for a Copilot token on `with`'s domain.
  absl::StatusOr<Credential> ExchangeForCopilotToken(Credential with);
};

// The credential attribute that keeps a GitHub Enterprise host.
inline constexpr char kEnterpriseUrlAttribute[] = "enterprise_url";

}  // namespace operator_auth
