#include "daemon/oauth/jwt_claims.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/oauth/pkce.h"

namespace operator_auth {
namespace {

// Provider tokens are a few kilobytes; anything far larger is not one of them.
constexpr size_t kMaxJwtBytes = 64 * 1024;

}  // namespace

absl::StatusOr<nlohmann::json> DecodeJwtClaims(absl::string_view jwt) {
  if (jwt.size() > kMaxJwtBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWT is ", jwt.size(), " bytes; the limit is ", kMaxJwtBytes));
  }
  const std::vector<absl::string_view> segments = absl::StrSplit(jwt, '.');
  if (segments.size() != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWT must have 3 dot-separated segments, this one has ", segments.size()));
  }
  if (segments[0].empty() || segments[1].empty()) {
    return absl::InvalidArgumentError("JWT has an empty header or payload segment");
  }
  // The decoder's own message is safe, but replacing it keeps this function's promise local.
  absl::StatusOr<std::string> payload = Base64UrlDecode(segments[1]);
  if (!payload.ok()) return absl::InvalidArgumentError("JWT payload is not valid base64url");
  // Without exceptions: a parse_error's message quotes the bytes around the fault.
  nlohmann::json claims = nlohmann::json::parse(*payload, /*cb=*/nullptr,
                                                /*allow_exceptions=*/false);
  if (claims.is_discarded()) return absl::InvalidArgumentError("JWT payload is not valid JSON");
  if (!claims.is_object()) return absl::InvalidArgumentError("JWT payload is not a JSON object");
  return claims;
}

}  // namespace operator_auth
