// Counts the service's calls in flight, so shutdown can wait for exactly those instead of for
// gRPC's grace deadline (which also waits for idle client connections to go away), and tells
// the ConnectionTable which connection each call is on, so that the connection cap sheds idle
// connections and not busy ones. gRPC names a connection the listener handed over by its fd
// ("fd:N", grpc::AddInsecureChannelFromFd); calls of the health and reflection services are not
// tracked, so a connection that makes only those looks idle.
// Thread-safe; the hot path is one atomic increment and decrement, the peer name and two short
// ConnectionTable lock holds.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/core/connection_table.h"

namespace operator_auth {

// The fd number in a gRPC peer name "fd:N"; nullopt for any other peer.
std::optional<int> PeerFd(absl::string_view peer);

class CallTracker {
 public:
  // Held for the life of one call; movable so it can follow the call onto another thread.
  class Call {
   public:
    Call(CallTracker* tracker, ConnectionTable::Call connection)
        : tracker_(tracker), connection_(std::move(connection)) {
      tracker_->Begin();
    }
    Call(Call&& other) noexcept
        : tracker_(std::exchange(other.tracker_, nullptr)),
          connection_(std::move(other.connection_)) {}
    Call& operator=(Call&&) = delete;
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    ~Call() {
      if (tracker_ != nullptr) tracker_->End();
    }

    // The caller's identity, read when its connection was accepted (ConnectionTable); null
    // when unknown.
    const PeerIdentityPtr& identity() const { return connection_.identity(); }

   private:
    CallTracker* tracker_;
    ConnectionTable::Call connection_;
  };

  // `connections` may be null (no connection cap); it must outlive the tracker.
  explicit CallTracker(ConnectionTable* connections = nullptr) : connections_(connections) {}

  // A unary call or a login on `context`'s connection: shutdown waits for it.
  Call Track(const grpc::ServerContextBase* context) {
    return Call(this, OnConnection(context, ConnectionTable::CallKind::kUnary));
  }
  // A long-lived stream (WatchApiKey): marks its connection busy for the cap, but shutdown does
  // not wait for it.
  ConnectionTable::Call TrackStream(const grpc::ServerContextBase* context) {
    return OnConnection(context, ConnectionTable::CallKind::kStream);
  }

  // Waits until no call is in flight or `timeout` passes; true when idle.
  bool WaitUntilIdle(absl::Duration timeout);

 private:
  void Begin() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void End() { in_flight_.fetch_sub(1, std::memory_order_release); }

  ConnectionTable::Call OnConnection(const grpc::ServerContextBase* context,
                                     ConnectionTable::CallKind kind);

  ConnectionTable* const connections_;
  std::atomic<int> in_flight_{0};
};

}  // namespace operator_auth
