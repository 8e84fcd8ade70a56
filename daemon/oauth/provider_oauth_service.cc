#include "daemon/oauth/provider_oauth_service.h"

#include "absl/strings/str_cat.h"

namespace operator_auth {

ProviderOAuthService::ProviderOAuthService(const std::vector<OAuthProviderConfig>& providers,
                                           HttpClient& http, OAuthClient::Clock clock) {
  for (const OAuthProviderConfig& config : providers) {
    clients_[config.id] = MakeOAuthClient(config, http, clock);
  }
}

bool ProviderOAuthService::CanRefresh(const std::string& provider) const {
  return clients_.contains(provider);
}

OAuthClient* ProviderOAuthService::ClientFor(const std::string& provider) const {
  auto it = clients_.find(provider);
  return it == clients_.end() ? nullptr : it->second.get();
}

absl::StatusOr<Credential> ProviderOAuthService::Refresh(const std::string& provider,
                                                         const Credential& current) {
  OAuthClient* client = ClientFor(provider);
  if (client == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(provider, " is not a configured OAuth provider"));
  }
  return client->Refresh(current);
}

absl::Status ProviderOAuthService::Revoke(const std::string& provider, const Credential& current) {
  OAuthClient* client = ClientFor(provider);
  if (client == nullptr) return absl::OkStatus();  // not an OAuth provider: nothing to revoke
  return client->Revoke(current);
}

}  // namespace operator_auth
