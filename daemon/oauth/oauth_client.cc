#include "daemon/oauth/oauth_client.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace operator_auth {

std::optional<int64_t> WholeSeconds(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  if (it->is_number_unsigned()) {
    return static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), INT32_MAX));
  }
  if (it->is_number_integer()) return std::max<int64_t>(it->get<int64_t>(), INT32_MIN);
  if (it->is_number_float()) {
    const double d = it->get<double>();
    if (std::isfinite(d)) return static_cast<int64_t>(std::min(std::max(d, -1e9), 1e9));
    return std::nullopt;
  }
  int64_t parsed = 0;
  if (it->is_string() && absl::SimpleAtoi(it->get<std::string>(), &parsed)) return parsed;
  return std::nullopt;
}

OAuthClient::OAuthClient(OAuthProviderConfig config, HttpClient& http, Clock clock)
    : config_(std::move(config)),
      http_(http),
      clock_(clock ? std::move(clock) : Clock([] { return absl::Now(); })) {}

HttpFields OAuthClient::ClientFields() const {
  HttpFields fields = {{"client_id", config_.client_id}};
  if (!config_.client_secret.empty()) fields.emplace_back("client_secret", config_.client_secret);
  return fields;
}

int64_t OAuthClient::ExpiresAt(std::optional<int64_t> expires_in_s) const {
  if (!expires_in_s.has_value()) return 0;  // the provider did not say: treat as not expiring
  // ParseTokenReply clamped the lifetime; a margin longer than half of it would leave a token
  // that is born expired.
  const int64_t lifetime_ms =
      ClampSeconds(*expires_in_s, kMinTokenLifetimeS, kMaxTokenLifetimeS) * 1000;
  return absl::ToUnixMillis(clock_()) + lifetime_ms -
         std::min(config_.expiry_margin_ms, lifetime_ms / 2);
}

absl::StatusOr<bool> OAuthClient::UsesDeviceFlow(const LoginOptions& options) const {
  if (config_.flow == OAuthFlow::kDeviceCode) return true;
  if (options.device) {
    return absl::InvalidArgumentError(
        absl::StrCat(config_.id, " has no device-code login; log in without --device"));
  }
  return false;
}

absl::StatusOr<Credential> OAuthClient::FinishLogin(Credential credential,
                                                    std::vector<std::string>&) {
  return credential;
}

KeyUsage OAuthClient::UsageFor(const Credential& credential) const {
  KeyUsage usage;
  usage.kind = KeyKind::kOAuthAccessToken;
  usage.account_id = credential.account_id;
  return usage;
}

bool OAuthClient::NeedsCompletion(const Credential&) const { return false; }

absl::StatusOr<std::map<std::string, std::string>> OAuthClient::Complete(const Credential&) {
  return std::map<std::string, std::string>();
}

absl::StatusOr<HttpResponse> OAuthClient::Send(HttpRequest request, absl::string_view what) {
  request.timeout = absl::Milliseconds(config_.request_timeout_ms);
  request.connect_timeout = absl::Milliseconds(config_.connect_timeout_ms);
  if (!config_.user_agent.empty()) {
    bool has_user_agent = false;
    for (auto& [name, value] : request.headers) {
      if (absl::EqualsIgnoreCase(name, "User-Agent")) {
        value = config_.user_agent;
        has_user_agent = true;
      }
    }
    if (!has_user_agent) request.headers.emplace_back("User-Agent", config_.user_agent);
  }
  absl::StatusOr<HttpResponse> response = http_.Send(request);
  if (!response.ok()) {
    return absl::Status(response.status().code(),
                        absl::StrCat(what, " failed: ", response.status().message()));
  }
  return response;
}

absl::StatusOr<TokenReply> OAuthClient::PostTokenRequest(const std::string& url,
                                                         const HttpFields& fields,
                                                         absl::string_view what) {
  HttpRequest request;
  request.url = url;
  request.headers = {{"Accept", "application/json"}};
  if (config_.token_request_format == TokenRequestFormat::kJson) {
    nlohmann::json body = nlohmann::json::object();
    for (const auto& [k, v] : fields) body[k] = v;
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body.dump();
  } else {
    request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    request.body = FormEncode(fields);
  }
  absl::StatusOr<HttpResponse> response = Send(std::move(request), what);
  if (!response.ok()) return response.status();
  return ParseTokenReply(*response, what);
}

absl::StatusOr<Credential> OAuthClient::CredentialFromReply(const TokenReply& reply,
                                                            const Credential* previous) {
  Credential c;
  if (previous != nullptr) c = *previous;
  c.type = CredentialType::kOAuth;
  c.type_name = "oauth";
  c.problem.clear();
  c.access = SecretString(reply.access_token);
  if (!reply.refresh_token.empty()) c.refresh = SecretString(reply.refresh_token);  // rotated
  c.expires_unix_ms = ExpiresAt(reply.expires_in_s);
  return c;
}

absl::StatusOr<Credential> OAuthClient::Refresh(const Credential& current) {
  const std::string what = absl::StrCat("refreshing the ", config_.id, " token");
  HttpFields fields = {{"grant_type", "refresh_token"}, {"refresh_token", current.refresh.str()}};
  for (auto& f : ClientFields()) fields.push_back(std::move(f));
  absl::StatusOr<TokenReply> reply = PostTokenRequest(config_.token_url, fields, what);
  if (!reply.ok()) return reply.status();
  return CredentialFromReply(*reply, &current);
}

