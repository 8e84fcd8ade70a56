#include "tests/fake_oauth/fake_oauth_server.h"

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

namespace operator_auth::testing {
namespace {

constexpr char kHost[] = "127.0.0.1";
constexpr char kTokenPath[] = "/token";
constexpr char kDeviceCodeGrant[] = "urn:ietf:params:oauth:grant-type:device_code";
// 64 slow requests in flight at once must not starve each other.
constexpr size_t kServerThreads = 64;
// An idle keep-alive connection holds a server thread this long; Stop() waits for it.
constexpr time_t kKeepAliveTimeoutS = 1;
constexpr size_t kMaxRequestBodyBytes = 1024 * 1024;
constexpr int kDeviceCodeLifetimeS = 900;
// Variable parts of the paths recorded under kCodeAssistOperationPattern and
// kCopilotModelPolicyPattern.
constexpr char kCodeAssistOperationRoute[] = R"(/v1internal/operations/[^/]+)";
constexpr char kCodeAssistApiPrefix[] = "/v1internal/";  // GET /v1internal/<operation name>
constexpr char kCopilotModelPolicyRoute[] = R"(/models/[^/]+/policy)";
constexpr char kCopilotModelsPrefix[] = "/models/";
constexpr char kCopilotPolicySuffix[] = "/policy";
// Headers the Copilot API wants from an editor (pi-mono github-copilot.ts COPILOT_HEADERS), and
// the intent headers of a policy change (enableGitHubCopilotModel).
constexpr char kEditorVersionHeader[] = "editor-version";
constexpr char kIntegrationIdHeader[] = "copilot-integration-id";
constexpr char kChatPolicy[] = "chat-policy";
constexpr char kOpenAiIntentHeader[] = "openai-intent";
constexpr char kInteractionTypeHeader[] = "x-interaction-type";
// google.rpc 401 message, as Google APIs word it.
constexpr char kUnauthenticatedMessage[] =
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
    "or other valid authentication credential.";

// httplib 0.11 listens with a backlog of 5; a burst of concurrent clients then loses SYNs and
// waits for the 1 s (3 s, 7 s, ...) retransmission. Linux lets a listening socket raise its
// backlog by calling listen() again.
constexpr int kListenBacklog = 256;

class WideBacklogServer : public httplib::Server {
 public:
  bool WidenBacklog() { return ::listen(svr_sock_.load(), kListenBacklog) == 0; }
};

// httplib's default also sets SO_REUSEPORT, which would let two servers share a --port.
void ReuseAddressOnly(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

// "Application/JSON; charset=utf-8" -> "application/json".
std::string MediaType(absl::string_view content_type) {
  absl::string_view type = content_type.substr(0, content_type.find(';'));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(type));
}

// httplib adds the connection's addresses to the request headers; they were never sent.
bool IsPseudoHeader(absl::string_view name) {
  return name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
         name == "LOCAL_PORT";
}

// Percent-encodes all but RFC 3986 unreserved characters.
std::string UrlEncode(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (char c : text) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      encoded += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      encoded += '%';
      encoded += kHex[byte >> 4];
      encoded += kHex[byte & 0xF];
    }
  }
  return encoded;
}

RecordedRequest ToRecordedRequest(const httplib::Request& request) {
  RecordedRequest recorded;
  recorded.method = request.method;
  recorded.path = request.path;
  recorded.content_type = request.get_header_value("Content-Type");
  // httplib puts the query string and an urlencoded form body in `params`.
  for (const auto& [name, value] : request.params) recorded.params[name] = value;
  if (MediaType(recorded.content_type) == "application/json") {
    nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_object()) {
      for (const auto& [name, value] : body.items()) {
        recorded.params[name] = value.is_string() ? value.get<std::string>() : value.dump();
      }
    }
    if (!body.is_discarded()) recorded.json_body = std::move(body);
  }
  for (const auto& [name, value] : request.headers) {
    if (!IsPseudoHeader(name)) recorded.headers[absl::AsciiStrToLower(name)] = value;
  }
  return recorded;
}

