#include "daemon/oauth/openai_codex_oauth_client.h"

#include "absl/strings/str_cat.h"
#include "daemon/oauth/jwt_claims.h"
#include "daemon/oauth/openai_device_login.h"

namespace operator_auth {
namespace {

// Where Codex sends its requests with a ChatGPT token (codex-rs codex-rs/login/src/auth/
// manager.rs DEFAULT_CHATGPT_BACKEND_BASE_URL, plus the /codex path pi-mono's
// openai-codex-responses.ts appends).
constexpr char kCodexBaseUrl[] = "https://chatgpt.com/backend-api/codex";

}  // namespace

absl::Status OpenAICodexOAuthClient::Revoke(const Credential& current) {
  if (config_.revocation_url.empty()) return absl::OkStatus();
  const bool refresh = !current.refresh.empty();
  nlohmann::json body = {{"token", refresh ? current.refresh.str() : current.access.str()},
                         {"token_type_hint", refresh ? "refresh_token" : "access_token"}};
  if (refresh) body["client_id"] = config_.client_id;
  HttpRequest request;
  request.url = config_.revocation_url;
  request.headers = {{"Content-Type", "application/json"}};
  request.body = body.dump();
  const std::string what = absl::StrCat("revoking the ", config_.id, " token");
  absl::StatusOr<HttpResponse> response = Send(std::move(request), what);
  if (!response.ok()) return response.status();
  if (response->status < 200 || response->status >= 300) {
    return absl::UnavailableError(absl::StrCat(what, " failed (HTTP ", response->status, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> OpenAICodexOAuthClient::UsesDeviceFlow(const LoginOptions& options) const {
  if (options.device && config_.device_authorization_url.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(config_.id, " has no device_authorization_url configured"));
  }
  return options.device;
}

absl::StatusOr<DeviceAuthorization> OpenAICodexOAuthClient::StartDeviceAuthorization(
    const LoginOptions&) {
  absl::StatusOr<OpenAIDeviceCode> code =
      StartOpenAIDeviceLogin(config_.device_authorization_url, config_.client_id,
                             [this](HttpRequest request, absl::string_view what) {
                               return Send(std::move(request), what);
                             });
  if (!code.ok()) return code.status();
  DeviceAuthorization device;
  device.device_code = code->device_auth_id;
  device.user_code = code->user_code;
  device.verification_uri = code->verification_uri;
  device.expires_in = kOpenAIDeviceCodeLifetime;
  device.interval = code->interval;
  return device;
}

absl::StatusOr<std::optional<Credential>> OpenAICodexOAuthClient::PollDeviceAuthorization(
    const DeviceAuthorization& device, const LoginOptions&, absl::Duration&) {
  OpenAIDeviceCode code;
  code.device_auth_id = device.device_code;
  code.user_code = device.user_code;
  absl::StatusOr<std::optional<OpenAIDeviceGrant>> grant = PollOpenAIDeviceLogin(
      config_.device_authorization_url, code, [this](HttpRequest request, absl::string_view what) {
        return Send(std::move(request), what);
      });
  if (!grant.ok()) return grant.status();
  if (!grant->has_value()) return std::optional<Credential>();
  absl::StatusOr<Credential> credential = ExchangeCodeFor(
      (*grant)->authorization_code, (*grant)->code_verifier, (*grant)->redirect_uri);
  if (!credential.ok()) return credential.status();
  return std::optional<Credential>(*std::move(credential));
}

KeyUsage OpenAICodexOAuthClient::UsageFor(const Credential& credential) const {
  KeyUsage usage = OAuthClient::UsageFor(credential);
  usage.base_url = kCodexBaseUrl;
  // codex-rs sends ChatGPT-Account-ID (model-provider/src/bearer_auth_provider.rs) and
  // originator (core/src/default_client.rs); pi-mono adds OpenAI-Beta: responses=experimental.
  if (!credential.account_id.empty()) {
    usage.headers.emplace_back("chatgpt-account-id", credential.account_id);
  }
  usage.headers.emplace_back("OpenAI-Beta", "responses=experimental");
  usage.headers.emplace_back("originator", "codex_cli_rs");
  return usage;
}

absl::StatusOr<Credential> OpenAICodexOAuthClient::CredentialFromReply(const TokenReply& reply,
                                                                       const Credential* previous) {
  absl::StatusOr<Credential> c = OAuthClient::CredentialFromReply(reply, previous);
  if (!c.ok()) return c.status();
  absl::StatusOr<nlohmann::json> claims = DecodeJwtClaims(reply.access_token);
  if (claims.ok()) {
    auto auth = claims->find("https://api.openai.com/auth");
    if (auth != claims->end() && auth->is_object()) {
      auto id = auth->find("chatgpt_account_id");
      if (id != auth->end() && id->is_string() && !id->get<std::string>().empty()) {
        c->account_id = id->get<std::string>();
      }
    }
  }
  if (c->account_id.empty()) {
    // Codex requests need the account id; a token without one is of no use to agents.
    return absl::UnavailableError(
        absl::StrCat("the ", config_.id, " access token carries no chatgpt_account_id claim"));
  }
  return c;
}

}  // namespace operator_auth
