// The loopback HTTP server a browser is redirected to at the end of an authorization-code login
// (RFC 8252 7.3). It listens on 127.0.0.1 only, answers GET <path>, and ends the login on the
// first callback whose state matches; a stray or forged request (wrong or no state) gets a 400
// page and the login keeps waiting. Pages never echo the code.
//
// Anyone on the host can connect to the port, so it is bounded: one thread polls the listener
// and at most kMaxConnections clients (more are closed at once); a client has kRequestDeadline
// from accept to send its request head (at most kMaxRequestHeadBytes), else it is closed, so a
// slow-loris client holds a place for two seconds at most. Stop() and Cancel() wake that thread
// and return in milliseconds whatever is connected. One connection, one request, then close.
// Thread-safe. The server thread never outlives the object: the destructor stops and joins it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/oauth/authorization_response.h"

namespace operator_auth {

// What one request to the loopback server amounts to, decided from the request alone (the
// server then checks whether the login already ended). Pure data.
struct CallbackDecision {
  enum class Kind {
    kNotFound,          // another path: 404
    kMethodNotAllowed,  // the path, but not GET: 405
    kMalformed,         // no usable code or error in the query: 400
    kStaleState,        // a wrong or missing state: 400, the login keeps waiting
    kEndsLogin,         // the state matches: `outcome` ends the login
  };
  Kind kind = Kind::kNotFound;
  // kEndsLogin only: the response (with a non-empty code), or PERMISSION_DENIED naming the
  // provider's error and description.
  absl::StatusOr<AuthorizationResponse> outcome = absl::UnknownError("no outcome");
};

// The decision for a request with `method`, decoded `path` and raw `target` (path and query as
// sent), for a server that expects GET `expected_path` with `expected_state`. Thread-safe.
CallbackDecision DecideCallbackRequest(absl::string_view expected_path,
                                       absl::string_view expected_state, absl::string_view method,
                                       absl::string_view path, absl::string_view target);

class LoopbackCallbackServer {
 public:
  static constexpr size_t kMaxConnections = 8;
  static constexpr size_t kMaxRequestHeadBytes = 8192;
  static constexpr absl::Duration kRequestDeadline = absl::Seconds(2);

  // Binds 127.0.0.1:<port> now (port 0: any free port). FAILED_PRECONDITION naming the port when
  // it is taken; INVALID_ARGUMENT for a port out of range, a path not starting with '/', or an
  // empty expected state.
  static absl::StatusOr<std::unique_ptr<LoopbackCallbackServer>> Start(int port, std::string path,
                                                                       std::string expected_state);
  ~LoopbackCallbackServer();  // Stop()
  LoopbackCallbackServer(const LoopbackCallbackServer&) = delete;
  LoopbackCallbackServer& operator=(const LoopbackCallbackServer&) = delete;

  int port() const { return port_; }

  // Blocks until a callback with the right state arrived (returns it, with a non-empty code), or
  // Cancel()/Stop() was called (CANCELLED), or `timeout` passed (DEADLINE_EXCEEDED; the server
  // keeps listening). A callback carrying ?error= returns PERMISSION_DENIED with the provider's
  // error code and description. Once the login has ended, every call returns the same outcome.
  absl::StatusOr<AuthorizationResponse> Wait(absl::Duration timeout);

  // Makes Wait() return CANCELLED and closes the listening socket and every connection, so the
  // port is free when Cancel() returns (within milliseconds). A callback that already arrived
  // still wins.
  void Cancel();
  // Cancel(), then joins the server thread; milliseconds whatever clients do. Idempotent.
  void Stop();

  // Connections closed at once because kMaxConnections were open, and connections closed for
  // missing kRequestDeadline or sending too much; for tests and logs.
  uint64_t refused_connections() const { return refused_.load(); }
  uint64_t timed_out_connections() const { return timed_out_.load(); }

 private:
  struct Client;

  LoopbackCallbackServer(std::string path, std::string expected_state, int listen_fd, int wake_fd);

  void Serve();
  // Takes every pending connection; false when out of descriptors.
  bool AcceptClients(std::vector<Client>& clients);
  // Reads what `client` sent; once the request head is complete, answers it. False: close it.
  bool ReadRequest(Client& client);
  // The full HTTP response to one request head; may end the login.
  std::string Respond(absl::string_view head);
  void CloseListener();
  bool Ended() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ListenerClosed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return listener_closed_; }

  const std::string path_;
  const std::string expected_state_;
  int listen_fd_ = -1;  // the server thread's; closed by it
  const int wake_fd_;   // eventfd: Cancel() and Stop() wake the server thread
  int port_ = 0;
  std::thread thread_;
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> timed_out_{0};

  absl::Mutex mu_;
  std::optional<absl::StatusOr<AuthorizationResponse>> outcome_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool listener_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool thread_running_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex join_mu_;  // serialises Stop()'s join
};

}  // namespace operator_auth
