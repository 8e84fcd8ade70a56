#include "daemon/oauth/provider_oauth_service.h"

#include "common/credential_key.h"

#include "absl/strings/str_cat.h"

namespace operator_auth {

ProviderOAuthService::ProviderOAuthService(const std::vector<OAuthProviderConfig>& providers,
                                           HttpClient& http, OAuthClient::Clock clock)
    : http_(http), clock_(std::move(clock)), clients_(Build(providers)) {}

std::shared_ptr<const ProviderOAuthService::Clients> ProviderOAuthService::Build(
    const std::vector<OAuthProviderConfig>& providers) const {
  auto clients = std::make_shared<Clients>();
  for (const OAuthProviderConfig& config : providers) {
    (*clients)[config.id] = MakeOAuthClient(config, http_, clock_);
  }
  return clients;
}

void ProviderOAuthService::Reconfigure(const std::vector<OAuthProviderConfig>& providers) {
  std::shared_ptr<const Clients> clients = Build(providers);
  absl::MutexLock lock(&mu_);
  clients_.swap(clients);
  // Clients of the old set live on in the refreshes and logins that still hold them.
}

bool ProviderOAuthService::CanRefresh(const std::string& provider) const {
  return ClientFor(provider) != nullptr;
}

std::shared_ptr<OAuthClient> ProviderOAuthService::ClientFor(const std::string& provider) const {
  // `provider` may be a credential key "PROVIDER@ACCOUNT": every account speaks its provider's
  // dialect.
  const absl::string_view id = ProviderOfKey(provider);
  absl::MutexLock lock(&mu_);
  auto it = clients_->find(id);
  return it == clients_->end() ? nullptr : it->second;
}

absl::StatusOr<Credential> ProviderOAuthService::Refresh(const std::string& provider,
                                                         const Credential& current) {
  std::shared_ptr<OAuthClient> client = ClientFor(provider);
  if (client == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(provider, " is not a configured OAuth provider"));
  }
  return client->Refresh(current);
}

absl::Status ProviderOAuthService::Revoke(const std::string& provider, const Credential& current) {
  std::shared_ptr<OAuthClient> client = ClientFor(provider);
  if (client == nullptr) return absl::OkStatus();  // not an OAuth provider: nothing to revoke
  return client->Revoke(current);
}

KeyUsage ProviderOAuthService::UsageFor(const std::string& provider,
                                        const Credential& current) const {
  std::shared_ptr<OAuthClient> client = ClientFor(provider);
  if (client == nullptr) return OAuthTokenService::UsageFor(provider, current);
  return client->UsageFor(current);
}

bool ProviderOAuthService::NeedsCompletion(const std::string& provider,
                                           const Credential& current) const {
  std::shared_ptr<OAuthClient> client = ClientFor(provider);
  return client != nullptr && client->NeedsCompletion(current);
}

absl::StatusOr<std::map<std::string, std::string>> ProviderOAuthService::Complete(
    const std::string& provider, const Credential& current) {
  std::shared_ptr<OAuthClient> client = ClientFor(provider);
  if (client == nullptr) return std::map<std::string, std::string>();
  return client->Complete(current);
}

}  // namespace operator_auth
