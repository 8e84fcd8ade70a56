#include "daemon/oauth/anthropic_oauth_client.h"

#include "absl/strings/str_cat.h"

namespace operator_auth {

absl::StatusOr<Credential> AnthropicOAuthClient::ExchangeCode(const std::string& code,
                                                              const std::string& code_verifier,
                                                              const std::string& state) {
  HttpFields fields = {{"grant_type", "authorization_code"},
                       {"client_id", config_.client_id},
                       {"code", code},
                       {"state", state},
                       {"redirect_uri", config_.redirect_uri},
                       {"code_verifier", code_verifier}};
  absl::StatusOr<TokenReply> reply = PostTokenRequest(
      config_.token_url, fields, absl::StrCat("exchanging the ", config_.id, " login code"));
  if (!reply.ok()) return reply.status();
  return CredentialFromReply(*reply, nullptr);
}

std::string AnthropicOAuthClient::TermsNotice() const {
  return "Note: Anthropic allows Claude Pro/Max subscription credentials only in its own apps "
         "(Claude Code, Claude.ai); other use may break its terms.";
}

KeyUsage AnthropicOAuthClient::UsageFor(const Credential& credential) const {
  KeyUsage usage = OAuthClient::UsageFor(credential);
  // An OAuth token goes in Authorization: Bearer (not x-api-key) with the oauth beta; pi-mono's
  // packages/ai/src/providers/anthropic.ts sends these with every such request, as Claude Code
  // does.
  usage.headers = {{"anthropic-version", "2023-06-01"},
                   {"anthropic-beta", "oauth-2025-04-20,claude-code-20250219"},
                   {"x-app", "cli"}};
  return usage;
}

}  // namespace operator_auth
