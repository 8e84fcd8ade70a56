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

}  // namespace operator_auth
