#include "cli/provider_env_vars.h"

#include "common/provider_id.h"

namespace operator_auth::cli {
namespace {

struct OAuthTokenVariable {
  absl::string_view provider;
  absl::string_view variable;
};

// OAuth access tokens whose provider's own tool reads them from the environment.
constexpr OAuthTokenVariable kOAuthTokenVariables[] = {
    // Claude Code: "CLAUDE_CODE_OAUTH_TOKEN", a Claude subscription OAuth access token, 5th in
    // its authentication precedence (https://code.claude.com/docs/en/authentication,
    // "Authentication precedence"). ANTHROPIC_API_KEY would be sent as x-api-key, which an OAuth
    // token is not.
    {"anthropic-claude-code", "CLAUDE_CODE_OAUTH_TOKEN"},
    // Gemini CLI: with GOOGLE_GENAI_USE_GCA set, initOauthClient() takes
    // GOOGLE_CLOUD_ACCESS_TOKEN as the Code Assist access token and reads no credential file
    // (google-gemini/gemini-cli, packages/core/src/code_assist/oauth2.ts).
    {"google-gemini-cli", "GOOGLE_CLOUD_ACCESS_TOKEN"},
    // Not listed, so {ID}_API_KEY:
    // - openai-codex: Codex reads OPENAI_API_KEY / CODEX_API_KEY as platform API keys and its
    //   ChatGPT tokens only from $CODEX_HOME/auth.json (openai/codex,
    //   codex-rs/login/src/auth/manager.rs); a ChatGPT token under OPENAI_API_KEY would be sent
    //   to api.openai.com and refused.
    // - github-copilot: the daemon hands out the short-lived Copilot API token; the variables
    //   Copilot's tools read (COPILOT_GITHUB_TOKEN, GH_TOKEN, GITHUB_TOKEN; pi-mono
    //   packages/ai/src/env-api-keys.ts) hold the GitHub token it is exchanged from.
    // - google-antigravity: no tool reads an Antigravity token from its environment.
};

}  // namespace

std::string KeyEnvironmentVariable(absl::string_view provider, bool oauth_access_token) {
  if (oauth_access_token) {
    for (const OAuthTokenVariable& entry : kOAuthTokenVariables) {
      if (entry.provider == provider) return std::string(entry.variable);
    }
  }
  return ApiKeyEnvVarName(provider);
}

std::vector<std::pair<std::string, std::string>> UsageEnvironmentVariables(
    absl::string_view provider, bool oauth_access_token, absl::string_view project_id) {
  std::vector<std::pair<std::string, std::string>> variables;
  if (provider == "google-gemini-cli" && oauth_access_token) {
    // GOOGLE_CLOUD_ACCESS_TOKEN is read only under GOOGLE_GENAI_USE_GCA (oauth2.ts above), which
    // also selects the Google-login auth type (packages/core/src/core/contentGenerator.ts,
    // getAuthTypeFromEnv). setupUser() sends GOOGLE_CLOUD_PROJECT to loadCodeAssist
    // (packages/core/src/code_assist/setup.ts): the project the daemon found for this token.
    variables.emplace_back("GOOGLE_GENAI_USE_GCA", "true");
    if (!project_id.empty()) variables.emplace_back("GOOGLE_CLOUD_PROJECT", project_id);
  }
  return variables;
}

}  // namespace operator_auth::cli