std::string Param(const RecordedRequest& request, const std::string& name) {
  auto it = request.params.find(name);
  return it == request.params.end() ? std::string() : it->second;
}

std::string Header(const RecordedRequest& request, const std::string& lower_case_name) {
  auto it = request.headers.find(lower_case_name);
  return it == request.headers.end() ? std::string() : it->second;
}

// A string field of a JSON object body, or "" when absent or not a string.
std::string JsonField(const RecordedRequest& request, const std::string& name) {
  if (!request.json_body.is_object()) return "";
  auto it = request.json_body.find(name);
  return it != request.json_body.end() && it->is_string() ? it->get<std::string>() : "";
}

// The credential of "Authorization: <scheme> <credential>" when the scheme (any case) is Bearer,
// or also token if `allow_token_scheme`; otherwise "".
std::string AuthorizationCredential(const RecordedRequest& request, bool allow_token_scheme) {
  const std::string header = Header(request, "authorization");
  const std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(header, absl::MaxSplits(' ', 1));
  const std::string scheme = absl::AsciiStrToLower(parts.first);
  if (scheme != "bearer" && !(allow_token_scheme && scheme == "token")) return "";
  return std::string(absl::StripAsciiWhitespace(parts.second));
}

void ReplyJson(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(body.dump(), "application/json");
}

void ReplyError(httplib::Response& response, int status, const std::string& error,
                const std::string& description = "") {
  nlohmann::json body = {{"error", error}};
  if (!description.empty()) body["error_description"] = description;
  ReplyJson(response, status, body);
}

void ReplyCodeAssist(httplib::Response& response, const CodeAssistReply& reply) {
  ReplyJson(response, reply.status, reply.body);
}

// The Copilot API's error shape: {"message": ...}.
void ReplyCopilotError(httplib::Response& response, int status, const std::string& message) {
  ReplyJson(response, status, {{"message", message}});
}

void ReplyGrant(httplib::Response& response, const GrantResult& result) {
  if (!result.tokens.has_value()) {
    ReplyError(response, 400, result.error, result.error_description);
    return;
  }
  const IssuedTokens& tokens = *result.tokens;
  response.set_header("Cache-Control", "no-store");
  ReplyJson(response, 200,
            {
                {"access_token", tokens.access_token},
                {"refresh_token", tokens.refresh_token},
                {"expires_in", tokens.expires_in},
                {"token_type", "Bearer"},
                {"id_token", tokens.access_token},
            });
}

}  // namespace

FakeOAuthServer::FakeOAuthServer(FakeOAuthOptions options)
    : options_(std::move(options)),
      tokens_(TokenPolicy{options_.access_token_lifetime_s, options_.device_pending_polls,
                          options_.device_interval_s, options_.account_id}),
      codex_device_(tokens_, options_.device_pending_polls, options_.device_interval_s) {}

FakeOAuthServer::~FakeOAuthServer() { Stop(); }

