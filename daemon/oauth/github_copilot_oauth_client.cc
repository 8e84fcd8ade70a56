#include "daemon/oauth/github_copilot_oauth_client.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/host_name.h"
#include "daemon/oauth/copilot_models.h"

namespace operator_auth {
namespace {

constexpr char kDefaultCopilotApi[] = "https://api.individual.githubcopilot.com";

// The "proxy-ep=" field of a Copilot token ("tid=..;exp=..;proxy-ep=proxy.x.githubcopilot.com;..")
// when it is a plain host name.
std::string ProxyEndpointOf(const std::string& token) {
  for (absl::string_view field : absl::StrSplit(token, ';')) {
    if (!absl::ConsumePrefix(&field, "proxy-ep=")) continue;
    absl::StatusOr<std::string> host = NormalizeHostAndPort(field);
    if (!host.ok() || *host != field) return {};
    return *host;
  }
  return {};
}

}  // namespace

const HeaderList& CopilotEditorHeaders() {
  static const HeaderList* headers = new HeaderList{
      {"User-Agent", "GitHubCopilotChat/0.35.0"},
      {"Editor-Version", "vscode/1.107.0"},
      {"Editor-Plugin-Version", "copilot-chat/0.35.0"},
      {"Copilot-Integration-Id", "vscode-chat"},
  };
  return *headers;
}

std::string CopilotApiBaseUrl(const std::string& copilot_token,
                              const std::string& enterprise_domain, const std::string& override) {
  if (!override.empty()) {
    std::string base = override;
    while (absl::EndsWith(base, "/")) base.pop_back();
    return base;
  }
  std::string proxy = ProxyEndpointOf(copilot_token);
  if (!proxy.empty()) {
    if (absl::StartsWith(proxy, "proxy.")) proxy = "api." + proxy.substr(6);
    return "https://" + proxy;
  }
  if (!enterprise_domain.empty()) return "https://copilot-api." + enterprise_domain;
  return kDefaultCopilotApi;
}

std::string GithubCopilotOAuthClient::DomainOf(const Credential& credential) const {
  const std::string& stored =
      credential.Attribute(kEnterpriseUrlAttribute, kEnterpriseUrlAttributePi);
  if (stored.empty()) return config_.default_domain;
  // pi keeps a bare host; an older writer may have kept a URL. Anything else is not used.
  absl::StatusOr<std::string> host = NormalizeHostAndPort(stored);
  return host.ok() ? *host : config_.default_domain;
}

absl::StatusOr<Credential> GithubCopilotOAuthClient::ExchangeForCopilotToken(Credential with) {
  HttpRequest request;
  request.method = "GET";
  request.url = WithDomain(config_.copilot_token_url, DomainOf(with));
  request.headers = {{"Accept", "application/json"},
                     {"Authorization", "Bearer " + with.refresh.str()}};
  for (const auto& h : CopilotEditorHeaders()) request.headers.push_back(h);
  const std::string what = absl::StrCat("getting a Copilot token for ", config_.id);
  absl::StatusOr<HttpResponse> response = Send(std::move(request), what);
  if (!response.ok()) return response.status();
  if (response->status == 401) {
    // GitHub's API answers 401 "Bad credentials" for a revoked or expired GitHub token: only a
    // new login brings a new one. (A 403 is a subscription or policy answer, or a proxy's page.)
    return absl::UnauthenticatedError(absl::StrCat(
        what,
        " was refused (HTTP 401: GitHub no longer accepts the stored GitHub token); a new "
        "login is needed"));
  }
  absl::StatusOr<nlohmann::json> body = ParseJsonReply(*response, what);
  if (!body.ok()) return body.status();
  auto token = body->find("token");
  std::optional<int64_t> expires_at = WholeSeconds(*body, "expires_at");
  if (token == body->end() || !token->is_string() || !expires_at.has_value()) {
    return absl::UnavailableError(absl::StrCat(what,
                                               " failed: the reply lacks token or "
                                               "expires_at"));
  }
  // Clamped like any lifetime a provider gives (token_reply.h), then the margin pi-mono keeps.
  const int64_t now_s = absl::ToUnixSeconds(clock_());
  const int64_t lifetime_s =
      ClampSeconds(*expires_at - now_s, kMinTokenLifetimeS, kMaxTokenLifetimeS);
  with.type = CredentialType::kOAuth;
  with.type_name = "oauth";
  with.problem.clear();
  with.access = SecretString(token->get<std::string>());
  with.expires_unix_ms =
      (now_s + lifetime_s) * 1000 - std::min(config_.expiry_margin_ms, lifetime_s * 1000 / 2);
  return with;
}

absl::StatusOr<Credential> GithubCopilotOAuthClient::Refresh(const Credential& current) {
  return ExchangeForCopilotToken(current);
}

absl::StatusOr<std::optional<Credential>> GithubCopilotOAuthClient::PollDeviceAuthorization(
    const DeviceAuthorization& device, const LoginOptions& options, absl::Duration& interval) {
  absl::StatusOr<std::optional<Credential>> github =
      OAuthClient::PollDeviceAuthorization(device, options, interval);
  if (!github.ok() || !github->has_value()) return github;
  Credential c = **github;
  c.refresh = c.access;  // the GitHub token is what later refreshes use
  c.access.clear();
  if (!options.enterprise_domain.empty() && options.enterprise_domain != config_.default_domain) {
    c.attributes[kEnterpriseUrlAttribute] = options.enterprise_domain;
  }
  absl::StatusOr<Credential> copilot = ExchangeForCopilotToken(std::move(c));
  if (!copilot.ok()) return copilot.status();
  return std::optional<Credential>(*std::move(copilot));
}

KeyUsage GithubCopilotOAuthClient::UsageFor(const Credential& credential) const {
  KeyUsage usage = OAuthClient::UsageFor(credential);
  const std::string& enterprise =
      credential.Attribute(kEnterpriseUrlAttribute, kEnterpriseUrlAttributePi);
  absl::StatusOr<std::string> host =
      enterprise.empty() ? absl::StatusOr<std::string>("") : NormalizeHostAndPort(enterprise);
  usage.base_url =
      CopilotApiBaseUrl(credential.access.str(), host.ok() ? *host : "", config_.copilot_api_url);
  usage.headers = CopilotEditorHeaders();
  return usage;
}

absl::StatusOr<Credential> GithubCopilotOAuthClient::FinishLogin(Credential credential,
                                                                 std::vector<std::string>& notes) {
  const std::string base_url = UsageFor(credential).base_url;
  absl::StatusOr<CopilotModelPolicies> policies =
      EnableUnconfiguredCopilotModels(base_url, credential.access.str(), CopilotEditorHeaders(),
                                      [this](HttpRequest request, absl::string_view what) {
                                        return Send(std::move(request), what);
                                      });
  if (!policies.ok()) {
    notes.push_back(absl::StrCat("Could not enable Copilot models: ", policies.status().message()));
    return credential;
  }
  if (!policies->enabled.empty()) {
    notes.push_back(absl::StrCat("Enabled ", policies->enabled.size(),
                                 " Copilot model(s): ", absl::StrJoin(policies->enabled, ", ")));
  } else {
    notes.push_back(
        absl::StrCat("All ", policies->listed, " Copilot models were already configured"));
  }
  if (!policies->failed.empty()) {
    notes.push_back(
        absl::StrCat("Could not enable Copilot model(s): ", absl::StrJoin(policies->failed, ", ")));
  }
  return credential;
}

}  // namespace operator_auth
