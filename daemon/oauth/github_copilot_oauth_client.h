// GitHub Copilot: a device-flow login yields a long-lived GitHub token, kept as "refresh"; it is
// exchanged (GET copilot_internal/v2/token) for the short-lived Copilot token agents use, kept as
// "access". "Refreshing" is that exchange again; a 401 there means GitHub no longer accepts the
// GitHub token (revoked, or the app de-authorized), so a new login is needed. A GitHub
// Enterprise host given at login is kept in the credential as "enterprise_url" (pi's
// "enterpriseUrl" is read too), so refreshes go to the same host. After a login the account's
// unconfigured models are enabled (copilot_models.h).
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
  absl::StatusOr<Credential> FinishLogin(Credential credential,
                                         std::vector<std::string>& notes) override;
  KeyUsage UsageFor(const Credential& credential) const override;

 private:
  // Exchanges `with.refresh` (the GitHub token) for a Copilot token on `with`'s domain.
  absl::StatusOr<Credential> ExchangeForCopilotToken(Credential with);
  std::string DomainOf(const Credential& credential) const;
};

// Where Copilot API requests go, as pi-mono's getGitHubCopilotBaseUrl decides it
// (packages/ai/src/utils/oauth/github-copilot.ts): `override` (authd.json copilot_api_url) when
// set; else the token's "proxy-ep=" host with "proxy." turned into "api."; else
// https://copilot-api.<enterprise domain>; else https://api.individual.githubcopilot.com.
std::string CopilotApiBaseUrl(const std::string& copilot_token,
                              const std::string& enterprise_domain, const std::string& override);

// The editor identity GitHub's Copilot endpoints expect with every request (the headers GitHub's
// own VS Code extension sends; pi-mono's COPILOT_HEADERS).
const HeaderList& CopilotEditorHeaders();

}  // namespace operator_auth