void FakeOAuthServer::Start() {
  absl::MutexLock lock(&mu_);
  if (server_ != nullptr) return;

  auto server = std::make_unique<WideBacklogServer>();
  server->new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  server->set_keep_alive_timeout(kKeepAliveTimeoutS);
  server->set_payload_max_length(kMaxRequestBodyBytes);
  server->set_socket_options(ReuseAddressOnly);

  auto route = [this](Endpoint endpoint, std::string log_key = "") {
    return [this, endpoint, log_key](const httplib::Request& request, httplib::Response& response) {
      Serve(request, response, endpoint, log_key);
    };
  };
  server->Get("/authorize", route(&FakeOAuthServer::HandleAuthorize));
  server->Post("/token", route(&FakeOAuthServer::HandleToken));
  server->Post("/device/code", route(&FakeOAuthServer::HandleDeviceCode));
  server->Get("/device", route(&FakeOAuthServer::HandleDevicePage));
  server->Post("/revoke", route(&FakeOAuthServer::HandleRevoke));
  server->Get("/copilot_internal/v2/token", route(&FakeOAuthServer::HandleCopilotToken));
  server->Post(kCodeAssistLoadPath, route(&FakeOAuthServer::HandleLoadCodeAssist));
  server->Post(kCodeAssistOnboardPath, route(&FakeOAuthServer::HandleOnboardUser));
  server->Get(kCodeAssistOperationRoute,
              route(&FakeOAuthServer::HandleCodeAssistOperation, kCodeAssistOperationPattern));
  server->Get(kCopilotModelsPath, route(&FakeOAuthServer::HandleCopilotModels));
  server->Post(kCopilotModelPolicyRoute,
               route(&FakeOAuthServer::HandleCopilotModelPolicy, kCopilotModelPolicyPattern));
  server->Post(kCodexUserCodePath, route(&FakeOAuthServer::HandleCodexUserCode));
  server->Post(kCodexDeviceTokenPath, route(&FakeOAuthServer::HandleCodexDeviceToken));
  server->Get("/codex/device", route(&FakeOAuthServer::HandleDevicePage));
  server->Get("/_stats", [this](const httplib::Request&, httplib::Response& response) {
    ReplyJson(response, 200, log_.Stats());
  });
  // Last, so that they only see what no route above matched.
  server->Get(".*", route(&FakeOAuthServer::HandleUnknownPath));
  server->Post(".*", route(&FakeOAuthServer::HandleUnknownPath));

  // A restart keeps the port it had, so clients configured with base_url() keep working.
  const int wanted = port_ != 0 ? port_ : options_.port;
  int bound = wanted;
  if (wanted == 0) {
    bound = server->bind_to_any_port(kHost);
  } else if (!server->bind_to_port(kHost, wanted)) {
    bound = -1;
  }
  if (bound <= 0 || !server->WidenBacklog()) {
    throw std::runtime_error(absl::StrCat("FakeOAuthServer: cannot listen on ", kHost, ":", wanted,
                                          ": ", std::strerror(errno)));
  }
  port_ = bound;

  // httplib's stop() is a no-op until the accept loop runs, so wait for it.
  auto finished = std::make_shared<std::atomic<bool>>(false);
  WideBacklogServer* raw = server.get();
  listener_ = std::thread([raw, finished] {
    raw->listen_after_bind();
    finished->store(true);
  });
  while (!raw->is_running() && !finished->load()) absl::SleepFor(absl::Milliseconds(1));
  server_ = std::move(server);
}

void FakeOAuthServer::Stop() {
  std::unique_ptr<httplib::Server> server;
  std::thread listener;
  {
    absl::MutexLock lock(&mu_);
    if (server_ == nullptr) return;
    server = std::move(server_);
    listener = std::move(listener_);
    stopping_ = true;
  }
  server->stop();
  listener.join();  // the accept loop joins the request threads before it returns
  absl::MutexLock lock(&mu_);
  stopping_ = false;
}

int FakeOAuthServer::port() const {
  absl::MutexLock lock(&mu_);
  return port_;
}

std::string FakeOAuthServer::base_url() const {
  return absl::StrCat("http://", kHost, ":", port());
}

void FakeOAuthServer::AddRefreshToken(const std::string& refresh_token) {
  tokens_.AddRefreshToken(refresh_token);
}

void FakeOAuthServer::AddGithubToken(const std::string& github_token) {
  tokens_.AddGithubToken(github_token);
}

void FakeOAuthServer::AddAccessToken(const std::string& access_token) {
  tokens_.AddAccessToken(access_token);
}

void FakeOAuthServer::SetCodeAssistScenario(CodeAssistScenario scenario) {
  code_assist_.SetScenario(scenario);
}

void FakeOAuthServer::SetCodeAssistOperationPendingPolls(int polls) {
  code_assist_.SetOperationPendingPolls(polls);
}

std::map<std::string, std::string> FakeOAuthServer::CopilotModelPolicyStates() const {
  return copilot_models_.PolicyStates();
}

void FakeOAuthServer::SetFault(const std::string& path, FaultSpec fault) {
  faults_.Set(path, fault);
}

int FakeOAuthServer::RequestCount(const std::string& path) const { return log_.RequestCount(path); }

