#include "tests/fake_oauth/copilot_models.h"

#include <utility>

namespace operator_auth::testing {
namespace {

// Limits of the catalog's chat models; the same for all, as nothing here depends on them.
constexpr int kMaxContextWindowTokens = 128000;
constexpr int kMaxOutputTokens = 16384;

}  // namespace

CopilotModels::CopilotModels()
    : models_{
          {"gpt-4.1", "GPT-4.1", "Azure OpenAI", {"/chat/completions", "/responses"}, kEnabled},
          {"claude-sonnet-4",
           "Claude Sonnet 4",
           "Anthropic",
           {"/chat/completions", "/v1/messages"},
           kUnconfigured},
          {"grok-code-fast-1", "Grok Code Fast 1", "xAI", {"/chat/completions"}, kUnconfigured},
          {"o3", "o3", "Azure OpenAI", {"/chat/completions", "/responses"}, kDisabled},
          {"gpt-4o", "GPT-4o", "Azure OpenAI", {"/chat/completions"}, std::nullopt},
      } {}

nlohmann::json CopilotModels::ListReply() const {
  nlohmann::json data = nlohmann::json::array();
  absl::MutexLock lock(&mu_);
  for (const Model& model : models_) data.push_back(ToJson(model));
  return {{"data", std::move(data)}, {"object", "list"}};
}

bool CopilotModels::Contains(const std::string& model_id) const {
  absl::MutexLock lock(&mu_);
  for (const Model& model : models_) {
    if (model.id == model_id) return true;
  }
  return false;
}

bool CopilotModels::IsPolicyState(const std::string& state) {
  return state == kEnabled || state == kDisabled || state == kUnconfigured;
}

bool CopilotModels::SetPolicyState(const std::string& model_id, const std::string& state) {
  absl::MutexLock lock(&mu_);
  for (Model& model : models_) {
    if (model.id == model_id) {
      model.policy_state = state;
      return true;
    }
  }
  return false;
}

std::map<std::string, std::string> CopilotModels::PolicyStates() const {
  std::map<std::string, std::string> states;
  absl::MutexLock lock(&mu_);
  for (const Model& model : models_) states[model.id] = model.policy_state.value_or("");
  return states;
}

nlohmann::json CopilotModels::ToJson(const Model& model) {
  nlohmann::json json = {
      {"id", model.id},
      {"name", model.name},
      {"object", "model"},
      {"vendor", model.vendor},
      {"version", model.id},
      {"preview", false},
      {"model_picker_enabled", true},
      {"capabilities",
       {
           {"family", model.id},
           {"object", "model_capabilities"},
           {"type", "chat"},
           {"limits",
            {{"max_context_window_tokens", kMaxContextWindowTokens},
             {"max_output_tokens", kMaxOutputTokens}}},
           {"supports", {{"streaming", true}, {"tool_calls", true}}},
       }},
      {"supported_endpoints", model.supported_endpoints},
  };
  if (model.policy_state.has_value()) {
    json["policy"] = {{"state", *model.policy_state},
                      {"terms", "Enable access to " + model.name + "."}};
  }
  return json;
}

}  // namespace operator_auth::testing
