#include "daemon/oauth/google_code_assist_oauth_client.h"

#include "absl/strings/str_cat.h"
#include "daemon/core/env_lookup.h"
#include "daemon/oauth/code_assist_project.h"

namespace operator_auth {
namespace {

// The client metadata pi-mono sends as a header with every Code Assist request
// (packages/ai/src/providers/google-gemini-cli.ts); gemini-cli sends the same fields in its
// request bodies (packages/core/src/code_assist/setup.ts).
constexpr char kClientMetadata[] =
    R"({"ideType":"IDE_UNSPECIFIED","platform":"PLATFORM_UNSPECIFIED","pluginType":"GEMINI"})";

}  // namespace

std::string GoogleCodeAssistOAuthClient::UserProject() const {
  for (const char* name : {"GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_PROJECT_ID"}) {
    if (std::optional<std::string> value = ProcessEnv(name)) return *value;
  }
  return config_.project_id;
}

absl::StatusOr<std::string> GoogleCodeAssistOAuthClient::DiscoverProject(
    const std::string& access_token) {
  CodeAssistQuery query;
  query.endpoint = config_.code_assist_url;
  query.user_project = UserProject();
  query.headers = {{"Client-Metadata", kClientMetadata}};
  query.poll_interval = absl::Milliseconds(config_.code_assist_poll_interval_ms);
  return DiscoverCodeAssistProject(access_token, query,
                                   [this](HttpRequest request, absl::string_view what) {
                                     return Send(std::move(request), what);
                                   });
}

absl::StatusOr<Credential> GoogleCodeAssistOAuthClient::FinishLogin(
    Credential credential, std::vector<std::string>& notes) {
  absl::StatusOr<std::string> project = DiscoverProject(credential.access.str());
  if (project.ok()) {
    credential.attributes[kProjectIdAttribute] = *project;
    notes.push_back(absl::StrCat("Google Code Assist project: ", *project));
  } else {
    // The login itself worked: keep it, say what is missing; the daemon asks again on first use.
    notes.push_back(
        absl::StrCat("No Google Code Assist project yet: ", project.status().message()));
  }
  return credential;
}

std::string GoogleCodeAssistOAuthClient::TermsNotice() const {
  return "Note: Google's Gemini CLI terms say that using its OAuth client from other tools may "
         "get the account suspended; you log in at your own risk.";
}

KeyUsage GoogleCodeAssistOAuthClient::UsageFor(const Credential& credential) const {
  KeyUsage usage = OAuthClient::UsageFor(credential);
  usage.project_id = credential.Attribute(kProjectIdAttribute, kProjectIdAttributePi);
  usage.base_url = config_.code_assist_url;
  usage.headers = {{"Client-Metadata", kClientMetadata}};
  return usage;
}

bool GoogleCodeAssistOAuthClient::NeedsCompletion(const Credential& credential) const {
  return !credential.access.empty() &&
         credential.Attribute(kProjectIdAttribute, kProjectIdAttributePi).empty();
}

absl::StatusOr<std::map<std::string, std::string>> GoogleCodeAssistOAuthClient::Complete(
    const Credential& credential) {
  absl::StatusOr<std::string> project = DiscoverProject(credential.access.str());
  if (!project.ok()) return project.status();
  return std::map<std::string, std::string>{{kProjectIdAttribute, *project}};
}

}  // namespace operator_auth
