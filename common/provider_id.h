// Provider ids: the one syntax rule every entry point enforces, and the environment variable that
// holds a provider's key. Pure functions, thread-safe.
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace operator_auth {

inline constexpr size_t kMaxProviderIdLength = 64;

// OK when `id` matches ^[a-z0-9][a-z0-9._-]{0,63}$; otherwise INVALID_ARGUMENT naming `what`
// ("provider id", "account name") and the rule.
absl::Status ValidateIdSyntax(absl::string_view id, absl::string_view what);

// OK when `id` matches ^[a-z0-9][a-z0-9._-]{0,63}$; otherwise INVALID_ARGUMENT naming the rule.
absl::Status ValidateProviderId(absl::string_view id);

// "{ID}_API_KEY": upper-cased, with '-' and '.' turned into '_' ("openai-codex" ->
// "OPENAI_CODEX_API_KEY"). `id` must be valid.
std::string ApiKeyEnvVarName(absl::string_view id);

}  // namespace operator_auth
