#include "daemon/oauth/github_copilot_oauth_client.h"

#include "absl/strings/str_cat.h"

namespace operator_auth {

absl::StatusOr<Credential> GithubCopilotOAuthClient::ExchangeForCopilotToken(Credential with) {
  auto domain_it = with.attributes.find(kEnterpriseUrlAttribute);
  const std::string domain =
      domain_it == with.attributes.end() ? config_.default_domain : domain_it->second;
  HttpRequest request;
  request.method = "GET";
  request.url = WithDomain(config_.copilot_token_url, domain);
  // The headers GitHub's own Copilot clients send; the endpoint expects an editor identity.
  request.headers = {{"Accept", "application/json"},
                     {"Authorization", "Bearer " + with.refresh},
                     {"User-Agent", "GitHubCopilotChat/0.35.0"},
                     {"Editor-Version", "vscode/1.107.0"},
                     {"Editor-Plugin-Version", "copilot-chat/0.35.0"},
                     {"Copilot-Integration-Id", "vscode-chat"}};
  const std::string what = absl::StrCat("getting a Copilot token for ", config_.id);
  absl::StatusOr<HttpResponse> response = Send(std::move(request), what);
  if (!response.ok()) return response.status();
  absl::StatusOr<nlohmann::json> body = ParseJsonReply(*response, what);
  if (!body.ok()) return body.status();
  auto token = body->find("token");
  auto expires_at = body->find("expires_at");
  if (token == body->end() || !token->is_string() || expires_at == body->end() ||
      !expires_at->is_number()) {
    return absl::UnavailableError(absl::StrCat(what,
                                               " failed: the reply lacks token or "
                                               "expires_at"));
  }
  with.type = CredentialType::kOAuth;
  with.type_name = "oauth";
  with.access = token->get<std::string>();
  with.expires_unix_ms = expires_at->get<int64_t>() * 1000 - config_.expiry_margin_ms;
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

}  // namespace operator_auth
