#include "cli/provider_env_vars.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace operator_auth::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

TEST(ProviderEnvVars, ApiKeysGoInTheirIdApiKeyVariable) {
  EXPECT_EQ(KeyEnvironmentVariable("openai", false), "OPENAI_API_KEY");
  EXPECT_EQ(KeyEnvironmentVariable("anthropic", false), "ANTHROPIC_API_KEY");
  EXPECT_EQ(KeyEnvironmentVariable("my-gateway.eu", false), "MY_GATEWAY_EU_API_KEY");
  // An API key stored under an OAuth provider's id is still an API key.
  EXPECT_EQ(KeyEnvironmentVariable("anthropic-claude-code", false),
            "ANTHROPIC_CLAUDE_CODE_API_KEY");
}

// Claude Code reads a subscription OAuth token from CLAUDE_CODE_OAUTH_TOKEN
// (https://code.claude.com/docs/en/authentication, "Authentication precedence"); Gemini CLI reads
// GOOGLE_CLOUD_ACCESS_TOKEN under GOOGLE_GENAI_USE_GCA (google-gemini/gemini-cli
// packages/core/src/code_assist/oauth2.ts, initOauthClient).
TEST(ProviderEnvVars, OAuthTokensGoWhereTheirOwnToolsReadThem) {
  EXPECT_EQ(KeyEnvironmentVariable("anthropic-claude-code", true), "CLAUDE_CODE_OAUTH_TOKEN");
  EXPECT_EQ(KeyEnvironmentVariable("google-gemini-cli", true), "GOOGLE_CLOUD_ACCESS_TOKEN");
}

// Codex reads ChatGPT tokens only from auth.json (openai/codex codex-rs/login/src/auth/manager.rs),
// Copilot's tools want the GitHub token, not the Copilot token the daemon hands out, and nothing
// reads an Antigravity token: the {ID}_API_KEY rule.
TEST(ProviderEnvVars, OAuthTokensNoToolReadsFallBackToIdApiKey) {
  EXPECT_EQ(KeyEnvironmentVariable("openai-codex", true), "OPENAI_CODEX_API_KEY");
  EXPECT_EQ(KeyEnvironmentVariable("github-copilot", true), "GITHUB_COPILOT_API_KEY");
  EXPECT_EQ(KeyEnvironmentVariable("google-antigravity", true), "GOOGLE_ANTIGRAVITY_API_KEY");
  EXPECT_EQ(KeyEnvironmentVariable("my-idp", true), "MY_IDP_API_KEY");
}

// gemini-cli's setupUser() sends GOOGLE_CLOUD_PROJECT to loadCodeAssist
// (packages/core/src/code_assist/setup.ts).
TEST(ProviderEnvVars, GeminiCliTokenBringsItsAuthTypeAndProject) {
  EXPECT_THAT(
      UsageEnvironmentVariables("google-gemini-cli", true, "proj-123"),
      ElementsAre(Pair("GOOGLE_GENAI_USE_GCA", "true"), Pair("GOOGLE_CLOUD_PROJECT", "proj-123")));
  EXPECT_THAT(UsageEnvironmentVariables("google-gemini-cli", true, ""),
              ElementsAre(Pair("GOOGLE_GENAI_USE_GCA", "true")));
  EXPECT_THAT(UsageEnvironmentVariables("google-gemini-cli", false, "proj-123"), IsEmpty());
  EXPECT_THAT(UsageEnvironmentVariables("google-antigravity", true, "proj-123"), IsEmpty());
  EXPECT_THAT(UsageEnvironmentVariables("openai", false, ""), IsEmpty());
}

}  // namespace
}  // namespace operator_auth::cli
