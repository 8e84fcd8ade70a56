#include "daemon/oauth/openai_codex_oauth_client.h"

#include "absl/strings/str_cat.h"
#include "daemon/oauth/jwt_claims.h"

namespace operator_auth {

absl::StatusOr<Credential> OpenAICodexOAuthClient::CredentialFromReply(const TokenReply& reply,
                                                                       const Credential* previous) {
  absl::StatusOr<Credential> c = OAuthClient::CredentialFromReply(reply, previous);
  if (!c.ok()) return c.status();
  absl::StatusOr<nlohmann::json> claims = DecodeJwtClaims(reply.access_token);
  if (claims.ok()) {
    auto auth = claims->find("https://api.openai.com/auth");
    if (auth != claims->end() && auth->is_object()) {
      auto id = auth->find("chatgpt_account_id");
      if (id != auth->end() && id->is_string() && !id->get<std::string>().empty()) {
        c->account_id = id->get<std::string>();
      }
    }
  }
  if (c->account_id.empty()) {
    // Codex requests need the account id; a token without one is of no use to agents.
    return absl::UnavailableError(
        absl::StrCat("the ", config_.id, " access token carries no chatgpt_account_id claim"));
  }
  return c;
}

}  // namespace operator_auth
