// The core's OAuthTokenService, backed by one OAuthClient per configured OAuth provider.
// Thread-safe (immutable after construction).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/core/oauth_token_service.h"
#include "daemon/oauth/oauth_client.h"

namespace operator_auth {

class ProviderOAuthService : public OAuthTokenService {
 public:
  // `http` must outlive the refresher.
  ProviderOAuthService(const std::vector<OAuthProviderConfig>& providers, HttpClient& http,
                       OAuthClient::Clock clock = nullptr);

  bool CanRefresh(const std::string& provider) const override;
  absl::StatusOr<Credential> Refresh(const std::string& provider,
                                     const Credential& current) override;
  absl::Status Revoke(const std::string& provider, const Credential& current) override;

  // nullptr when `provider` is not an OAuth provider.
  OAuthClient* ClientFor(const std::string& provider) const;

 private:
  std::map<std::string, std::unique_ptr<OAuthClient>> clients_;
};

}  // namespace operator_auth
