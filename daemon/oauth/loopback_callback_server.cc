#include "daemon/oauth/loopback_callback_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "daemon/core/thread_start.h"

namespace operator_auth {
namespace {

constexpr char kLoopbackHost[] = "127.0.0.1";
constexpr int kMaxPort = 65535;
constexpr int kListenBacklog = 16;
constexpr absl::Duration kAcceptPause = absl::Milliseconds(50);
// After the answer is sent: how long a client may take to hang up before it is closed (closing
// at once with its unread bytes pending would reset the connection and lose the page).
constexpr absl::Duration kLingerAfterAnswer = absl::Milliseconds(500);

constexpr char kCompleteTitle[] = "Login complete";
constexpr char kCompleteMessage[] = "Login complete &mdash; you can close this tab.";
constexpr char kStaleMessage[] = "This login link is stale or was not started here.";
constexpr char kMalformedMessage[] = "This page expects the answer of a login you started.";
constexpr char kRefusedMessage[] =
    "The login was not completed. You can close this tab; the reason is shown where you started "
    "the login.";
constexpr char kEndedMessage[] = "This login has already ended. You can close this tab.";

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return "Error";
  }
}

std::string HttpResponse(int status, absl::string_view content_type, absl::string_view headers,
                         absl::string_view body) {
  return absl::StrCat("HTTP/1.1 ", status, " ", ReasonPhrase(status),
                      "\r\nCache-Control: no-store\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n", headers,
                      "\r\n", body);
}

// A small self-contained page: no scripts, styles or other resources, nothing from the request.
std::string Page(int status, absl::string_view title, absl::string_view message) {
  return HttpResponse(
      status, "text/html; charset=utf-8",
      "Referrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\n"
      "Content-Security-Policy: default-src 'none'\r\n",
      absl::StrCat("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", title,
                   "</title></head>\n<body><p>", message, "</p></body></html>\n"));
}

std::string Text(int status, absl::string_view text, absl::string_view headers = "") {
  return HttpResponse(status, "text/plain; charset=utf-8", headers, text);
}

// The path of a request target, percent-decoded once ('+' stays: it is not a space in a path).
std::string DecodedPath(absl::string_view target) {
  const absl::string_view path = target.substr(0, target.find('?'));
  std::string decoded;
  decoded.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && absl::ascii_isxdigit(path[i + 1]) &&
        absl::ascii_isxdigit(path[i + 2])) {
      auto nibble = [](char c) { return absl::ascii_isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10; };
      decoded.push_back(static_cast<char>(nibble(path[i + 1]) * 16 + nibble(path[i + 2])));
      i += 2;
    } else {
      decoded.push_back(path[i]);
    }
  }
  return decoded;
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
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

struct LoopbackCallbackServer::Client {
  int fd = -1;
  absl::Time deadline;
  std::string received;
  std::string answer;  // the response, once the head is complete
  size_t sent = 0;
  bool answered() const { return !answer.empty(); }
};

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

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot listen on ", kLoopbackHost, ":", port, ": ", std::strerror(errno)));
  }
  // Plain SO_REUSEADDR: a restarted login can bind while the last one's connections sit in
  // TIME_WAIT, but a second listener on the port fails. SO_REUSEPORT would let two logins share
  // the port and split the callbacks between them.
  const int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, kListenBacklog) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int error = errno;
    close(fd);
    if (error == EADDRINUSE) {
      return absl::FailedPreconditionError(absl::StrCat("port ", port, " on ", kLoopbackHost,
                                                        " is in use (another login running?)"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot listen on ", kLoopbackHost, ":", port, ": ", std::strerror(error)));
  }
  const int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    const int error = errno;
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot listen on ", kLoopbackHost, ":", port, ": ", std::strerror(error)));
  }
  std::unique_ptr<LoopbackCallbackServer> server(
      new LoopbackCallbackServer(std::move(path), std::move(expected_state), fd, wake));
  server->port_ = ntohs(address.sin_port);
  LoopbackCallbackServer* self = server.get();
  {
    absl::MutexLock lock(&self->mu_);
    self->thread_running_ = true;
  }
  absl::StatusOr<std::thread> thread =
      StartThread("the login callback listener", [self] { self->Serve(); });
  if (!thread.ok()) {
    absl::MutexLock lock(&self->mu_);
    self->thread_running_ = false;
    return thread.status();  // the destructor closes both descriptors
  }
  server->thread_ = *std::move(thread);
  return server;
}

