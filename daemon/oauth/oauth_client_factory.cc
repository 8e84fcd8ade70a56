#include "daemon/oauth/anthropic_oauth_client.h"
#include "daemon/oauth/github_copilot_oauth_client.h"
#include "daemon/oauth/google_code_assist_oauth_client.h"
#include "daemon/oauth/oauth_client.h"
#include "daemon/oauth/openai_codex_oauth_client.h"

namespace operator_auth {

std::unique_ptr<OAuthClient> MakeOAuthClient(OAuthProviderConfig config, HttpClient& http,
                                             OAuthClient::Clock clock) {
  switch (config.dialect) {
    case OAuthDialect::kAnthropic:
      return std::make_unique<AnthropicOAuthClient>(std::move(config), http, std::move(clock));
    case OAuthDialect::kOpenAICodex:
      return std::make_unique<OpenAICodexOAuthClient>(std::move(config), http, std::move(clock));
    case OAuthDialect::kGithubCopilot:
      return std::make_unique<GithubCopilotOAuthClient>(std::move(config), http, std::move(clock));
    case OAuthDialect::kGoogleGeminiCli:
    case OAuthDialect::kGoogleAntigravity:
      return std::make_unique<GoogleCodeAssistOAuthClient>(std::move(config), http,
                                                           std::move(clock));
    case OAuthDialect::kStandard:
      break;
  }
  return std::make_unique<OAuthClient>(std::move(config), http, std::move(clock));
}

}  // namespace operator_auth
