// How operatorctl shows the daemon's answers: aligned text for people, JSON (--json) for scripts.
// Nothing here renders a secret except ApiKeyToJson, which exists for `auth token --json`.
// Pure functions over their arguments; thread-safe.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/string_view.h"
#include "operator_auth/auth_client.h"
#include "operator_auth/v1/auth.pb.h"

namespace operator_auth::cli {

// One phrase for the table: "configured (stored)", "configured (env OPENAI_API_KEY)",
// "configured (runtime)", "not configured", ...
std::string StatusSummary(const v1::AuthStatus& status);

// `s` padded with spaces to `width` columns (bytes), for aligned tables.
std::string Padded(absl::string_view s, size_t width);

// "2025-01-31T12:00:00Z"; `unix_ms` must be non-zero to mean anything.
std::string FormatUnixMillisUtc(int64_t unix_ms);

// Every provider, in an "OAuth providers" and an "API-key providers" section, with columns id,
// display name and StatusSummary aligned across both sections.
void PrintProviderTable(const v1::ListProvidersResponse& providers, std::ostream& out);

// One provider, one field per line.
void PrintStatusDetail(const v1::AuthStatus& status, std::ostream& out);

// The --json shapes: {"providers": [...]}, the status object, and the token object.
nlohmann::ordered_json ProvidersToJson(const v1::ListProvidersResponse& providers);
nlohmann::ordered_json StatusToJson(const v1::AuthStatus& status);
nlohmann::ordered_json ApiKeyToJson(absl::string_view provider, const ApiKey& key);

// Pretty-printed, newline-terminated. Bytes that are not UTF-8 (a hand-edited providers.json can
// hold anything) become U+FFFD instead of aborting the output.
void PrintJson(const nlohmann::ordered_json& value, std::ostream& out);

}  // namespace operator_auth::cli