LoopbackCallbackServer::LoopbackCallbackServer(std::string path, std::string expected_state,
                                               int listen_fd, int wake_fd)
    : path_(std::move(path)),
      expected_state_(std::move(expected_state)),
      listen_fd_(listen_fd),
      wake_fd_(wake_fd) {}

LoopbackCallbackServer::~LoopbackCallbackServer() {
  Stop();
  CloseFd(listen_fd_);  // still open only when the thread never started
  close(wake_fd_);
}

absl::StatusOr<AuthorizationResponse> LoopbackCallbackServer::Wait(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(this, &LoopbackCallbackServer::Ended), timeout);
  if (outcome_.has_value()) return *outcome_;
  if (cancelled_) return absl::CancelledError("the login was cancelled");
  return absl::DeadlineExceededError(
      absl::StrCat("no login callback arrived within ", absl::FormatDuration(timeout)));
}

void LoopbackCallbackServer::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (!thread_running_) return;
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) < 0) {
    // An eventfd write fails only when its counter is full, i.e. the thread is awake anyway.
  }
  // The server thread closes the listener as soon as it wakes; it never blocks elsewhere.
  auto closed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return listener_closed_ || !thread_running_;
  };
  mu_.Await(absl::Condition(&closed));
}

void LoopbackCallbackServer::Stop() {
  Cancel();
  absl::MutexLock lock(&join_mu_);
  if (thread_.joinable()) thread_.join();
}

bool LoopbackCallbackServer::Ended() const { return outcome_.has_value() || cancelled_; }

void LoopbackCallbackServer::CloseListener() {
  CloseFd(listen_fd_);
  absl::MutexLock lock(&mu_);
  listener_closed_ = true;
}