int FakeOAuthServer::GrantCount(const std::string& grant_type) const {
  return log_.GrantCount(grant_type);
}

std::vector<RecordedRequest> FakeOAuthServer::Requests(const std::string& path) const {
  return log_.Requests(path);
}

std::vector<std::string> FakeOAuthServer::RevokedTokens() const { return log_.RevokedTokens(); }

int FakeOAuthServer::InvalidGrantCount() const { return log_.InvalidGrantCount(); }

void FakeOAuthServer::Reset() { log_.Clear(); }

void FakeOAuthServer::Serve(const httplib::Request& request, httplib::Response& response,
                            Endpoint endpoint, const std::string& log_key) {
  RecordedRequest recorded = ToRecordedRequest(request);
  const std::string key = log_key.empty() ? recorded.path : log_key;
  if (recorded.path == kTokenPath) log_.CountGrant(Param(recorded, "grant_type"));
  log_.Record(key, recorded);

  const FaultSpec fault = faults_.Take(key);
  switch (fault.fault) {
    case Fault::kNone:
      break;
    case Fault::kDelay:
      SleepUnlessStopping(fault.delay_ms);
      break;
    case Fault::kServerError:
      ReplyError(response, 500, "server_error");
      return;
    case Fault::kGarbage:
      response.status = 200;
      response.set_content("<html>not json", "text/html");
      return;
    case Fault::kInvalidGrant:
      ReplyError(response, 400, "invalid_grant");
      return;
    case Fault::kUnauthorized:
      ReplyError(response, 401, "invalid_client");
      return;
    case Fault::kHostileText:
      ReplyError(response, 400, "invalid_grant", kHostileDescription);
      return;
  }
  (this->*endpoint)(recorded, response);
}

void FakeOAuthServer::SleepUnlessStopping(int delay_ms) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(delay_ms));
}

void FakeOAuthServer::HandleAuthorize(const RecordedRequest& request, httplib::Response& response) {
  const std::string redirect_uri = Param(request, "redirect_uri");
  const std::string client_id = Param(request, "client_id");
  const std::string code_challenge = Param(request, "code_challenge");
  if (Param(request, "response_type") != "code" || client_id.empty() || redirect_uri.empty()) {
    ReplyError(response, 400, "invalid_request",
               "response_type=code, client_id and redirect_uri are required");
    return;
  }
  if (code_challenge.empty() || Param(request, "code_challenge_method") != "S256") {
    ReplyError(response, 400, "invalid_request", "PKCE with code_challenge_method=S256 required");
    return;
  }
  const std::string code = tokens_.IssueAuthorizationCode(client_id, redirect_uri, code_challenge);
  std::string location = absl::StrCat(
      redirect_uri, absl::StrContains(redirect_uri, '?') ? "&" : "?", "code=", UrlEncode(code));
  if (request.params.count("state") != 0) {
    absl::StrAppend(&location, "&state=", UrlEncode(Param(request, "state")));
  }
  response.status = 302;
  response.set_header("Location", location);
}

void FakeOAuthServer::HandleToken(const RecordedRequest& request, httplib::Response& response) {
  const std::string grant_type = Param(request, "grant_type");
  if (grant_type == "authorization_code") {
    const std::string code = Param(request, "code");
    const std::string redirect_uri = Param(request, "redirect_uri");
    const std::string code_verifier = Param(request, "code_verifier");
    if (code.empty() || redirect_uri.empty() || code_verifier.empty()) {
      ReplyError(response, 400, "invalid_request", "code, redirect_uri and code_verifier required");
      return;
    }
    ReplyGrant(response, tokens_.RedeemAuthorizationCode(code, redirect_uri, code_verifier,
                                                         Param(request, "client_id")));
  } else if (grant_type == "refresh_token") {
    const std::string refresh_token = Param(request, "refresh_token");
    if (refresh_token.empty()) {
      ReplyError(response, 400, "invalid_request", "refresh_token required");
      return;
    }
    const GrantResult result = tokens_.RedeemRefreshToken(refresh_token);
    if (!result.tokens.has_value()) log_.CountInvalidGrant();
    ReplyGrant(response, result);
  } else if (grant_type == kDeviceCodeGrant) {
    const std::string device_code = Param(request, "device_code");
    if (device_code.empty()) {
      ReplyError(response, 400, "invalid_request", "device_code required");
      return;
    }
    ReplyGrant(response, tokens_.PollDeviceCode(device_code));
  } else {
    ReplyError(response, 400, "unsupported_grant_type");
  }
}

