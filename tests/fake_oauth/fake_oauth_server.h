// A real HTTP server on 127.0.0.1 that stands in for OAuth providers in tests: authorization code
// with PKCE, rotating refresh tokens, the device flow, RFC 7009 revocation and the Copilot token
// exchange, with per-path fault injection and a record of every request.
//
// Endpoints: GET /authorize (auto-approves, 302 to redirect_uri), POST /token, POST /device/code,
// POST /revoke, GET /copilot_internal/v2/token, and GET /_stats (all counters as JSON; neither
// recorded nor faulted). Unknown paths answer 404 and are recorded.
//
// Thread-safe: the server answers on its own threads while tests seed tokens, set faults and read
// counters. Start() and Stop() belong to the owner's thread.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "tests/fake_oauth/fault_plan.h"
#include "tests/fake_oauth/request_log.h"
#include "tests/fake_oauth/token_store.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace operator_auth::testing {

struct FakeOAuthOptions {
  int port = 0;                        // 0: any free port on 127.0.0.1
  int access_token_lifetime_s = 3600;  // expires_in of issued tokens
  int device_pending_polls = 2;  // authorization_pending answers before a device code succeeds
  int device_interval_s = 1;     // interval returned by device authorization; 0: no slow_down
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
  // Clears counters, recorded requests and revoked tokens; issued tokens and faults stay.
  void Reset();

 private:
  using Endpoint = void (FakeOAuthServer::*)(const RecordedRequest&, httplib::Response&);

  void Serve(const httplib::Request& request, httplib::Response& response, Endpoint endpoint);
  void SleepUnlessStopping(int delay_ms);

  void HandleAuthorize(const RecordedRequest& request, httplib::Response& response);
  void HandleToken(const RecordedRequest& request, httplib::Response& response);
  void HandleDeviceCode(const RecordedRequest& request, httplib::Response& response);
  void HandleDevicePage(const RecordedRequest& request, httplib::Response& response);
  void HandleRevoke(const RecordedRequest& request, httplib::Response& response);
  void HandleCopilotToken(const RecordedRequest& request, httplib::Response& response);
  void HandleUnknownPath(const RecordedRequest& request, httplib::Response& response);

  const FakeOAuthOptions options_;
  TokenStore tokens_;
  RequestLog log_;
  FaultPlan faults_;

  mutable absl::Mutex mu_;
  std::unique_ptr<httplib::Server> server_ ABSL_GUARDED_BY(mu_);
  std::thread listener_ ABSL_GUARDED_BY(mu_);
  int port_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace operator_auth::testing
