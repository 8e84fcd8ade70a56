// Reading a token endpoint's reply (RFC 6749 5.1 / 5.2) and classifying its failures the way
// the RefreshCoordinator needs them:
//   UNAUTHENTICATED      the grant is dead (invalid_grant, or a provider's documented
//                        equivalent): log in again;
//   FAILED_PRECONDITION  a device-flow poll that should continue: authorization_pending /
//                        slow_down (the message is the error code itself);
//   UNAVAILABLE          any other refusal (5xx, 429, a proxy's 403 page, invalid_client), or a
//                        reply that cannot be read: transient.
// Messages quote the provider's error code and description reduced to printable ASCII, never a
// token or a body. Numbers are clamped: expires_in to [kMinTokenLifetimeS, kMaxTokenLifetimeS].
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/oauth/http_client.h"

namespace operator_auth {

// A provider's expires_in outside these bounds (negative, zero, centuries) is clamped to them, so
// that a bad number neither makes every request refresh again nor keeps a dead token forever.
inline constexpr int64_t kMinTokenLifetimeS = 60;
inline constexpr int64_t kMaxTokenLifetimeS = 366LL * 24 * 3600;

// `value` clamped to [lo, hi].
int64_t ClampSeconds(int64_t value, int64_t lo, int64_t hi);

struct TokenReply {
  std::string access_token;
  std::string refresh_token;  // empty when the provider did not send a new one
  std::string id_token;
  std::optional<int64_t> expires_in_s;
  nlohmann::json body;  // the whole JSON reply, for dialect-specific fields
};

// `what` names the request in messages, e.g. "refreshing the openai-codex token".
absl::StatusOr<TokenReply> ParseTokenReply(const HttpResponse& response, absl::string_view what);

// The string at `object[key]`; empty when it is absent or not a string, or `object` is not an
// object. How every reply field a provider may leave out is read.
std::string JsonString(const nlohmann::json& object, const char* key);

// Parses a JSON object reply of any 2xx request (device authorization, Copilot token); other
// statuses are classified as above.
absl::StatusOr<nlohmann::json> ParseJsonReply(const HttpResponse& response, absl::string_view what);

}  // namespace operator_auth