void FakeOAuthServer::HandleDeviceCode(const RecordedRequest&, httplib::Response& response) {
  const DeviceAuthorization authorization = tokens_.StartDeviceAuthorization();
  ReplyJson(response, 200,
            {
                {"device_code", authorization.device_code},
                {"user_code", authorization.user_code},
                {"verification_uri", absl::StrCat(base_url(), "/device")},
                {"expires_in", kDeviceCodeLifetimeS},
                {"interval", authorization.interval_s},
            });
}

void FakeOAuthServer::HandleDevicePage(const RecordedRequest&, httplib::Response& response) {
  response.status = 200;
  response.set_content("Fake OAuth provider: device codes are approved automatically.\n",
                       "text/plain");
}

void FakeOAuthServer::HandleRevoke(const RecordedRequest& request, httplib::Response& response) {
  const std::string token = Param(request, "token");
  if (token.empty()) {
    ReplyError(response, 400, "invalid_request", "token required");
    return;
  }
  tokens_.RevokeToken(token);
  log_.RecordRevocation(token);
  response.status = 200;
}

void FakeOAuthServer::HandleCopilotToken(const RecordedRequest& request,
                                         httplib::Response& response) {
  const std::string github_token = AuthorizationCredential(request, /*allow_token_scheme=*/true);
  const std::optional<CopilotToken> copilot =
      github_token.empty() ? std::nullopt : tokens_.ExchangeGithubToken(github_token);
  if (!copilot.has_value()) {
    ReplyJson(response, 401, {{"message", "Bad credentials"}});
    return;
  }
  ReplyJson(response, 200,
            {
                {"token", copilot->token},
                {"expires_at", copilot->expires_at},
                {"refresh_in", copilot->refresh_in},
            });
}

void FakeOAuthServer::HandleLoadCodeAssist(const RecordedRequest& request,
                                           httplib::Response& response) {
  if (!tokens_.IsAccessTokenValid(AuthorizationCredential(request, false))) {
    ReplyCodeAssist(response, GoogleError(401, "UNAUTHENTICATED", kUnauthenticatedMessage));
    return;
  }
  ReplyCodeAssist(response, code_assist_.LoadCodeAssist(request.json_body));
}

void FakeOAuthServer::HandleOnboardUser(const RecordedRequest& request,
                                        httplib::Response& response) {
  if (!tokens_.IsAccessTokenValid(AuthorizationCredential(request, false))) {
    ReplyCodeAssist(response, GoogleError(401, "UNAUTHENTICATED", kUnauthenticatedMessage));
    return;
  }
  ReplyCodeAssist(response, code_assist_.OnboardUser(request.json_body));
}

void FakeOAuthServer::HandleCodeAssistOperation(const RecordedRequest& request,
                                                httplib::Response& response) {
  if (!tokens_.IsAccessTokenValid(AuthorizationCredential(request, false))) {
    ReplyCodeAssist(response, GoogleError(401, "UNAUTHENTICATED", kUnauthenticatedMessage));
    return;
  }
  // The route matched /v1internal/operations/<id>; the operation's name is what follows
  // /v1internal/.
  const std::string name = request.path.substr(std::strlen(kCodeAssistApiPrefix));
  ReplyCodeAssist(response, code_assist_.GetOperation(name));
}

