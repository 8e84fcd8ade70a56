// The fake Copilot API's model catalog and each model's policy state, standing in for
// GET https://api.individual.githubcopilot.com/models and POST .../models/<id>/policy (pi-mono
// packages/ai/src/utils/oauth/github-copilot.ts: fetchCopilotModels, enableGitHubCopilotModel).
//
// The catalog is fixed: gpt-4.1 "enabled", claude-sonnet-4 and grok-code-fast-1 "unconfigured",
// o3 "disabled", and gpt-4o with no policy object at all. Policy changes last for the object's
// lifetime. Thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace operator_auth::testing {

class CopilotModels {
 public:
  // The policy states the real API uses.
  static constexpr char kEnabled[] = "enabled";
  static constexpr char kDisabled[] = "disabled";
  static constexpr char kUnconfigured[] = "unconfigured";

  CopilotModels();

  // The /models reply: {"data":[<model>...],"object":"list"}, in catalog order.
  nlohmann::json ListReply() const;
  bool Contains(const std::string& model_id) const;
  static bool IsPolicyState(const std::string& state);
  // Sets the model's policy state (giving it a policy object if it had none); false when there is
  // no such model.
  bool SetPolicyState(const std::string& model_id, const std::string& state);
  // Model id -> policy state; "" for a model without a policy object.
  std::map<std::string, std::string> PolicyStates() const;

 private:
  struct Model {
    std::string id;
    std::string name;
    std::string vendor;
    std::vector<std::string> supported_endpoints;
    std::optional<std::string> policy_state;  // nullopt: no policy object
  };

  static nlohmann::json ToJson(const Model& model);

  mutable absl::Mutex mu_;
  std::vector<Model> models_ ABSL_GUARDED_BY(mu_);
};

}  // namespace operator_auth::testing
