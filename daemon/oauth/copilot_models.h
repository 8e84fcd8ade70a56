// Enabling GitHub Copilot's models after a login: some (Claude, Grok) answer only once their
// policy is enabled for the account. GET {base}/models lists them with policy.state; each model
// whose state is "unconfigured" gets POST {base}/models/{id}/policy {"state":"enabled"} with the
// chat-policy headers (openai-intent / x-interaction-type: chat-policy), as pi-mono's
// packages/ai/src/utils/oauth/github-copilot.ts (enableGitHubCopilotModel) sends them. Models the
// user enabled or disabled themselves are left alone (pi enables every model; we do not overrule
// a "disabled"). Best effort, bounded: at most kMaxCopilotModels models. Thread-safe (no state).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/core/key_usage.h"
#include "daemon/oauth/http_client.h"

namespace operator_auth {

inline constexpr size_t kMaxCopilotModels = 200;

struct CopilotModelPolicies {
  std::vector<std::string> enabled;  // were "unconfigured", enabled now
  std::vector<std::string> failed;   // were "unconfigured", enabling failed
  int listed = 0;
};

using CopilotSender =
    std::function<absl::StatusOr<HttpResponse>(HttpRequest request, absl::string_view what)>;

// `headers`: the editor headers Copilot expects with every request. An error only when the list
// itself cannot be had.
absl::StatusOr<CopilotModelPolicies> EnableUnconfiguredCopilotModels(
    const std::string& base_url, const std::string& copilot_token, const HeaderList& headers,
    const CopilotSender& send);

}  // namespace operator_auth
