#include "daemon/oauth/token_reply.h"

#include "absl/strings/str_cat.h"

namespace operator_auth {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxDescription = 200;

std::string StringField(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

absl::Status Classify(const HttpResponse& response, const Json& body, absl::string_view what) {
  std::string error = body.is_object() ? StringField(body, "error") : "";
  std::string description = body.is_object() ? StringField(body, "error_description") : "";
  if (description.size() > kMaxDescription) description.resize(kMaxDescription);
  if (error == "authorization_pending" || error == "slow_down") {
    return absl::FailedPreconditionError(error);
  }
  std::string detail = absl::StrCat("HTTP ", response.status);
  if (!error.empty()) absl::StrAppend(&detail, " ", error);
  if (!description.empty()) absl::StrAppend(&detail, ": ", description);
  if (error == "invalid_grant" || response.status == 400 || response.status == 401 ||
      response.status == 403) {
    return absl::UnauthenticatedError(
        absl::StrCat(what, " was refused (", detail, "); a new login is needed"));
  }
  return absl::UnavailableError(absl::StrCat(what, " failed (", detail, ")"));
}

}  // namespace

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
  reply.access_token = StringField(*body, "access_token");
  reply.refresh_token = StringField(*body, "refresh_token");
  reply.id_token = StringField(*body, "id_token");
  if (reply.access_token.empty()) {
    // A 200 without a token is as good as garbage; some providers put errors in 200s.
    if (!StringField(*body, "error").empty()) return Classify(response, *body, what);
    return absl::UnavailableError(absl::StrCat(what, " failed: the reply has no access_token"));
  }
  auto expires = body->find("expires_in");
  if (expires != body->end()) {
    if (expires->is_number()) {
      reply.expires_in_s = expires->get<int64_t>();
    } else if (expires->is_string()) {
      try {
        reply.expires_in_s = std::stoll(expires->get<std::string>());
      } catch (...) {
        return absl::UnavailableError(absl::StrCat(what, " failed: expires_in is not a number"));
      }
    }
  }
  reply.body = *std::move(body);
  return reply;
}

}  // namespace operator_auth
