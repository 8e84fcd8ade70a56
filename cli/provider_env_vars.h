// Which environment variable `operatorctl exec` puts a provider's key in, and which non-secret
// facts about the key go along with it, so that the tools people run read them unchanged. Pure
// functions of the daemon's answer, thread-safe.
//
// | provider (kind)                      | key variable              | also exported | | API-key
// providers (api_key)          | {ID}_API_KEY              |                              | |
// anthropic-claude-code (oauth)        | CLAUDE_CODE_OAUTH_TOKEN   |                              |
// | google-gemini-cli (oauth)            | GOOGLE_CLOUD_ACCESS_TOKEN | GOOGLE_GENAI_USE_GCA=true, |
// |                                      |                           | GOOGLE_CLOUD_PROJECT | |
// openai-codex (oauth)                 | OPENAI_CODEX_API_KEY (*)  |                              |
// | github-copilot (oauth)               | GITHUB_COPILOT_API_KEY (*)| | | google-antigravity
// (oauth)           | GOOGLE_ANTIGRAVITY_API_KEY (*)                           | | any other OAuth
// provider             | {ID}_API_KEY (*)          |                              |
// (*) no tool reads this token from its environment, so the {ID}_API_KEY rule applies. The
// reasons and the sources are with the table in provider_env_vars.cc.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace operator_auth::cli {

// The variable a key of `provider` (a canonical id, as the daemon names it) goes in;
// `oauth_access_token` as the daemon's usage.kind says (ApiKeyKind::kOAuthAccessToken).
std::string KeyEnvironmentVariable(absl::string_view provider, bool oauth_access_token);

// Non-secret (name, value) pairs the provider's own tool needs beside the key, from the key's
// usage facts (`project_id`: usage.project_id); empty for most providers.
std::vector<std::pair<std::string, std::string>> UsageEnvironmentVariables(
    absl::string_view provider, bool oauth_access_token, absl::string_view project_id);

}  // namespace operator_auth::cli
