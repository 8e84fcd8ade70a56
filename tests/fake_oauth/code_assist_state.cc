#include "tests/fake_oauth/code_assist_state.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace operator_auth::testing {
namespace {

using nlohmann::json;

constexpr char kFreeTierId[] = "free-tier";
constexpr char kStandardTierId[] = "standard-tier";
constexpr char kFreeTierName[] = "Gemini Code Assist for individuals";
constexpr char kStandardTierName[] = "Gemini Code Assist";
constexpr char kOperationPrefix[] = "operations/onboard-";
constexpr char kOnboardResponseType[] =
    "type.googleapis.com/google.internal.cloud.code.v1internal.OnboardUserResponse";

constexpr char kInvalidArgument[] = "INVALID_ARGUMENT";
constexpr char kFailedPrecondition[] = "FAILED_PRECONDITION";

json FreeTier(bool is_default) {
  json tier = {{"id", kFreeTierId}, {"name", kFreeTierName}};
  if (is_default) tier["isDefault"] = true;
  return tier;
}

// A tier whose users bring their own Cloud project.
json StandardTier(bool is_default) {
  json tier = {{"id", kStandardTierId},
               {"name", kStandardTierName},
               {"userDefinedCloudaicompanionProject", true}};
  if (is_default) tier["isDefault"] = true;
  return tier;
}

json CurrentStandardTier() { return {{"id", kStandardTierId}, {"name", kStandardTierName}}; }

// gemini-cli sends metadata {ideType, platform, pluginType[, duetProject]} with every call.
bool HasClientMetadata(const json& body) {
  if (!body.is_object()) return false;
  auto metadata = body.find("metadata");
  if (metadata == body.end() || !metadata->is_object()) return false;
  for (const char* field : {"ideType", "platform", "pluginType"}) {
    auto value = metadata->find(field);
    if (value == metadata->end() || !value->is_string()) return false;
  }
  return true;
}

// The body's cloudaicompanionProject: "" when absent, null or empty; nullopt when not a string.
std::optional<std::string> UserProject(const json& body) {
  auto project = body.find("cloudaicompanionProject");
  if (project == body.end() || project->is_null()) return std::string();
  if (!project->is_string()) return std::nullopt;
  return project->get<std::string>();
}

CodeAssistReply MissingMetadata() {
  return GoogleError(400, kInvalidArgument,
                     "metadata with ideType, platform and pluginType is required");
}

CodeAssistReply ProjectNotAString() {
  return GoogleError(400, kInvalidArgument, "cloudaicompanionProject must be a string");
}

}  // namespace

CodeAssistReply GoogleError(int status, const std::string& code, const std::string& message) {
  return {status, {{"error", {{"code", status}, {"message", message}, {"status", code}}}}};
}

void CodeAssistState::SetScenario(CodeAssistScenario scenario) {
  absl::MutexLock lock(&mu_);
  scenario_ = scenario;
}

void CodeAssistState::SetOperationPendingPolls(int polls) {
  absl::MutexLock lock(&mu_);
  operation_pending_polls_ = polls;
}

CodeAssistReply CodeAssistState::LoadCodeAssist(const json& body) const {
  if (!HasClientMetadata(body)) return MissingMetadata();
  const std::optional<std::string> user_project = UserProject(body);
  if (!user_project.has_value()) return ProjectNotAString();

  absl::MutexLock lock(&mu_);
  switch (scenario_) {
    case CodeAssistScenario::kFreeTierOnboard:
      return {200, {{"allowedTiers", {FreeTier(true), StandardTier(false)}}}};
    case CodeAssistScenario::kExistingProject:
      return {200,
              {{"currentTier", CurrentStandardTier()},
               {"cloudaicompanionProject", kExistingProjectId},
               {"allowedTiers", {StandardTier(true)}}}};
    case CodeAssistScenario::kStandardTierNeedsProject:
      return {200, {{"allowedTiers", {StandardTier(true)}}}};
    case CodeAssistScenario::kIneligible:
      // A valid project of the user's own makes the account eligible for the standard tier.
      if (!user_project->empty()) {
        return {
            200,
            {{"currentTier", CurrentStandardTier()}, {"cloudaicompanionProject", *user_project}}};
      }
      return {200,
              {{"currentTier", CurrentStandardTier()},
               {"ineligibleTiers",
                {{{"reasonCode", "INELIGIBLE_ACCOUNT"},
                  {"reasonMessage", kIneligibleReasonMessage},
                  {"tierId", kFreeTierId},
                  {"tierName", kFreeTierName}}}}}};
  }
  return GoogleError(500, "INTERNAL", "unknown scenario");
}

CodeAssistReply CodeAssistState::OnboardUser(const json& body) {
  if (!HasClientMetadata(body)) return MissingMetadata();
  auto tier = body.find("tierId");
  if (tier == body.end() || !tier->is_string()) {
    return GoogleError(400, kInvalidArgument, "tierId is required");
  }
  const std::string tier_id = tier->get<std::string>();
  const std::optional<std::string> user_project = UserProject(body);
  if (!user_project.has_value()) return ProjectNotAString();

  absl::MutexLock lock(&mu_);
  std::string project_id;
  if (tier_id == kFreeTierId) {
    if (scenario_ != CodeAssistScenario::kFreeTierOnboard) {
      return GoogleError(400, kFailedPrecondition, "free-tier is not available to this account");
    }
    // gemini-cli setup.ts: "Setting a project in the request causes a `Precondition Failed`".
    if (!user_project->empty()) {
      return GoogleError(
          400, kFailedPrecondition,
          "free-tier uses a managed project; cloudaicompanionProject must not be set");
    }
    project_id = kFreeTierProjectId;
  } else if (tier_id == kStandardTierId) {
    if (!user_project->empty()) {
      project_id = *user_project;
    } else if (scenario_ == CodeAssistScenario::kExistingProject) {
      project_id = kExistingProjectId;
    } else {
      return GoogleError(400, kFailedPrecondition,
                         "standard-tier requires a cloudaicompanionProject of the user's own");
    }
  } else {
    return GoogleError(400, kInvalidArgument, absl::StrCat("unknown tierId: ", tier_id));
  }

  std::string name = absl::StrCat(kOperationPrefix, ++serial_);
  operations_[name] = Operation{std::move(project_id), operation_pending_polls_};
  return {200, {{"name", std::move(name)}, {"done", false}}};
}

CodeAssistReply CodeAssistState::GetOperation(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = operations_.find(name);
  if (it == operations_.end()) {
    return GoogleError(404, "NOT_FOUND", absl::StrCat("operation not found: ", name));
  }
  Operation& operation = it->second;
  if (operation.pending_polls_left > 0) {
    --operation.pending_polls_left;
    return {200, {{"name", name}, {"done", false}}};
  }
  return {200,
          {{"name", name},
           {"done", true},
           {"response",
            {{"@type", kOnboardResponseType},
             {"cloudaicompanionProject",
              {{"id", operation.project_id}, {"name", operation.project_id}}}}}}};
}

}  // namespace operator_auth::testing
