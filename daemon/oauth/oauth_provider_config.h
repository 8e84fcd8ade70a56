// How to talk OAuth to one provider: endpoints, client, scopes, request format, and which
// dialect quirks apply. Built-in providers come with their real endpoints; authd.json may
// override any field or define new (plain RFC 6749 / 7636 / 8628 / 7009) providers.
// URLs of a provider that supports enterprise hosts may contain "{domain}" (GitHub Copilot:
// github.com, or the GitHub Enterprise host kept in the credential). Plain value type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/oauth/http_client.h"

namespace operator_auth {

enum class OAuthFlow { kAuthorizationCode, kDeviceCode };
enum class TokenRequestFormat { kForm, kJson };

// Provider quirks beyond plain RFC 6749. kStandard is what custom providers speak.
enum class OAuthDialect {
  kStandard,
  kAnthropic,          // JSON token requests; `state` sent with the code
  kOpenAICodex,        // account id from the access token's https://api.openai.com/auth claim
  kGithubCopilot,      // device flow for a GitHub token (kept as "refresh"), exchanged for a
                       // short-lived Copilot token (kept as "access"); enterprise domain kept;
                       // models enabled after a login
  kGoogleGeminiCli,    // plain RFC 6749 tokens, plus the Code Assist project (loadCodeAssist,
  kGoogleAntigravity,  // onboardUser) found after a login and kept as "project_id"
};

struct OAuthProviderConfig {
  std::string id;
  std::string name;
  OAuthDialect dialect = OAuthDialect::kStandard;
  OAuthFlow flow = OAuthFlow::kAuthorizationCode;
  std::string authorize_url;
  std::string token_url;
  std::string device_authorization_url;
  std::string revocation_url;  // empty: the provider has none
  std::string client_id;
  std::string client_secret;  // public "installed app" secrets only
  std::vector<std::string> scopes;
  std::string redirect_uri;  // loopback, e.g. http://localhost:1455/auth/callback
  TokenRequestFormat token_request_format = TokenRequestFormat::kForm;
  // Extra query parameters on the authorize URL, in order.
  HttpFields extra_authorize_params;
  // Subtracted from expires_in when computing "expires", as the provider's own tools do.
  int64_t expiry_margin_ms = 0;
  // GitHub Copilot: where a GitHub token is exchanged for a Copilot token.
  std::string copilot_token_url;
  // Default for "{domain}" when the credential names none.
  std::string default_domain;
  // How long one request to the provider may take before it counts as a transient failure, and
  // how long connecting may take of that (authd.json may lower both, up to the caps below).
  int64_t request_timeout_ms = 15'000;
  int64_t connect_timeout_ms = 5'000;
  // Sent as User-Agent with every request to the provider; empty: libcurl's own.
  std::string user_agent;
  // Google: where loadCodeAssist / onboardUser live, and the user's own Cloud project (standard
  // tier), which GOOGLE_CLOUD_PROJECT / GOOGLE_CLOUD_PROJECT_ID in the daemon's environment
  // override.
  std::string code_assist_url;
  std::string project_id;
  // How often an onboarding operation is polled (gemini-cli: 5 s).
  int64_t code_assist_poll_interval_ms = 5'000;
  // GitHub Copilot: where API requests go; empty: derived from the token (see README).
  std::string copilot_api_url;
};

// A refresh holds providers.lock while its request runs, so no configuration may make that long.
inline constexpr int64_t kMaxRequestTimeoutMs = 30'000;
inline constexpr int64_t kMaxConnectTimeoutMs = 10'000;

// The built-in OAuth providers with their real endpoints.
std::vector<OAuthProviderConfig> BuiltInOAuthProviders();

// "{domain}" in `url` replaced by `domain`.
std::string WithDomain(const std::string& url, const std::string& domain);

}  // namespace operator_auth
