#include "daemon/oauth/oauth_provider_config.h"

#include "absl/strings/str_replace.h"

namespace operator_auth {
namespace {

constexpr int64_t kFiveMinutesMs = 5 * 60 * 1000;

OAuthProviderConfig Anthropic() {
  OAuthProviderConfig c;
  c.id = "anthropic-claude-code";
  c.name = "Anthropic (Claude Pro/Max)";
  c.dialect = OAuthDialect::kAnthropic;
  c.authorize_url = "https://claude.ai/oauth/authorize";
  c.token_url = "https://platform.claude.com/v1/oauth/token";
  c.client_id = "9d1c250a-e61b-44d9-88ed-5944d1962f5e";
  c.scopes = {"org:create_api_key",        "user:profile",     "user:inference",
              "user:sessions:claude_code", "user:mcp_servers", "user:file_upload"};
  c.redirect_uri = "http://localhost:53692/callback";
  c.token_request_format = TokenRequestFormat::kJson;
  c.extra_authorize_params = {{"code", "true"}};
  c.expiry_margin_ms = kFiveMinutesMs;
  return c;
}

OAuthProviderConfig OpenAICodex() {
  OAuthProviderConfig c;
  c.id = "openai-codex";
  c.name = "OpenAI Codex (ChatGPT Plus/Pro)";
  c.dialect = OAuthDialect::kOpenAICodex;
  c.authorize_url = "https://auth.openai.com/oauth/authorize";
  c.token_url = "https://auth.openai.com/oauth/token";
  c.revocation_url = "https://auth.openai.com/oauth/revoke";
  // Device-code login (auth login codex --device); see openai_device_login.h.
  c.device_authorization_url = "https://auth.openai.com/api/accounts/deviceauth/usercode";
  c.client_id = "app_EMoamEEZ73f0CkXaXp7hrann";
  c.scopes = {"openid", "profile", "email", "offline_access"};
  c.redirect_uri = "http://localhost:1455/auth/callback";
  c.extra_authorize_params = {{"id_token_add_organizations", "true"},
                              {"codex_cli_simplified_flow", "true"},
                              {"originator", "codex_cli_rs"}};
  return c;
}

OAuthProviderConfig GithubCopilot() {
  OAuthProviderConfig c;
  c.id = "github-copilot";
  c.name = "GitHub Copilot";
  c.dialect = OAuthDialect::kGithubCopilot;
  c.flow = OAuthFlow::kDeviceCode;
  c.device_authorization_url = "https://{domain}/login/device/code";
  c.token_url = "https://{domain}/login/oauth/access_token";
  c.copilot_token_url = "https://api.{domain}/copilot_internal/v2/token";
  c.client_id = "Iv1.b507a08c87ecfe98";
  c.scopes = {"read:user"};
  c.expiry_margin_ms = kFiveMinutesMs;
  c.default_domain = "github.com";
  return c;
}

OAuthProviderConfig Google(OAuthDialect dialect, std::string id, std::string name,
                           std::string client_id, std::string client_secret,
                           std::string redirect_uri, std::vector<std::string> scopes) {
  OAuthProviderConfig c;
  c.id = std::move(id);
  c.name = std::move(name);
  c.dialect = dialect;
  // Both gemini-cli (packages/core/src/code_assist/server.ts, CODE_ASSIST_ENDPOINT) and pi-mono
  // (packages/ai/src/utils/oauth/google-gemini-cli.ts and google-antigravity.ts) discover the
  // project at the production Code Assist endpoint; pi's Antigravity tries the daily sandbox
  // only after production fails. We use production for both: it is the one host every
  // reference agrees answers loadCodeAssist, and the sandbox is a pre-release service.
  c.code_assist_url = "https://cloudcode-pa.googleapis.com";
  c.authorize_url = "https://accounts.google.com/o/oauth2/v2/auth";
  c.token_url = "https://oauth2.googleapis.com/token";
  c.revocation_url = "https://oauth2.googleapis.com/revoke";
  c.client_id = std::move(client_id);
  c.client_secret = std::move(client_secret);
  c.scopes = std::move(scopes);
  c.redirect_uri = std::move(redirect_uri);
  c.extra_authorize_params = {{"access_type", "offline"}, {"prompt", "consent"}};
  c.expiry_margin_ms = kFiveMinutesMs;
  return c;
}

}  // namespace

std::vector<OAuthProviderConfig> BuiltInOAuthProviders() {
  const std::string g = "https://www.googleapis.com/auth/";
  return {
      Anthropic(),
      OpenAICodex(),
      GithubCopilot(),
      Google(OAuthDialect::kGoogleAntigravity, "google-antigravity", "Google Antigravity",
             "1071006060591-tmhssin2h21lcre235vtolojh4g403ep.apps.googleusercontent.com",
             "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", "http://localhost:51121/oauth-callback",
             {g + "cloud-platform", g + "userinfo.email", g + "userinfo.profile", g + "cclog",
              g + "experimentsandconfigs"}),
      Google(OAuthDialect::kGoogleGeminiCli, "google-gemini-cli", "Google Gemini CLI",
             "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com",
             "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", "http://localhost:8085/oauth2callback",
             {g + "cloud-platform", g + "userinfo.email", g + "userinfo.profile"}),
  };
}

std::string WithDomain(const std::string& url, const std::string& domain) {
  return absl::StrReplaceAll(url, {{"{domain}", domain}});
}

}  // namespace operator_auth
