#include "daemon/oauth/loopback_callback_server.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace operator_auth {
namespace {

constexpr char kLoopbackHost[] = "127.0.0.1";
constexpr int kMaxPort = 65535;
// Two workers: one for the browser, one for a stray request arriving at the same moment. Each
// connection serves one request and is closed, and a connection that sends nothing is dropped
// after a second, so Stop() never waits longer than that for a worker.
constexpr size_t kWorkerThreads = 2;
constexpr size_t kRequestsPerConnection = 1;
constexpr time_t kIdleConnectionSeconds = 1;  // httplib's keep-alive wait, whole seconds only
constexpr time_t kReadWriteTimeoutSeconds = 1;
constexpr size_t kMaxRequestBodyBytes = 4096;  // a callback is a GET; nothing reads a body

constexpr char kCompleteTitle[] = "Login complete";
constexpr char kCompleteMessage[] = "Login complete &mdash; you can close this tab.";
constexpr char kStaleMessage[] = "This login link is stale or was not started here.";
constexpr char kMalformedMessage[] = "This page expects the answer of a login you started.";
constexpr char kRefusedMessage[] =
    "The login was not completed. You can close this tab; the reason is shown where you started "
    "the login.";
constexpr char kEndedMessage[] = "This login has already ended. You can close this tab.";

// Plain SO_REUSEADDR: a restarted login can bind while the last one's connections sit in
// TIME_WAIT, but a second listener on the port fails. httplib's default sets SO_REUSEPORT
// instead, which would let two logins share the port and split the callbacks between them.
void SetListenerOptions(int fd) {
  const int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  fcntl(fd, F_SETFD, FD_CLOEXEC);
}

// A small self-contained page: no scripts, styles or other resources, nothing from the request.
void SetPage(httplib::Response& response, int status, absl::string_view title,
             absl::string_view message) {
  response.status = status;
  response.set_header("Cache-Control", "no-store");
  response.set_header("Referrer-Policy", "no-referrer");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("Content-Security-Policy", "default-src 'none'");
  response.set_content(
      absl::StrCat("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", title,
                   "</title></head>\n<body><p>", message, "</p></body></html>\n"),
      "text/html; charset=utf-8");
}

void SetText(httplib::Response& response, int status, absl::string_view text) {
  response.status = status;
  response.set_header("Cache-Control", "no-store");
  response.set_content(std::string(text), "text/plain; charset=utf-8");
}

absl::Status ProviderRefused(const AuthorizationResponse& response) {
  std::string message = absl::StrCat("the provider refused the login: ", response.error);
  if (!response.error_description.empty()) {
    absl::StrAppend(&message, " (", response.error_description, ")");
  }
  return absl::PermissionDeniedError(message);
}

}  // namespace

CallbackDecision DecideCallbackRequest(absl::string_view expected_path,
                                       absl::string_view expected_state, absl::string_view method,
                                       absl::string_view path, absl::string_view target) {
  CallbackDecision decision;
  if (path != expected_path) {
    decision.kind = CallbackDecision::Kind::kNotFound;
    return decision;
  }
  if (method != "GET") {
    decision.kind = CallbackDecision::Kind::kMethodNotAllowed;
    return decision;
  }
  // The raw query, as the provider encoded it; the parser decodes it once.
  const size_t question = target.find('?');
  const std::string query =
      question == absl::string_view::npos ? "?" : std::string(target.substr(question));
  absl::StatusOr<AuthorizationResponse> callback = ParseAuthorizationInput(query);
  if (!callback.ok()) {
    decision.kind = CallbackDecision::Kind::kMalformed;
    return decision;
  }
  // A wrong or missing state is a stale tab or a forged request: refuse it, keep waiting.
  if (!CheckState(*callback, expected_state, /*allow_missing_state=*/false).ok()) {
    decision.kind = CallbackDecision::Kind::kStaleState;
    return decision;
  }
  decision.kind = CallbackDecision::Kind::kEndsLogin;
  if (callback->error.empty()) {
    decision.outcome = *std::move(callback);
  } else {
    decision.outcome = ProviderRefused(*callback);
  }
  return decision;
}

