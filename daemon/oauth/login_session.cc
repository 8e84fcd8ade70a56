#include "daemon/oauth/login_session.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "daemon/oauth/authorization_response.h"
#include "daemon/oauth/loopback_callback_server.h"
#include "daemon/oauth/pkce.h"

namespace operator_auth {
namespace {

// How often the session looks at the callback server between answers.
constexpr absl::Duration kTick = absl::Milliseconds(100);

}  // namespace

absl::StatusOr<LoopbackRedirect> ParseLoopbackRedirect(absl::string_view redirect_uri) {
  absl::string_view rest = redirect_uri;
  if (!absl::ConsumePrefix(&rest, "http://")) {
    return absl::InvalidArgumentError("redirect_uri must be an http:// loopback URL");
  }
  size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  LoopbackRedirect out;
  out.path = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (size_t q = out.path.find('?'); q != std::string::npos) out.path.resize(q);
  size_t colon = authority.rfind(':');
  absl::string_view host = authority.substr(0, colon);
  if (host != "localhost" && host != "127.0.0.1") {
    return absl::InvalidArgumentError("redirect_uri must point at localhost or 127.0.0.1");
  }
  if (colon == absl::string_view::npos) {
    out.port = 80;
  } else if (!absl::SimpleAtoi(authority.substr(colon + 1), &out.port) || out.port <= 0 ||
             out.port > 65535) {
    return absl::InvalidArgumentError("redirect_uri has no valid port");
  }
  return out;
}

LoginSession::LoginSession(OAuthClient& client, LoginOptions options, absl::Duration timeout)
    : client_(client), options_(std::move(options)), timeout_(timeout) {}

void LoginSession::Answer(std::string text) {
  absl::MutexLock lock(&mu_);
  answers_.push_back(std::move(text));
}

void LoginSession::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
}

bool LoginSession::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

std::optional<std::string> LoginSession::WaitForAnswer(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]()
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return cancelled_ || !answers_.empty(); };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (answers_.empty()) return std::nullopt;
  std::string answer = std::move(answers_.front());
  answers_.pop_front();
  return answer;
}

absl::StatusOr<Credential> LoginSession::Run(const EventSink& emit) {
  absl::StatusOr<bool> device = client_.UsesDeviceFlow(options_);
  if (!device.ok()) return device.status();
  if (std::string terms = client_.TermsNotice(); !terms.empty()) {
    LoginEvent notice;
    notice.kind = LoginEvent::Kind::kProgress;
    notice.text = std::move(terms);
    emit(notice);
  }
  absl::StatusOr<Credential> credential =
      *device ? RunDeviceCode(emit) : RunAuthorizationCode(emit);
  if (!credential.ok()) return credential;
  absl::StatusOr<Credential> finished = client_.FinishLogin(*std::move(credential), notes_);
  for (const std::string& note : notes_) {
    LoginEvent event;
    event.kind = LoginEvent::Kind::kProgress;
    event.text = note;
    emit(event);
  }
  return finished;
}

