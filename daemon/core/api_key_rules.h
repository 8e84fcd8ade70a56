// The rules a secret (an API key, a bot token, a password) must satisfy before the daemon stores
// or serves it.
// Messages name the rule and never echo the key. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace operator_auth {

inline constexpr size_t kMaxApiKeyBytes = 8 * 1024;

// OK when `value` is non-empty, at most kMaxApiKeyBytes, valid UTF-8, and free of control
// characters; otherwise INVALID_ARGUMENT naming `what` ("API key", "telegram bot_token") and the
// rule that failed, never the value.
absl::Status ValidateSecretValue(absl::string_view value, absl::string_view what);

// ValidateSecretValue(key, "API key").
absl::Status ValidateApiKey(absl::string_view key);

}  // namespace operator_auth
