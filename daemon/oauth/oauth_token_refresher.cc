#include "daemon/oauth/oauth_token_refresher.h"

#include "absl/strings/str_cat.h"

namespace operator_auth {

OAuthTokenRefresher::OAuthTokenRefresher(const std::vector<OAuthProviderConfig>& providers,
                                         HttpClient& http, OAuthClient::Clock clock) {
  for (const OAuthProviderConfig& config : providers) {
    clients_[config.id] = MakeOAuthClient(config, http, clock);
  }
}

bool OAuthTokenRefresher::CanRefresh(const std::string& provider) const {
  return clients_.contains(provider);
}

OAuthClient* OAuthTokenRefresher::ClientFor(const std::string& provider) const {
  auto it = clients_.find(provider);
  return it == clients_.end() ? nullptr : it->second.get();
}

absl::StatusOr<Credential> OAuthTokenRefresher::Refresh(const std::string& provider,
                                                        const Credential& current) {
  OAuthClient* client = ClientFor(provider);
  if (client == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(provider, " is not a configured OAuth provider"));
  }
  return client->Refresh(current);
}

}  // namespace operator_auth