void LoopbackCallbackServer::Serve() {
  std::vector<Client> clients;
  std::vector<pollfd> fds;
  absl::Time accept_paused_until = absl::InfinitePast();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_) break;
    }
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    const bool accepting = listen_fd_ >= 0 && absl::Now() >= accept_paused_until;
    fds.push_back({listen_fd_, static_cast<short>(accepting ? POLLIN : 0), 0});
    absl::Time next_deadline = accepting ? absl::InfiniteFuture() : accept_paused_until;
    for (const Client& client : clients) {
      const bool writing = client.answered() && client.sent < client.answer.size();
      fds.push_back({client.fd, static_cast<short>(writing ? POLLOUT : POLLIN), 0});
      next_deadline = std::min(next_deadline, client.deadline);
    }
    int timeout_ms = -1;
    if (next_deadline != absl::InfiniteFuture()) {
      timeout_ms = static_cast<int>(std::clamp<int64_t>(
          absl::ToInt64Milliseconds(next_deadline - absl::Now()) + 1, 0, 60'000));
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) break;  // Cancel() or Stop()
    const absl::Time now = absl::Now();
    std::vector<Client> kept;
    kept.reserve(clients.size());
    for (size_t i = 0; i < clients.size(); ++i) {
      Client& client = clients[i];
      bool keep = true;
      // The deadline first: a client trickling a byte at a time is readable on every round.
      if (now >= client.deadline) {
        if (!client.answered()) ++timed_out_;
        keep = false;
      } else if (fds[i + 2].revents != 0) {
        keep = ReadRequest(client);
      }
      if (keep) {
        kept.push_back(std::move(client));
      } else {
        CloseFd(client.fd);
      }
    }
    clients = std::move(kept);
    if (listen_fd_ >= 0 && (fds[1].revents & POLLIN) != 0 && !AcceptClients(clients)) {
      // Out of descriptors: the listener stays readable, so leave it out of poll for a moment
      // instead of spinning on it.
      accept_paused_until = now + kAcceptPause;
    }
  }
  // Whatever clients were doing, they are closed now; an answer still being written gets one
  // last non-blocking try.
  for (Client& client : clients) {
    if (client.answered() && client.sent < client.answer.size()) {
      send(client.fd, client.answer.data() + client.sent, client.answer.size() - client.sent,
           MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    CloseFd(client.fd);
  }
  CloseListener();
  absl::MutexLock lock(&mu_);
  if (!cancelled_ && !outcome_.has_value()) {
    outcome_ = absl::UnavailableError("the login callback listener stopped unexpectedly");
  }
  thread_running_ = false;
}

bool LoopbackCallbackServer::AcceptClients(std::vector<Client>& clients) {
  while (true) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM;
    if (clients.size() >= kMaxConnections) {
      ++refused_;
      close(fd);
      continue;
    }
    Client client;
    client.fd = fd;
    client.deadline = absl::Now() + kRequestDeadline;
    clients.push_back(std::move(client));
  }
}

bool LoopbackCallbackServer::ReadRequest(Client& client) {
  char buffer[2048];
  if (!client.answered()) {
    const ssize_t n = recv(client.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    client.received.append(buffer, static_cast<size_t>(n));
    const size_t end = client.received.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (client.received.size() <= kMaxRequestHeadBytes) return true;
      ++timed_out_;
      client.answer = Text(431, "Request too large.\n");
    } else {
      client.answer = Respond(absl::string_view(client.received).substr(0, end));
    }
    client.received.clear();
    client.received.shrink_to_fit();
  } else if (client.sent >= client.answer.size()) {
    // Answered; waiting for the client to hang up. Whatever it still sends is dropped.
    const ssize_t n = recv(client.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
  }
  const ssize_t n = send(client.fd, client.answer.data() + client.sent,
                         client.answer.size() - client.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  client.sent += static_cast<size_t>(n);
  if (client.sent >= client.answer.size()) {
    shutdown(client.fd, SHUT_WR);
    client.deadline = std::min(client.deadline, absl::Now() + kLingerAfterAnswer);
  }
  return true;
}

std::string LoopbackCallbackServer::Respond(absl::string_view head) {
  // "METHOD SP target SP HTTP/x.y" is the first line; the headers mean nothing here.
  const absl::string_view request_line = head.substr(0, head.find("\r\n"));
  std::vector<absl::string_view> parts = absl::StrSplit(request_line, ' ');
  if (parts.size() != 3 || parts[1].empty() || !absl::StartsWith(parts[2], "HTTP/1.")) {
    return Text(400, "Bad request.\n");
  }
  const absl::string_view method = parts[0];
  const absl::string_view target = parts[1];
  const CallbackDecision decision =
      DecideCallbackRequest(path_, expected_state_, method, DecodedPath(target), target);
  switch (decision.kind) {
    case CallbackDecision::Kind::kNotFound:
      return Text(404, "Not found.\n");
    case CallbackDecision::Kind::kMethodNotAllowed:
      return Text(405, "Method not allowed.\n", "Allow: GET\r\n");
    case CallbackDecision::Kind::kMalformed:
      return Page(400, "Login not completed", kMalformedMessage);
    case CallbackDecision::Kind::kStaleState:
      return Page(400, "Login not completed", kStaleMessage);
    case CallbackDecision::Kind::kEndsLogin:
      break;
  }
  {
    absl::MutexLock lock(&mu_);
    if (Ended()) return Page(409, "Login ended", kEndedMessage);
    outcome_ = decision.outcome;
  }
  // No second callback may find a listener once this one ended the login.
  CloseListener();
  return decision.outcome.ok() ? Page(200, kCompleteTitle, kCompleteMessage)
                               : Page(200, "Login not completed", kRefusedMessage);
}

}  // namespace operator_auth
