#include "daemon/oauth/token_reply.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "daemon/oauth/printable_text.h"

namespace operator_auth {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxErrorCode = 64;
constexpr size_t kMaxDescription = 200;

// The OAuth error code and description of a reply. RFC 6749 5.2 puts them in "error" and
// "error_description"; OpenAI's token endpoint may instead answer {"error": {"code": ...,
// "message": ...}}.
void ErrorOf(const Json& body, std::string& error, std::string& description) {
  if (!body.is_object()) return;
  auto it = body.find("error");
  if (it != body.end() && it->is_object()) {
    error = JsonString(*it, "code");
    description = JsonString(*it, "message");
  } else {
    error = JsonString(body, "error");
  }
  if (description.empty()) description = JsonString(body, "error_description");
}

// The error codes that say the grant itself is dead, so that only a new login helps:
// RFC 6749 5.2's invalid_grant, and OpenAI's equivalents, which codex-rs treats as permanent
// (openai/codex codex-rs/login/src/auth/manager.rs: refresh_token_expired, refresh_token_reused,
// refresh_token_invalidated). Any other refusal (a proxy's 403 page, invalid_client from a
// misconfigured client id, a 401 without an OAuth error) backs off instead.
bool IsDeadGrant(absl::string_view error) {
  return error == "invalid_grant" || error == "refresh_token_expired" ||
         error == "refresh_token_reused" || error == "refresh_token_invalidated";
}

absl::Status Classify(const HttpResponse& response, const Json& body, absl::string_view what) {
  std::string raw_error;
  std::string raw_description;
  ErrorOf(body, raw_error, raw_description);
  if (raw_error == "authorization_pending" || raw_error == "slow_down") {
    return absl::FailedPreconditionError(raw_error);
  }
  const std::string error = PrintableErrorText(raw_error, kMaxErrorCode);
  const std::string description = PrintableErrorText(raw_description, kMaxDescription);
  std::string detail = absl::StrCat("HTTP ", response.status);
  if (!error.empty()) absl::StrAppend(&detail, " ", error);
  if (!description.empty()) absl::StrAppend(&detail, ": ", description);
  if (IsDeadGrant(raw_error)) {
    return absl::UnauthenticatedError(
        absl::StrCat(what, " was refused (", detail, "); a new login is needed"));
  }
  return absl::UnavailableError(absl::StrCat(what, " failed (", detail, ")"));
}

}  // namespace

std::string JsonString(const Json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t ClampSeconds(int64_t value, int64_t lo, int64_t hi) {
  return std::min(std::max(value, lo), hi);
}

absl::StatusOr<Json> ParseJsonReply(const HttpResponse& response, absl::string_view what) {
  Json body = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (response.status < 200 || response.status >= 300) {
    return Classify(response, body, what);
  }
  if (body.is_discarded() || !body.is_object()) {
    return absl::UnavailableError(absl::StrCat(what, " failed: the reply (HTTP ", response.status,
                                               ", ", response.content_type,
                                               ") is not a JSON object"));
  }
  return body;
}

absl::StatusOr<TokenReply> ParseTokenReply(const HttpResponse& response, absl::string_view what) {
  absl::StatusOr<Json> body = ParseJsonReply(response, what);
  if (!body.ok()) return body.status();
  TokenReply reply;
  reply.access_token = JsonString(*body, "access_token");
  reply.refresh_token = JsonString(*body, "refresh_token");
  reply.id_token = JsonString(*body, "id_token");
  if (reply.access_token.empty()) {
    // A 200 without a token is as good as garbage; some providers put errors in 200s.
    if (body->contains("error")) return Classify(response, *body, what);
    return absl::UnavailableError(absl::StrCat(what, " failed: the reply has no access_token"));
  }
  auto expires = body->find("expires_in");
  if (expires != body->end()) {
    int64_t seconds = 0;
    if (expires->is_number_unsigned()) {
      seconds = static_cast<int64_t>(std::min<uint64_t>(expires->get<uint64_t>(),
                                                         kMaxTokenLifetimeS));
    } else if (expires->is_number_integer()) {
      seconds = expires->get<int64_t>();
    } else if (expires->is_number_float()) {
      // Clamped below; here only kept inside int64_t. NaN counts as nothing (the minimum).
      const double d = expires->get<double>();
      seconds = std::isnan(d) ? 0 : static_cast<int64_t>(std::clamp(d, -1e12, 1e12));
    } else if (!expires->is_string() ||
               !absl::SimpleAtoi(expires->get<std::string>(), &seconds)) {
      return absl::UnavailableError(absl::StrCat(what, " failed: expires_in is not a number"));
    }
    reply.expires_in_s = ClampSeconds(seconds, kMinTokenLifetimeS, kMaxTokenLifetimeS);
  }
  reply.body = *std::move(body);
  return reply;
}

}  // namespace operator_auth
