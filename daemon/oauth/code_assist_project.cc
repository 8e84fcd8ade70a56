#include "daemon/oauth/code_assist_project.h"

#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/oauth/printable_text.h"
#include "daemon/oauth/token_reply.h"

namespace operator_auth {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxReasonBytes = 200;
constexpr size_t kMaxOperationNameBytes = 256;
constexpr char kFreeTier[] = "free-tier";
constexpr char kLegacyTier[] = "legacy-tier";
constexpr char kNeedsProject[] =
    "this Google account needs a Google Cloud project of its own: set GOOGLE_CLOUD_PROJECT (or "
    "GOOGLE_CLOUD_PROJECT_ID) in the daemon's environment, or \"project_id\" in the provider's "
    "authd.json entry, then restart or reload the daemon";

// cloudaicompanionProject is a string in loadCodeAssist's answer and {id, name} in an
// operation's; pi-mono's google-antigravity.ts accepts both in either place.
std::string ProjectOf(const Json& object) {
  if (!object.is_object()) return {};
  auto it = object.find("cloudaicompanionProject");
  if (it == object.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  return JsonString(*it, "id");
}

// gemini-cli's client metadata (setup.ts coreClientMetadata), with duetProject when the user
// named a project.
Json Metadata(const std::string& user_project) {
  Json metadata = {{"ideType", "IDE_UNSPECIFIED"},
                   {"platform", "PLATFORM_UNSPECIFIED"},
                   {"pluginType", "GEMINI"}};
  if (!user_project.empty()) metadata["duetProject"] = user_project;
  return metadata;
}

// "reason one, reason two" from ineligibleTiers[].reasonMessage, sanitized; empty when none.
std::string IneligibleReasons(const Json& load) {
  std::vector<std::string> reasons;
  auto tiers = load.find("ineligibleTiers");
  if (tiers == load.end() || !tiers->is_array()) return {};
  for (const Json& tier : *tiers) {
    std::string reason = JsonString(tier, "reasonMessage");
    if (reason.empty()) reason = JsonString(tier, "reasonCode");
    if (!reason.empty()) reasons.push_back(PrintableErrorText(reason, kMaxReasonBytes));
  }
  return absl::StrJoin(reasons, ", ");
}

absl::Status NoProject(const Json& load) {
  if (std::string reasons = IneligibleReasons(load); !reasons.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("Google Code Assist refused this account: ", reasons));
  }
  return absl::FailedPreconditionError(kNeedsProject);
}

// An operation name is spliced into a URL path: letters, digits and "/_.-" only, no "..".
bool IsOperationName(const std::string& name) {
  if (name.empty() || name.size() > kMaxOperationNameBytes) return false;
  if (name.find("..") != std::string::npos || name.front() == '/') return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '.' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

class Session {
 public:
  Session(const std::string& token, const CodeAssistQuery& query, const CodeAssistSender& send)
      : token_(token), query_(query), send_(send) {}

  absl::StatusOr<Json> Call(const std::string& method, const std::string& path,
                            const Json* body, absl::string_view what) {
    HttpRequest request;
    request.method = method;
    request.url = absl::StrCat(query_.endpoint, path);
    request.headers = {{"Authorization", "Bearer " + token_}, {"Accept", "application/json"}};
    if (body != nullptr) {
      request.headers.emplace_back("Content-Type", "application/json");
      request.body = body->dump();
    }
    for (const auto& h : query_.headers) request.headers.push_back(h);
    absl::StatusOr<HttpResponse> response = send_(std::move(request), what);
    if (!response.ok()) return response.status();
    Json reply = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    if (response->status < 200 || response->status >= 300) {
      // Google's errors: {"error": {"code", "message", "status"}}.
      std::string message;
      std::string status;
      if (reply.is_object() && reply.contains("error")) {
        message = JsonString(reply["error"], "message");
        status = JsonString(reply["error"], "status");
      }
      std::string detail = absl::StrCat("HTTP ", response->status);
      if (!status.empty()) absl::StrAppend(&detail, " ", PrintableErrorText(status, 64));
      if (!message.empty()) {
        absl::StrAppend(&detail, ": ", PrintableErrorText(message, kMaxReasonBytes));
      }
      if (status == "FAILED_PRECONDITION") {
        return absl::FailedPreconditionError(absl::StrCat(kNeedsProject, " (", what, ": ",
                                                          detail, ")"));
      }
      return absl::UnavailableError(absl::StrCat(what, " failed (", detail, ")"));
    }
    if (reply.is_discarded() || !reply.is_object()) {
      return absl::UnavailableError(absl::StrCat(what, " failed: the reply is not a JSON object"));
    }
    return reply;
  }

 private:
  const std::string& token_;
  const CodeAssistQuery& query_;
  const CodeAssistSender& send_;
};

}  // namespace

absl::StatusOr<std::string> DiscoverCodeAssistProject(const std::string& access_token,
                                                      const CodeAssistQuery& query,
                                                      const CodeAssistSender& send) {
  Session session(access_token, query, send);
  const std::string& user_project = query.user_project;

  Json load_body = {{"metadata", Metadata(user_project)}};
  if (!user_project.empty()) load_body["cloudaicompanionProject"] = user_project;
  absl::StatusOr<Json> load = session.Call("POST", "/v1internal:loadCodeAssist", &load_body,
                                           "asking Google Code Assist for the project");
  if (!load.ok()) return load.status();

  if (load->contains("currentTier") && (*load)["currentTier"].is_object()) {
    if (std::string project = ProjectOf(*load); !project.empty()) return project;
    if (!user_project.empty()) return user_project;
    return NoProject(*load);
  }

  // Not onboarded yet: the default allowed tier, as gemini-cli picks it.
  std::string tier_id = kLegacyTier;
  if (auto tiers = load->find("allowedTiers"); tiers != load->end() && tiers->is_array()) {
    for (const Json& tier : *tiers) {
      if (tier.is_object() && tier.value("isDefault", false)) {
        if (std::string id = JsonString(tier, "id"); !id.empty()) tier_id = id;
        break;
      }
    }
  }
  const bool free_tier = tier_id == kFreeTier;
  Json onboard_body = {{"tierId", tier_id}, {"metadata", Metadata(free_tier ? "" : user_project)}};
  if (!free_tier && !user_project.empty()) onboard_body["cloudaicompanionProject"] = user_project;
  absl::StatusOr<Json> operation = session.Call("POST", "/v1internal:onboardUser", &onboard_body,
                                                "onboarding to Google Code Assist");
  if (!operation.ok()) return operation.status();
  for (int polls = 0; !operation->value("done", false); ++polls) {
    const std::string name = JsonString(*operation, "name");
    if (!IsOperationName(name)) {
      return absl::UnavailableError(
          "onboarding to Google Code Assist failed: the reply names no valid operation");
    }
    if (polls >= kMaxCodeAssistPolls) {
      return absl::DeadlineExceededError(absl::StrCat(
          "onboarding to Google Code Assist did not finish after ", kMaxCodeAssistPolls,
          " polls; it is tried again later"));
    }
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(query.poll_interval));
    operation = session.Call("GET", absl::StrCat("/v1internal/", name), nullptr,
                             "waiting for Google Code Assist onboarding");
    if (!operation.ok()) return operation.status();
  }
  if (auto response = operation->find("response"); response != operation->end()) {
    if (std::string project = ProjectOf(*response); !project.empty()) return project;
  }
  if (!user_project.empty()) return user_project;
  return NoProject(*load);
}

}  // namespace operator_auth
