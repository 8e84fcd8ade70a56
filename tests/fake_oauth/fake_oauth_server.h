// A real HTTP server on 127.0.0.1 that stands in for OAuth providers in tests: authorization code
// with PKCE, rotating refresh tokens, the device flow, RFC 7009 revocation and the Copilot token
// exchange, with per-path fault injection and a record of every request. It also stands in for
// what clients call right after login: Google Code Assist project discovery and onboarding,
// the Copilot model list and model policies, and OpenAI's Codex device-code login.
//
// Endpoints: GET /authorize (auto-approves, 302 to redirect_uri), POST /token, POST /device/code,
// POST /revoke (form or JSON body), GET /copilot_internal/v2/token, the paths named by the
// constants below, and GET /_stats (all counters as JSON; neither recorded nor faulted). Unknown
// paths answer 404 and are recorded. Requests are counted, recorded and faulted by path, except
// that paths with a variable part go under their pattern (kCodeAssistOperationPattern,
// kCopilotModelPolicyPattern): SetFault, RequestCount and Requests take the pattern.
//
// Thread-safe: the server answers on its own threads while tests seed tokens, set faults and read
// counters. Start() and Stop() belong to the owner's thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "tests/fake_oauth/code_assist_state.h"
#include "tests/fake_oauth/codex_device_auth.h"
#include "tests/fake_oauth/copilot_models.h"
#include "tests/fake_oauth/fault_plan.h"
#include "tests/fake_oauth/request_log.h"
#include "tests/fake_oauth/token_store.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace operator_auth::testing {

// Google Code Assist (gemini-cli packages/core/src/code_assist/server.ts); all need
// "Authorization: Bearer <an access token the server issued>".
inline constexpr char kCodeAssistLoadPath[] = "/v1internal:loadCodeAssist";        // POST
inline constexpr char kCodeAssistOnboardPath[] = "/v1internal:onboardUser";        // POST
inline constexpr char kCodeAssistOperationPattern[] = "/v1internal/operations/*";  // GET
// The Copilot API (pi-mono github-copilot.ts); "Authorization: Bearer <a Copilot token>".
inline constexpr char kCopilotModelsPath[] = "/models";                   // GET
inline constexpr char kCopilotModelPolicyPattern[] = "/models/*/policy";  // POST
// OpenAI Codex device-code login (codex-rs codex-rs/login/src/device_code_auth.rs).
inline constexpr char kCodexUserCodePath[] = "/api/accounts/deviceauth/usercode";  // POST
inline constexpr char kCodexDeviceTokenPath[] = "/api/accounts/deviceauth/token";  // POST
// redirect_uri of the code a Codex device login yields: base_url() + this.
inline constexpr char kCodexDeviceRedirectPath[] = "/deviceauth/callback";

struct FakeOAuthOptions {
  int port = 0;                        // 0: any free port on 127.0.0.1
  int access_token_lifetime_s = 3600;  // expires_in of issued tokens
  // Pending answers before a device code (or Codex device_auth_id) succeeds.
  int device_pending_polls = 2;
  // interval returned by device authorization (and Codex's usercode); 0: no slow_down.
  int device_interval_s = 1;
  std::string account_id = "acct-fake-1";  // chatgpt_account_id put in issued access tokens
};

class FakeOAuthServer {
 public:
  explicit FakeOAuthServer(FakeOAuthOptions options = {});
  ~FakeOAuthServer();  // stops and joins
  FakeOAuthServer(const FakeOAuthServer&) = delete;
  FakeOAuthServer& operator=(const FakeOAuthServer&) = delete;

  // Binds 127.0.0.1 and serves; returns once connections are accepted. Throws
  // std::runtime_error when the port cannot be bound. After Stop(), Start() binds the same port
  // again, so a base_url() handed out earlier stays valid.
  void Start();
  // Stops accepting, wakes requests sleeping in a kDelay fault and joins the serving threads.
  void Stop();

