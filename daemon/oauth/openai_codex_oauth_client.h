// OpenAI Codex (ChatGPT): plain form-encoded OAuth, plus the ChatGPT account id, which OpenAI
// puts in the access token's "https://api.openai.com/auth" claim as "chatgpt_account_id".
#pragma once

#include "daemon/oauth/oauth_client.h"

namespace operator_auth {

class OpenAICodexOAuthClient : public OAuthClient {
 public:
  using OAuthClient::OAuthClient;

 protected:
  absl::StatusOr<Credential> CredentialFromReply(const TokenReply& reply,
                                                 const Credential* previous) override;
};

}  // namespace operator_auth
