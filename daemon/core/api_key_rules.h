// The rules an API key must satisfy before the daemon stores or serves it as a runtime key.
// Messages name the rule and never echo the key. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace operator_auth {

inline constexpr size_t kMaxApiKeyBytes = 8 * 1024;

// OK when `key` is non-empty, at most kMaxApiKeyBytes, valid UTF-8, and free of control
// characters; otherwise INVALID_ARGUMENT naming the rule that failed.
absl::Status ValidateApiKey(absl::string_view key);

}  // namespace operator_auth
