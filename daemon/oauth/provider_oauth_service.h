// The core's OAuthTokenService, backed by one OAuthClient per configured OAuth provider. The set
// of clients can be replaced at run time (SIGHUP re-reads authd.json); a refresh or login that
// already holds a client keeps using it until it finishes. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "daemon/core/oauth_token_service.h"
#include "daemon/oauth/oauth_client.h"

namespace operator_auth {

class ProviderOAuthService : public OAuthTokenService {
 public:
  // `http` must outlive the service.
  ProviderOAuthService(const std::vector<OAuthProviderConfig>& providers, HttpClient& http,
                       OAuthClient::Clock clock = nullptr);

  // Replaces every client with ones built from `providers`.
  void Reconfigure(const std::vector<OAuthProviderConfig>& providers);

  bool CanRefresh(const std::string& provider) const override;
  absl::StatusOr<Credential> Refresh(const std::string& provider,
                                     const Credential& current) override;
  absl::Status Revoke(const std::string& provider, const Credential& current) override;
  KeyUsage UsageFor(const std::string& provider, const Credential& current) const override;
  bool NeedsCompletion(const std::string& provider, const Credential& current) const override;
  absl::StatusOr<std::map<std::string, std::string>> Complete(const std::string& provider,
                                                              const Credential& current) override;

  // nullptr when `provider` is not an OAuth provider.
  std::shared_ptr<OAuthClient> ClientFor(const std::string& provider) const;

 private:
  using Clients = std::map<std::string, std::shared_ptr<OAuthClient>, std::less<>>;

  std::shared_ptr<const Clients> Build(const std::vector<OAuthProviderConfig>& providers) const;

  HttpClient& http_;
  const OAuthClient::Clock clock_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Clients> clients_ ABSL_GUARDED_BY(mu_);
};

}  // namespace operator_auth
