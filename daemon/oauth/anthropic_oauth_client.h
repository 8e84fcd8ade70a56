// Anthropic (Claude Pro/Max): JSON token requests, and the code exchange carries `state`, which
// Anthropic's flow sets to the PKCE verifier.
#pragma once

#include "daemon/oauth/oauth_client.h"

namespace operator_auth {

class AnthropicOAuthClient : public OAuthClient {
 public:
  using OAuthClient::OAuthClient;
  absl::StatusOr<Credential> ExchangeCode(const std::string& code, const std::string& code_verifier,
                                          const std::string& state) override;
};

}  // namespace operator_auth