  int port() const;
  std::string base_url() const;  // "http://127.0.0.1:<port>"

  // Seeds a refresh token the server will accept once (as if issued by an earlier login).
  void AddRefreshToken(const std::string& refresh_token);
  // Seeds a GitHub token the Copilot exchange accepts.
  void AddGithubToken(const std::string& github_token);
  // Seeds an access token the Code Assist endpoints accept; it never expires. Tokens the server
  // issues are accepted until they expire or are revoked.
  void AddAccessToken(const std::string& access_token);

  // What loadCodeAssist answers (and so which onboarding works); default kFreeTierOnboard.
  void SetCodeAssistScenario(CodeAssistScenario scenario);
  // done:false answers to an onboarding operation's polls before it is done (default 2); applies
  // to operations started afterwards.
  void SetCodeAssistOperationPendingPolls(int polls);
  // Copilot model id -> policy state ("enabled", "disabled", "unconfigured"; "" for no policy).
  std::map<std::string, std::string> CopilotModelPolicyStates() const;

  // Applied to requests for `path` (e.g. "/token") before normal handling; faulted requests are
  // still counted and recorded. Replaces an earlier fault for the path; kNone clears it.
  void SetFault(const std::string& path, FaultSpec fault);

  int RequestCount(const std::string& path) const;
  int GrantCount(const std::string& grant_type) const;  // "/token" requests by grant_type
  std::vector<RecordedRequest> Requests(const std::string& path) const;
  std::vector<std::string> RevokedTokens() const;
  // invalid_grant answers to refresh_token grants (reused, revoked or unknown refresh tokens);
  // injected kInvalidGrant faults are not counted.
  int InvalidGrantCount() const;
  // Clears counters, recorded requests and revoked tokens; issued tokens, faults, Code Assist
  // operations and scenario and Copilot model states stay.
  void Reset();

 private:
  using Endpoint = void (FakeOAuthServer::*)(const RecordedRequest&, httplib::Response&);

  // `log_key`: what the request is counted, recorded and faulted under; "" for its path.
  void Serve(const httplib::Request& request, httplib::Response& response, Endpoint endpoint,
             const std::string& log_key);
  void SleepUnlessStopping(int delay_ms);

  void HandleAuthorize(const RecordedRequest& request, httplib::Response& response);
  void HandleToken(const RecordedRequest& request, httplib::Response& response);
  void HandleDeviceCode(const RecordedRequest& request, httplib::Response& response);
  void HandleDevicePage(const RecordedRequest& request, httplib::Response& response);
  void HandleRevoke(const RecordedRequest& request, httplib::Response& response);
  void HandleCopilotToken(const RecordedRequest& request, httplib::Response& response);
  void HandleLoadCodeAssist(const RecordedRequest& request, httplib::Response& response);
  void HandleOnboardUser(const RecordedRequest& request, httplib::Response& response);
  void HandleCodeAssistOperation(const RecordedRequest& request, httplib::Response& response);
  void HandleCopilotModels(const RecordedRequest& request, httplib::Response& response);
  void HandleCopilotModelPolicy(const RecordedRequest& request, httplib::Response& response);
  void HandleCodexUserCode(const RecordedRequest& request, httplib::Response& response);
  void HandleCodexDeviceToken(const RecordedRequest& request, httplib::Response& response);
  void HandleUnknownPath(const RecordedRequest& request, httplib::Response& response);

  const FakeOAuthOptions options_;
  TokenStore tokens_;
  CodeAssistState code_assist_;
  CopilotModels copilot_models_;
  CodexDeviceAuth codex_device_;  // issues codes in tokens_
  RequestLog log_;
  FaultPlan faults_;

  mutable absl::Mutex mu_;
  std::unique_ptr<httplib::Server> server_ ABSL_GUARDED_BY(mu_);
  std::thread listener_ ABSL_GUARDED_BY(mu_);
  int port_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace operator_auth::testing
