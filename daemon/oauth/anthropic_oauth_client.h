// Anthropic (Claude Pro/Max): JSON token requests, and the code exchange carries `state` (its own
// random value: Claude Code does so; pi-mono reuses the verifier, which would put it in a URL).
#pragma once

#include "daemon/oauth/oauth_client.h"

namespace operator_auth {

class AnthropicOAuthClient : public OAuthClient {
 public:
  using OAuthClient::OAuthClient;
  absl::StatusOr<Credential> ExchangeCode(const std::string& code, const std::string& code_verifier,
                                          const std::string& state) override;
  std::string TermsNotice() const override;
  KeyUsage UsageFor(const Credential& credential) const override;
};

}  // namespace operator_auth
