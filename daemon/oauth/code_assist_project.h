// Finds the Google Code Assist project a Google OAuth access token acts for, the way gemini-cli's
// setupUser does (google-gemini/gemini-cli packages/core/src/code_assist/setup.ts):
//  1. POST {endpoint}/v1internal:loadCodeAssist with the client metadata gemini-cli sends, and the
//     user's own project (GOOGLE_CLOUD_PROJECT) as cloudaicompanionProject / duetProject when
//     there is one.
//  2. With a currentTier: the answer's cloudaicompanionProject, else the user's project, else an
//     error: the ineligible tiers' reasons when the answer lists some, else "set
//     GOOGLE_CLOUD_PROJECT".
//  3. Without one: onboard to the default allowed tier (legacy-tier when none is marked default):
//     POST {endpoint}/v1internal:onboardUser with its id (no project for free-tier, as gemini-cli
//     does: the free tier's project is Google-managed and naming one fails), then poll
//     GET {endpoint}/v1internal/{operation name} until done, and take
//     response.cloudaicompanionProject.id.
// Every text the server controls is reduced to printable ASCII before it reaches a message. The
// polling is bounded (kMaxCodeAssistPolls). Thread-safe: no state beyond the call.
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/core/key_usage.h"
#include "daemon/oauth/http_client.h"

namespace operator_auth {

inline constexpr int kMaxCodeAssistPolls = 60;

struct CodeAssistQuery {
  std::string endpoint;      // e.g. https://cloudcode-pa.googleapis.com
  std::string user_project;  // GOOGLE_CLOUD_PROJECT or authd.json's project_id; may be empty
  HeaderList headers;        // extra request headers (Client-Metadata, ...)
  absl::Duration poll_interval = absl::Seconds(5);
};

// Sends one request; `what` names it in errors.
using CodeAssistSender =
    std::function<absl::StatusOr<HttpResponse>(HttpRequest request, absl::string_view what)>;

// The project id. Errors: FAILED_PRECONDITION when the account needs a project of the user's own
// (the message says to set GOOGLE_CLOUD_PROJECT); PERMISSION_DENIED when the account is not
// eligible (the server's reasons, sanitized); UNAVAILABLE / DEADLINE_EXCEEDED when transient.
// Messages never hold the token.
absl::StatusOr<std::string> DiscoverCodeAssistProject(const std::string& access_token,
                                                      const CodeAssistQuery& query,
                                                      const CodeAssistSender& send);

}  // namespace operator_auth