absl::StatusOr<Credential> LoginSession::RunAuthorizationCode(const EventSink& emit) {
  const OAuthProviderConfig& config = client_.config();
  PkcePair pkce = GeneratePkce();
  // Its own random value for every provider: the verifier must never appear in a URL, as it
  // would if it doubled as state (pi-mono's anthropic.ts does that; Claude Code does not).
  const std::string state = RandomUrlSafeToken(32);

  absl::StatusOr<LoopbackRedirect> redirect = ParseLoopbackRedirect(config.redirect_uri);
  std::unique_ptr<LoopbackCallbackServer> callback;
  std::string callback_problem;
  if (redirect.ok()) {
    absl::StatusOr<std::unique_ptr<LoopbackCallbackServer>> started =
        LoopbackCallbackServer::Start(redirect->port, redirect->path, state);
    if (started.ok()) {
      callback = *std::move(started);
    } else {
      callback_problem = std::string(started.status().message());
    }
  } else {
    callback_problem = std::string(redirect.status().message());
  }

  LoginEvent url;
  url.kind = LoginEvent::Kind::kAuthUrl;
  url.text = client_.AuthorizeUrl(pkce.challenge, state);
  url.instructions = callback != nullptr
                         ? "Open this URL in a browser on this machine and approve the login."
                         : absl::StrCat("Open this URL in a browser and approve the login (",
                                        callback_problem, "; paste the result below).");
  emit(url);
  LoginEvent prompt;
  prompt.kind = LoginEvent::Kind::kPrompt;
  prompt.text =
      "If the browser cannot reach this machine, paste the redirect URL (or the code) "
      "it ends on:";
  emit(prompt);

  const absl::Time deadline = absl::Now() + timeout_;
  AuthorizationResponse response;
  while (true) {
    if (cancelled()) return absl::CancelledError("login cancelled");
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no answer within ", absl::FormatDuration(timeout_), "; start the login again"));
    }
    if (callback != nullptr) {
      absl::StatusOr<AuthorizationResponse> got = callback->Wait(absl::Milliseconds(1));
      if (got.ok()) {
        response = *std::move(got);
        break;
      }
      if (absl::IsPermissionDenied(got.status())) return got.status();
    }
    std::optional<std::string> pasted = WaitForAnswer(kTick);
    if (!pasted.has_value()) continue;
    absl::StatusOr<AuthorizationResponse> parsed = ParseAuthorizationInput(*pasted);
    absl::Status valid =
        parsed.ok() ? CheckState(*parsed, state, /*allow_missing_state=*/true) : parsed.status();
    if (!valid.ok()) {
      LoginEvent again;
      again.kind = LoginEvent::Kind::kPrompt;
      again.text = absl::StrCat(valid.message(), ". Paste the redirect URL or code again:");
      emit(again);
      continue;
    }
    response = *std::move(parsed);
    break;
  }
  if (callback != nullptr) callback->Stop();  // free the port before the exchange
  if (!response.error.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("the provider refused the login: ", response.error));
  }
  LoginEvent progress;
  progress.kind = LoginEvent::Kind::kProgress;
  progress.text = "Exchanging the authorization code for tokens...";
  emit(progress);
  return client_.ExchangeCode(response.code, pkce.verifier, state);
}

absl::StatusOr<Credential> LoginSession::RunDeviceCode(const EventSink& emit) {
  absl::StatusOr<DeviceAuthorization> device = client_.StartDeviceAuthorization(options_);
  if (!device.ok()) return device.status();
  LoginEvent code;
  code.kind = LoginEvent::Kind::kDeviceCode;
  code.user_code = device->user_code;
  code.verification_uri = device->verification_uri;
  code.verification_uri_complete = device->verification_uri_complete;
  code.expires_in = device->expires_in;
  code.instructions =
      absl::StrCat("Open ", device->verification_uri, " and enter the code ", device->user_code);
  emit(code);

  // The code lives as long as the provider said (GitHub: 15 min), however short the session's
  // own timeout for pasted answers is.
  const absl::Time deadline = absl::Now() + device->expires_in;
  absl::Duration interval = device->interval;
  while (true) {
    // Sleep the interval, but wake for a cancel at once.
    const absl::Time next_poll = absl::Now() + interval;
    while (absl::Now() < next_poll) {
      if (cancelled()) return absl::CancelledError("login cancelled");
      WaitForAnswer(std::min(kTick, next_poll - absl::Now()));  // answers mean nothing here
    }
    if (cancelled()) return absl::CancelledError("login cancelled");
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError("the device code expired; start the login again");
    }
    absl::StatusOr<std::optional<Credential>> polled =
        client_.PollDeviceAuthorization(*device, options_, interval);
    if (!polled.ok()) return polled.status();
    if (polled->has_value()) return **polled;
  }
}

}  // namespace operator_auth
