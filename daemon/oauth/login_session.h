// One interactive OAuth login, from start to a stored credential, with no gRPC in it: the
// service feeds it the client's answers and forwards its events.
//  - Authorization code + PKCE: emits the authorize URL, listens on the provider's loopback
//    redirect (127.0.0.1 only) and accepts a pasted redirect URL / code#state / query / code at
//    the same time; whichever comes first wins, state checked.
//  - Device code: emits the user code and verification URI, polls at the provider's interval
//    (slow_down honoured) until approved, cancelled, or the code expires (the provider's
//    expires_in).
// Then the dialect's post-login steps run (OAuthClient::FinishLogin), whose notes are emitted as
// progress. Ends on success, error, Cancel(), or after the timeout; the loopback port is freed on
// every path. Thread-safe: Run() on one thread, Answer()/Cancel() from any other.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/core/credential.h"
#include "daemon/oauth/oauth_client.h"

namespace operator_auth {

inline constexpr absl::Duration kLoginTimeout = absl::Minutes(5);

struct LoginEvent {
  enum class Kind { kAuthUrl, kDeviceCode, kPrompt, kProgress };
  Kind kind = Kind::kProgress;
  std::string text;  // the URL, the prompt or the progress message
  std::string instructions;
  // kDeviceCode
  std::string user_code;
  std::string verification_uri;
  std::string verification_uri_complete;
  absl::Duration expires_in;
};

class LoginSession {
 public:
  using EventSink = std::function<void(const LoginEvent&)>;

  // `client` must outlive the session.
  LoginSession(OAuthClient& client, LoginOptions options, absl::Duration timeout = kLoginTimeout);

  // Runs the login and returns the credential to store. CANCELLED after Cancel(),
  // DEADLINE_EXCEEDED after the timeout, the provider's error otherwise. Call once.
  absl::StatusOr<Credential> Run(const EventSink& emit);

  // What the post-login steps reported; read after Run() returned.
  const std::vector<std::string>& notes() const { return notes_; }

  // Text the user pasted (redirect URL, code#state, query string or code).
  void Answer(std::string text);
  void Cancel();

 private:
  absl::StatusOr<Credential> RunAuthorizationCode(const EventSink& emit);
  absl::StatusOr<Credential> RunDeviceCode(const EventSink& emit);
  // Waits up to `timeout` for an answer or a cancel; returns the answer if one came.
  std::optional<std::string> WaitForAnswer(absl::Duration timeout);
  bool cancelled() const;

  OAuthClient& client_;
  const LoginOptions options_;
  const absl::Duration timeout_;
  std::vector<std::string> notes_;  // Run()'s thread only

  mutable absl::Mutex mu_;
  std::deque<std::string> answers_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// The port and path of a loopback redirect URI ("http://localhost:1455/auth/callback" ->
// 1455, "/auth/callback"). INVALID_ARGUMENT when it is not http on localhost/127.0.0.1.
struct LoopbackRedirect {
  int port = 0;
  std::string path;
};
absl::StatusOr<LoopbackRedirect> ParseLoopbackRedirect(absl::string_view redirect_uri);

}  // namespace operator_auth
