#include "daemon/oauth/openai_device_login.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "daemon/oauth/oauth_client.h"
#include "daemon/oauth/token_reply.h"

namespace operator_auth {
namespace {

using Json = nlohmann::json;

constexpr absl::string_view kUserCodePath = "/api/accounts/deviceauth/usercode";
constexpr size_t kMaxCodeBytes = 256;

HttpRequest JsonPost(const std::string& url, const Json& body) {
  HttpRequest request;
  request.url = url;
  request.headers = {{"Accept", "application/json"}, {"Content-Type", "application/json"}};
  request.body = body.dump();
  return request;
}

}  // namespace

absl::StatusOr<std::string> OpenAIIssuerOf(const std::string& usercode_url) {
  absl::string_view issuer = usercode_url;
  if (!absl::ConsumeSuffix(&issuer, kUserCodePath) || issuer.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the device authorization URL must end in ", kUserCodePath));
  }
  return std::string(issuer);
}

absl::StatusOr<OpenAIDeviceCode> StartOpenAIDeviceLogin(const std::string& usercode_url,
                                                        const std::string& client_id,
                                                        const OpenAISender& send) {
  absl::StatusOr<std::string> issuer = OpenAIIssuerOf(usercode_url);
  if (!issuer.ok()) return issuer.status();
  const std::string what = "starting the OpenAI device login";
  absl::StatusOr<HttpResponse> response =
      send(JsonPost(usercode_url, {{"client_id", client_id}}), what);
  if (!response.ok()) return response.status();
  if (response->status == 404) {
    return absl::FailedPreconditionError(
        "the OpenAI server does not offer device-code login; log in in a browser instead");
  }
  absl::StatusOr<Json> body = ParseJsonReply(*response, what);
  if (!body.ok()) return body.status();
  OpenAIDeviceCode code;
  code.device_auth_id = JsonString(*body, "device_auth_id");
  code.user_code = JsonString(*body, "user_code");
  if (code.user_code.empty()) code.user_code = JsonString(*body, "usercode");
  if (code.device_auth_id.empty() || code.user_code.empty() ||
      code.device_auth_id.size() > kMaxCodeBytes || code.user_code.size() > kMaxCodeBytes) {
    return absl::UnavailableError(
        absl::StrCat(what, " failed: the reply lacks device_auth_id or user_code"));
  }
  // codex-rs reads a string; an older server sent a number. Missing or unreadable: 5 s.
  if (std::optional<int64_t> s = WholeSeconds(*body, "interval")) {
    code.interval = absl::Seconds(ClampSeconds(*s, kMinPollIntervalS, kMaxPollIntervalS));
  }
  code.verification_uri = *issuer + "/codex/device";
  return code;
}

absl::StatusOr<std::optional<OpenAIDeviceGrant>> PollOpenAIDeviceLogin(
    const std::string& usercode_url, const OpenAIDeviceCode& code, const OpenAISender& send) {
  absl::StatusOr<std::string> issuer = OpenAIIssuerOf(usercode_url);
  if (!issuer.ok()) return issuer.status();
  const std::string what = "completing the OpenAI device login";
  absl::StatusOr<HttpResponse> response = send(
      JsonPost(*issuer + "/api/accounts/deviceauth/token",
               {{"device_auth_id", code.device_auth_id}, {"user_code", code.user_code}}),
      what);
  if (!response.ok()) return response.status();
  // codex-rs: 403 and 404 mean "not approved yet"; it never reads their body.
  if (response->status == 403 || response->status == 404) return std::nullopt;
  absl::StatusOr<Json> body = ParseJsonReply(*response, what);
  if (!body.ok()) return body.status();
  OpenAIDeviceGrant grant;
  grant.authorization_code = JsonString(*body, "authorization_code");
  grant.code_verifier = JsonString(*body, "code_verifier");
  grant.redirect_uri = *issuer + "/deviceauth/callback";
  if (grant.authorization_code.empty() || grant.code_verifier.empty()) {
    return absl::UnavailableError(
        absl::StrCat(what, " failed: the reply lacks authorization_code or code_verifier"));
  }
  return std::optional<OpenAIDeviceGrant>(std::move(grant));
}

}  // namespace operator_auth