absl::StatusOr<std::unique_ptr<LoopbackCallbackServer>> LoopbackCallbackServer::Start(
    int port, std::string path, std::string expected_state) {
  if (port < 0 || port > kMaxPort) {
    return absl::InvalidArgumentError(absl::StrCat("port ", port, " is out of range"));
  }
  if (path.empty() || path.front() != '/') {
    return absl::InvalidArgumentError("the callback path must start with '/'");
  }
  if (expected_state.empty()) {
    // Without a state any page the user visits could complete the login with its own code.
    return absl::InvalidArgumentError("a loopback login needs a state");
  }

  std::unique_ptr<LoopbackCallbackServer> server(
      new LoopbackCallbackServer(std::move(path), std::move(expected_state)));
  httplib::Server& http = *server->server_;
  http.set_address_family(AF_INET);
  http.set_socket_options(SetListenerOptions);
  http.new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  http.set_keep_alive_max_count(kRequestsPerConnection);
  http.set_keep_alive_timeout(kIdleConnectionSeconds);
  http.set_read_timeout(kReadWriteTimeoutSeconds);
  http.set_write_timeout(kReadWriteTimeoutSeconds);
  http.set_payload_max_length(kMaxRequestBodyBytes);
  // Every request, whatever its method or path, ends here: no routing table, no file serving.
  LoopbackCallbackServer* self = server.get();
  http.set_pre_routing_handler(
      [self](const httplib::Request& request, httplib::Response& response) {
        self->Handle(request, response);
        return httplib::Server::HandlerResponse::Handled;
      });

  errno = 0;
  const int bound = port == 0 ? http.bind_to_any_port(kLoopbackHost)
                              : (http.bind_to_port(kLoopbackHost, port) ? port : -1);
  if (bound <= 0) {
    const int error = errno;
    if (error == EADDRINUSE) {
      return absl::FailedPreconditionError(absl::StrCat("port ", port, " on ", kLoopbackHost,
                                                        " is in use (another login running?)"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot listen on ", kLoopbackHost, ":", port, ": ",
                     error != 0 ? std::strerror(error) : "socket, bind or listen failed"));
  }
  server->port_ = bound;

  server->thread_ = std::thread([self] {
    self->server_->listen_after_bind();
    {
      absl::MutexLock lock(&self->mu_);
      if (!self->stop_requested_ && !self->outcome_.has_value()) {
        self->outcome_ = absl::UnavailableError("the login callback listener stopped unexpectedly");
      }
    }
    self->listen_returned_ = true;
  });
  // httplib's stop() does nothing until listen has started, so Cancel() must not come earlier.
  while (!http.is_running() && !server->listen_returned_) {
    absl::SleepFor(absl::Microseconds(200));
  }
  return server;
}

LoopbackCallbackServer::LoopbackCallbackServer(std::string path, std::string expected_state)
    : path_(std::move(path)),
      expected_state_(std::move(expected_state)),
      server_(std::make_unique<httplib::Server>()) {}

LoopbackCallbackServer::~LoopbackCallbackServer() { Stop(); }

absl::StatusOr<AuthorizationResponse> LoopbackCallbackServer::Wait(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(this, &LoopbackCallbackServer::Ended), timeout);
  if (outcome_.has_value()) return *outcome_;
  if (cancelled_) return absl::CancelledError("the login was cancelled");
  return absl::DeadlineExceededError(
      absl::StrCat("no login callback arrived within ", absl::FormatDuration(timeout)));
}

void LoopbackCallbackServer::Cancel() {
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }
  StopListening();
}

void LoopbackCallbackServer::Stop() {
  Cancel();
  absl::MutexLock lock(&join_mu_);
  if (thread_.joinable()) thread_.join();
}

void LoopbackCallbackServer::StopListening() {
  {
    absl::MutexLock lock(&mu_);
    if (stop_requested_) return;
    stop_requested_ = true;
  }
  // Closes the listening socket; the server thread then drains its workers and returns.
  server_->stop();
}

bool LoopbackCallbackServer::Ended() const { return outcome_.has_value() || cancelled_; }

void LoopbackCallbackServer::Handle(const httplib::Request& request, httplib::Response& response) {
  const CallbackDecision decision =
      DecideCallbackRequest(path_, expected_state_, request.method, request.path, request.target);
  switch (decision.kind) {
    case CallbackDecision::Kind::kNotFound:
      SetText(response, 404, "Not found.\n");
      return;
    case CallbackDecision::Kind::kMethodNotAllowed:
      response.set_header("Allow", "GET");
      SetText(response, 405, "Method not allowed.\n");
      return;
    case CallbackDecision::Kind::kMalformed:
      SetPage(response, 400, "Login not completed", kMalformedMessage);
      return;
    case CallbackDecision::Kind::kStaleState:
      SetPage(response, 400, "Login not completed", kStaleMessage);
      return;
    case CallbackDecision::Kind::kEndsLogin:
      break;
  }
  {
    absl::MutexLock lock(&mu_);
    if (Ended()) {
      SetPage(response, 409, "Login ended", kEndedMessage);
      return;
    }
    outcome_ = decision.outcome;
  }
  if (decision.outcome.ok()) {
    SetPage(response, 200, kCompleteTitle, kCompleteMessage);
  } else {
    SetPage(response, 200, "Login not completed", kRefusedMessage);
  }
  StopListening();
}

}  // namespace operator_auth