void FakeOAuthServer::HandleCopilotModels(const RecordedRequest& request,
                                          httplib::Response& response) {
  if (!tokens_.IsCopilotTokenValid(AuthorizationCredential(request, false))) {
    ReplyCopilotError(response, 401, "unauthorized: Copilot token invalid or expired");
    return;
  }
  if (Header(request, kEditorVersionHeader).empty() ||
      Header(request, kIntegrationIdHeader).empty()) {
    ReplyCopilotError(response, 400, "Editor-Version and Copilot-Integration-Id are required");
    return;
  }
  ReplyJson(response, 200, copilot_models_.ListReply());
}

void FakeOAuthServer::HandleCopilotModelPolicy(const RecordedRequest& request,
                                               httplib::Response& response) {
  if (!tokens_.IsCopilotTokenValid(AuthorizationCredential(request, false))) {
    ReplyCopilotError(response, 401, "unauthorized: Copilot token invalid or expired");
    return;
  }
  if (Header(request, kOpenAiIntentHeader) != kChatPolicy ||
      Header(request, kInteractionTypeHeader) != kChatPolicy) {
    ReplyCopilotError(response, 400,
                      "openai-intent: chat-policy and x-interaction-type: chat-policy required");
    return;
  }
  // The route matched /models/<id>/policy.
  const size_t id_start = std::strlen(kCopilotModelsPrefix);
  const std::string model_id = request.path.substr(
      id_start, request.path.size() - id_start - std::strlen(kCopilotPolicySuffix));
  if (!copilot_models_.Contains(model_id)) {
    ReplyCopilotError(response, 404, "model not found: " + model_id);
    return;
  }
  const std::string state = JsonField(request, "state");
  if (!CopilotModels::IsPolicyState(state)) {
    ReplyCopilotError(response, 400,
                      R"(a JSON body {"state": "enabled"|"disabled"|"unconfigured"} is required)");
    return;
  }
  copilot_models_.SetPolicyState(model_id, state);
  ReplyJson(response, 200, nlohmann::json::object());
}

void FakeOAuthServer::HandleCodexUserCode(const RecordedRequest& request,
                                          httplib::Response& response) {
  const std::string client_id = JsonField(request, "client_id");
  if (client_id.empty()) {
    ReplyError(response, 400, "invalid_request", R"(a JSON body {"client_id": ...} is required)");
    return;
  }
  const CodexUserCode code = codex_device_.Start(client_id);
  // codex-rs deserializes interval from a string, as the real server sends it.
  ReplyJson(response, 200,
            {
                {"device_auth_id", code.device_auth_id},
                {"user_code", code.user_code},
                {"interval", std::to_string(code.interval_s)},
            });
}

void FakeOAuthServer::HandleCodexDeviceToken(const RecordedRequest& request,
                                             httplib::Response& response) {
  const std::string device_auth_id = JsonField(request, "device_auth_id");
  const std::string user_code = JsonField(request, "user_code");
  if (device_auth_id.empty() || user_code.empty()) {
    ReplyError(response, 400, "invalid_request",
               R"(a JSON body {"device_auth_id": ..., "user_code": ...} is required)");
    return;
  }
  const CodexDevicePoll poll = codex_device_.Poll(
      device_auth_id, user_code, absl::StrCat(base_url(), kCodexDeviceRedirectPath));
  switch (poll.state) {
    case CodexDevicePoll::State::kPending:
      // codex-rs reads only the status: 403 (or 404) means keep polling.
      ReplyError(response, 403, "authorization_pending");
      return;
    case CodexDevicePoll::State::kUnknown:
      ReplyError(response, 400, "invalid_grant", "device_auth_id unknown or already used");
      return;
    case CodexDevicePoll::State::kWrongUserCode:
      ReplyError(response, 400, "invalid_grant", "user_code does not match device_auth_id");
      return;
    case CodexDevicePoll::State::kApproved:
      ReplyJson(response, 200,
                {
                    {"authorization_code", poll.authorization_code},
                    {"code_challenge", poll.code_challenge},
                    {"code_verifier", poll.code_verifier},
                });
      return;
  }
}

void FakeOAuthServer::HandleUnknownPath(const RecordedRequest&, httplib::Response& response) {
  ReplyError(response, 404, "not_found");
}

}  // namespace operator_auth::testing
