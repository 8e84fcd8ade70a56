// Parsing and printing the text of a credentials file (providers.json, channels.json): a JSON
// object, size- and depth-limited. Errors name the position, never the content (it holds
// secrets). Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace operator_auth {

// A credentials file larger than this is refused at load rather than parsed.
inline constexpr size_t kMaxCredentialsFileBytes = 16 * 1024 * 1024;
// Deeper nesting than this is refused: no credentials file needs it, and printing is recursive.
inline constexpr int kMaxJsonDepth = 64;

// The top-level object of `text`, with its key order kept. INVALID_ARGUMENT when the text is
// empty, too large, not JSON, not UTF-8, too deep, or not an object.
absl::StatusOr<nlohmann::ordered_json> ParseJsonObjectText(absl::string_view text);

// Pretty-printed with a trailing newline.
std::string PrintJsonText(const nlohmann::ordered_json& root);

}  // namespace operator_auth
