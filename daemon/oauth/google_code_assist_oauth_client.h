// Google's Code Assist providers (google-gemini-cli, google-antigravity): plain RFC 6749 tokens
// (client_secret with every token request; a refresh reply without a new refresh token keeps the
// old one), plus the Code Assist project every request names. The project is found after a login
// and, for a stored credential without one (imported, written by another tool), on first use
// through CredentialCompletion; it is kept as "project_id" (pi's "projectId" is read too). The
// user's own project comes from GOOGLE_CLOUD_PROJECT / GOOGLE_CLOUD_PROJECT_ID in the daemon's
// environment, else "project_id" in authd.json. Thread-safe.
#pragma once

#include "daemon/oauth/oauth_client.h"

namespace operator_auth {

class GoogleCodeAssistOAuthClient : public OAuthClient {
 public:
  using OAuthClient::OAuthClient;

  absl::StatusOr<Credential> FinishLogin(Credential credential,
                                         std::vector<std::string>& notes) override;
  std::string TermsNotice() const override;
  KeyUsage UsageFor(const Credential& credential) const override;
  bool NeedsCompletion(const Credential& credential) const override;
  absl::StatusOr<std::map<std::string, std::string>> Complete(const Credential& credential) override;

 private:
  absl::StatusOr<std::string> DiscoverProject(const std::string& access_token);
  std::string UserProject() const;
};

}  // namespace operator_auth
