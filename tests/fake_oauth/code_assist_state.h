// The fake Google Code Assist service (cloudcode-pa.googleapis.com v1internal) that gemini-cli
// packages/core/src/code_assist/setup.ts calls to find or provision a user's Cloud project:
// loadCodeAssist, onboardUser and the long-running onboarding operation it polls. What
// loadCodeAssist answers depends on a scenario tests choose; answers are Google API JSON, errors
// {"error":{"code","message","status"}}. Checking the bearer token is the caller's job.
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace operator_auth::testing {

enum class CodeAssistScenario {
  // No currentTier; allowedTiers: free-tier (default) and standard-tier (user-defined project).
  // Onboarding free-tier yields kFreeTierProjectId.
  kFreeTierOnboard,
  // currentTier standard-tier with cloudaicompanionProject kExistingProjectId.
  kExistingProject,
  // No currentTier; allowedTiers: standard-tier (default, user-defined project). onboardUser
  // requires cloudaicompanionProject and the operation yields that project.
  kStandardTierNeedsProject,
  // currentTier standard-tier, ineligibleTiers with kIneligibleReasonMessage, no project. A
  // request naming the user's own cloudaicompanionProject gets that project echoed back instead.
  kIneligible,
};

// An HTTP answer: status and JSON body.
struct CodeAssistReply {
  int status = 200;
  nlohmann::json body;
};

// {"error":{"code":<status>,"message":...,"status":...}}, Google's JSON error shape.
CodeAssistReply GoogleError(int status, const std::string& code, const std::string& message);

class CodeAssistState {
 public:
  static constexpr char kFreeTierProjectId[] = "proj-free-tier-1";
  static constexpr char kExistingProjectId[] = "proj-existing-1";
  // Carries an ANSI colour escape and a newline, for tests of what clients print.
  static constexpr char kIneligibleReasonMessage[] =
      "\x1b[31mYour current account is not eligible for Gemini Code Assist for individuals.\x1b[0m"
      "\nUse a different account or set GOOGLE_CLOUD_PROJECT.";
  static constexpr int kDefaultOperationPendingPolls = 2;

  void SetScenario(CodeAssistScenario scenario);
  // done:false answers to an onboarding operation's polls before it is done; for operations
  // started afterwards.
  void SetOperationPendingPolls(int polls);

  // POST /v1internal:loadCodeAssist with a body {metadata:{ideType,platform,pluginType,...},
  // cloudaicompanionProject?}.
  CodeAssistReply LoadCodeAssist(const nlohmann::json& body) const;
  // POST /v1internal:onboardUser with a body {tierId, metadata, cloudaicompanionProject?};
  // answers {"name":"operations/onboard-<n>","done":false} and remembers the operation.
  CodeAssistReply OnboardUser(const nlohmann::json& body);
  // GET /v1internal/<name>, e.g. name "operations/onboard-1".
  CodeAssistReply GetOperation(const std::string& name);

 private:
  struct Operation {
    std::string project_id;
    int pending_polls_left = 0;
  };

  mutable absl::Mutex mu_;
  CodeAssistScenario scenario_ ABSL_GUARDED_BY(mu_) = CodeAssistScenario::kFreeTierOnboard;
  int operation_pending_polls_ ABSL_GUARDED_BY(mu_) = kDefaultOperationPendingPolls;
  int64_t serial_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Operation> operations_ ABSL_GUARDED_BY(mu_);
};

}  // namespace operator_auth::testing