absl::Status OAuthClient::Revoke(const Credential& current) {
  if (config_.revocation_url.empty()) return absl::OkStatus();
  const bool refresh = !current.refresh.empty();
  HttpFields fields = {{"token", refresh ? current.refresh.str() : current.access.str()},
                       {"token_type_hint", refresh ? "refresh_token" : "access_token"}};
  for (auto& f : ClientFields()) fields.push_back(std::move(f));
  HttpRequest request;
  request.url = config_.revocation_url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = FormEncode(fields);
  const std::string what = absl::StrCat("revoking the ", config_.id, " token");
  absl::StatusOr<HttpResponse> response = Send(std::move(request), what);
  if (!response.ok()) return response.status();
  // RFC 7009 2.2: 200 whether or not the token was valid.
  if (response->status != 200) {
    return absl::UnavailableError(absl::StrCat(what, " failed (HTTP ", response->status, ")"));
  }
  return absl::OkStatus();
}

std::string OAuthClient::AuthorizeUrl(const std::string& code_challenge,
                                      const std::string& state) const {
  HttpFields query = {{"response_type", "code"},
                      {"client_id", config_.client_id},
                      {"redirect_uri", config_.redirect_uri},
                      {"scope", absl::StrJoin(config_.scopes, " ")},
                      {"code_challenge", code_challenge},
                      {"code_challenge_method", "S256"},
                      {"state", state}};
  for (const auto& p : config_.extra_authorize_params) query.push_back(p);
  const char separator = config_.authorize_url.find('?') == std::string::npos ? '?' : '&';
  return absl::StrCat(config_.authorize_url, std::string(1, separator), FormEncode(query));
}

absl::StatusOr<Credential> OAuthClient::ExchangeCode(const std::string& code,
                                                     const std::string& code_verifier,
                                                     const std::string&) {
  return ExchangeCodeFor(code, code_verifier, config_.redirect_uri);
}

absl::StatusOr<Credential> OAuthClient::ExchangeCodeFor(const std::string& code,
                                                        const std::string& code_verifier,
                                                        const std::string& redirect_uri) {
  HttpFields fields = {{"grant_type", "authorization_code"},
                       {"code", code},
                       {"redirect_uri", redirect_uri},
                       {"code_verifier", code_verifier}};
  for (auto& f : ClientFields()) fields.push_back(std::move(f));
  absl::StatusOr<TokenReply> reply = PostTokenRequest(
      config_.token_url, fields, absl::StrCat("exchanging the ", config_.id, " login code"));
  if (!reply.ok()) return reply.status();
  return CredentialFromReply(*reply, nullptr);
}

absl::StatusOr<DeviceAuthorization> OAuthClient::StartDeviceAuthorization(
    const LoginOptions& options) {
  const std::string domain =
      options.enterprise_domain.empty() ? config_.default_domain : options.enterprise_domain;
  HttpFields fields = ClientFields();
  fields.emplace_back("scope", absl::StrJoin(config_.scopes, " "));
  HttpRequest request;
  request.url = WithDomain(config_.device_authorization_url, domain);
  request.headers = {{"Accept", "application/json"},
                     {"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = FormEncode(fields);
  const std::string what = absl::StrCat("starting the ", config_.id, " device login");
  absl::StatusOr<HttpResponse> response = Send(std::move(request), what);
  if (!response.ok()) return response.status();
  absl::StatusOr<nlohmann::json> body = ParseJsonReply(*response, what);
  if (!body.ok()) return body.status();
  DeviceAuthorization device;
  device.device_code = JsonString(*body, "device_code");
  device.user_code = JsonString(*body, "user_code");
  device.verification_uri = JsonString(*body, "verification_uri");
  device.verification_uri_complete = JsonString(*body, "verification_uri_complete");
  if (device.device_code.empty() || device.user_code.empty() || device.verification_uri.empty()) {
    return absl::UnavailableError(absl::StrCat(what,
                                               " failed: the reply lacks device_code, "
                                               "user_code or verification_uri"));
  }
  // RFC 8628 3.2: expires_in is required, interval defaults to 5 s. Clamped, so that a bad
  // number neither polls in a tight loop nor waits for hours.
  if (std::optional<int64_t> s = WholeSeconds(*body, "expires_in")) {
    device.expires_in =
        absl::Seconds(ClampSeconds(*s, kMinDeviceCodeLifetimeS, kMaxDeviceCodeLifetimeS));
  }
  if (std::optional<int64_t> s = WholeSeconds(*body, "interval")) {
    device.interval = absl::Seconds(ClampSeconds(*s, kMinPollIntervalS, kMaxPollIntervalS));
  }
  return device;
}

absl::StatusOr<std::optional<Credential>> OAuthClient::PollDeviceAuthorization(
    const DeviceAuthorization& device, const LoginOptions& options, absl::Duration& interval) {
  const std::string domain =
      options.enterprise_domain.empty() ? config_.default_domain : options.enterprise_domain;
  HttpFields fields = {{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
                       {"device_code", device.device_code}};
  for (auto& f : ClientFields()) fields.push_back(std::move(f));
  absl::StatusOr<TokenReply> reply =
      PostTokenRequest(WithDomain(config_.token_url, domain), fields,
                       absl::StrCat("completing the ", config_.id, " device login"));
  if (!reply.ok()) {
    if (absl::IsFailedPrecondition(reply.status())) {
      if (reply.status().message() == "slow_down") interval += absl::Seconds(5);
      return std::nullopt;
    }
    return reply.status();
  }
  absl::StatusOr<Credential> credential = CredentialFromReply(*reply, nullptr);
  if (!credential.ok()) return credential.status();
  return std::optional<Credential>(*std::move(credential));
}

}  // namespace operator_auth
