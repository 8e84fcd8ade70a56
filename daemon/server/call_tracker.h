// Counts the service's calls in flight, so shutdown can wait for exactly those instead of for
// gRPC's grace deadline (which also waits for idle client connections to go away).
// Thread-safe; the hot path is one atomic increment and decrement.
#pragma once

#include <atomic>
#include <utility>

#include "absl/time/time.h"

namespace operator_auth {

class CallTracker {
 public:
  // Held for the life of one call; movable so it can follow the call onto another thread.
  class Call {
   public:
    explicit Call(CallTracker* tracker) : tracker_(tracker) { tracker_->Begin(); }
    Call(Call&& other) noexcept : tracker_(std::exchange(other.tracker_, nullptr)) {}
    Call& operator=(Call&&) = delete;
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    ~Call() {
      if (tracker_ != nullptr) tracker_->End();
    }

   private:
    CallTracker* tracker_;
  };

  Call Track() { return Call(this); }

  // Waits until no call is in flight or `timeout` passes; true when idle.
  bool WaitUntilIdle(absl::Duration timeout);

 private:
  void Begin() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void End() { in_flight_.fetch_sub(1, std::memory_order_release); }

  std::atomic<int> in_flight_{0};
};

}  // namespace operator_auth
