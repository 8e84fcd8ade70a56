// One Login stream: reads the client's start / answers / cancel, runs a LoginSession on its own
// thread (it waits on browsers, users and token endpoints), writes the session's events in
// order, stores the resulting credential, and finishes the stream. A client that cancels or
// disconnects cancels the session, which frees the loopback port. Deletes itself in OnDone.
// Bounded: a login needs a LoginSlots place (one per provider, a few in all); the stream sends
// at most kMaxEvents events, each text field at most kMaxTextBytes (provider-supplied text
// reduced to printable ASCII); a thread that cannot be started fails this login only.
#pragma once

#include <deque>
#include <memory>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "daemon/core/client_gate.h"
#include "daemon/core/login_slots.h"
#include "daemon/core/provider_auth_manager.h"
#include "daemon/oauth/login_session.h"
#include "daemon/oauth/provider_oauth_service.h"
#include "daemon/server/call_tracker.h"
#include "operator_auth/v1/auth.grpc.pb.h"

namespace operator_auth {

class LoginReactor : public grpc::ServerBidiReactor<v1::LoginRequest, v1::LoginEvent> {
 public:
  static constexpr size_t kMaxEvents = 64;
  static constexpr size_t kMaxTextBytes = 4096;

  // `call` is this stream's CallTracker guard, held until OnDone. `slots` outlives the server.
  // `gate` must allow the caller the provider of the start (client rules); it records the
  // login's outcome.
  LoginReactor(ProviderAuthManager& manager, ProviderOAuthService& oauth, LoginSlots& slots,
               ClientGate& gate, CallTracker::Call call);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  void StartSession(const v1::LoginStart& start);
  void RunSession(std::string provider);
  void Emit(v1::LoginEvent event);
  // Finishes once every queued event is written.
  void FinishWhenDrained(grpc::Status status);
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ProviderAuthManager& manager_;
  ProviderOAuthService& oauth_;
  LoginSlots& slots_;
  ClientGate& gate_;
  CallTracker::Call call_;
  std::string rule_;  // the client rule that matched, for the audit record
  v1::LoginRequest request_;

  absl::Mutex mu_;
  // Declared before the session, which refers to it.
  std::shared_ptr<OAuthClient> client_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<LoginSession> session_ ABSL_GUARDED_BY(mu_);
  LoginSlots::Slot slot_ ABSL_GUARDED_BY(mu_);  // released as soon as the session ends
  std::deque<v1::LoginEvent> queue_ ABSL_GUARDED_BY(mu_);
  size_t events_sent_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> finish_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  v1::LoginEvent in_flight_;  // the event being written; owned until OnWriteDone
  std::thread thread_;
};

}  // namespace operator_auth
