// The core's TokenRefresher, backed by one OAuthClient per configured OAuth provider.
// Thread-safe (immutable after construction).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/core/token_refresher.h"
#include "daemon/oauth/oauth_client.h"

namespace operator_auth {

class OAuthTokenRefresher : public TokenRefresher {
 public:
  // `http` must outlive the refresher.
  OAuthTokenRefresher(const std::vector<OAuthProviderConfig>& providers, HttpClient& http,
                      OAuthClient::Clock clock = nullptr);

  bool CanRefresh(const std::string& provider) const override;
  absl::StatusOr<Credential> Refresh(const std::string& provider,
                                     const Credential& current) override;

  // nullptr when `provider` is not an OAuth provider.
  OAuthClient* ClientFor(const std::string& provider) const;

 private:
  std::map<std::string, std::unique_ptr<OAuthClient>> clients_;
};

}  // namespace operator_auth
