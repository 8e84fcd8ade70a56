#include "tests/bench/closed_loop.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <utility>

#include <grpcpp/client_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>
#include <grpcpp/support/status.h>

namespace operator_auth::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Latencies one slot expects to record in a round; a hint only, vectors still grow past it.
constexpr size_t kReservedSamplesPerSlot = 1 << 15;

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::string out;
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

// One round: `outstanding` slots, each a chain of calls in which a call's completion callback
// starts the next. A slot's calls never overlap, so its fields need no lock; gRPC orders a
// call's start before its callback.
class Round {
 public:
  Round(grpc::GenericStub& stub, const UnaryMethod& method, int outstanding,
        const RoundLimit& limit, std::chrono::milliseconds call_deadline)
      : stub_(stub),
        method_(method),
        limit_(limit),
        call_deadline_(call_deadline),
        slots_(static_cast<size_t>(outstanding)) {
    for (Slot& slot : slots_) {
      slot.request = ToByteBuffer(method.request);
      slot.latencies_ns.reserve(kReservedSamplesPerSlot);
    }
  }

  RoundResult Run() {
    start_ = Clock::now();
    stop_starting_at_ = start_ + limit_.duration;
    unstarted_calls_.store(limit_.calls);
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_slots_ = static_cast<int>(slots_.size());
      last_completion_ = start_;
    }
    for (Slot& slot : slots_) {
      if (MayStart()) {
        StartCall(slot);
      } else {
        SlotFinished();
      }
    }
    Clock::time_point end;
    {
      std::unique_lock<std::mutex> lock(mu_);
      all_finished_.wait(lock, [this] { return running_slots_ == 0; });
      end = last_completion_;
    }

    RoundResult result;
    result.elapsed = end - start_;
    for (Slot& slot : slots_) {
      result.latencies_ns.insert(result.latencies_ns.end(), slot.latencies_ns.begin(),
                                 slot.latencies_ns.end());
      result.errors += slot.errors;
      if (result.first_error.empty()) result.first_error = slot.first_error;
    }
    return result;
  }

 private:
  struct Slot {
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    std::unique_ptr<grpc::ClientContext> context;
    Clock::time_point started;
    std::vector<int64_t> latencies_ns;
    int64_t errors = 0;
    std::string first_error;
  };

  bool MayStart() {
    if (limit_.calls > 0) return unstarted_calls_.fetch_sub(1, std::memory_order_relaxed) > 0;
    return Clock::now() < stop_starting_at_;
  }

  void StartCall(Slot& slot) {
    // A ClientContext serves one call. Replacing the previous one inside its own completion
    // callback is safe: gRPC holds its own reference to the finished call until the callback
    // returns.
    slot.context = std::make_unique<grpc::ClientContext>();
    slot.context->set_deadline(std::chrono::system_clock::now() + call_deadline_);
    slot.response.Clear();
    slot.started = Clock::now();
    stub_.UnaryCall(slot.context.get(), method_.path, grpc::StubOptions(), &slot.request,
                    &slot.response,
                    [this, &slot](const grpc::Status& status) { OnDone(slot, status); });
  }

  void OnDone(Slot& slot, const grpc::Status& status) {
    const Clock::time_point done = Clock::now();
    std::string problem;
    if (!status.ok()) {
      problem = "status " + std::to_string(static_cast<int>(status.error_code())) + ": " +
                status.error_message();
    } else {
      problem = method_.check(ToString(slot.response));
    }
    if (problem.empty()) {
      slot.latencies_ns.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(done - slot.started).count());
    } else {
      if (slot.errors == 0) slot.first_error = std::move(problem);
      ++slot.errors;
    }
    if (MayStart()) {
      StartCall(slot);
    } else {
      SlotFinished();
    }
  }

  // The last thing a slot does in the round. Notifying under the lock means Run() cannot return
  // (and destroy this Round) before this thread has let go of the mutex and condition variable.
  void SlotFinished() {
    std::lock_guard<std::mutex> lock(mu_);
    last_completion_ = std::max(last_completion_, Clock::now());
    if (--running_slots_ == 0) all_finished_.notify_all();
  }

  grpc::GenericStub& stub_;
  const UnaryMethod& method_;
  const RoundLimit limit_;
  const std::chrono::milliseconds call_deadline_;
  std::vector<Slot> slots_;
  Clock::time_point start_;
  Clock::time_point stop_starting_at_;
  std::atomic<int64_t> unstarted_calls_{0};

  std::mutex mu_;
  std::condition_variable all_finished_;
  int running_slots_ = 0;              // guarded by mu_
  Clock::time_point last_completion_;  // guarded by mu_
};

}  // namespace

ClosedLoop::ClosedLoop(std::shared_ptr<grpc::Channel> channel,
                       std::chrono::milliseconds call_deadline)
    : stub_(std::move(channel)), call_deadline_(call_deadline) {}

RoundResult ClosedLoop::Run(const UnaryMethod& method, int outstanding, const RoundLimit& limit) {
  Round round(stub_, method, outstanding, limit, call_deadline_);
  return round.Run();
}

}  // namespace operator_auth::bench
