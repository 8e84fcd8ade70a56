// Drives one unary method on a shared channel with exactly `outstanding` calls in flight: each
// completion records its latency and starts the slot's next call from its callback (a closed
// loop), so the server sees a constant concurrency and no client thread sits between calls.
// The floor RPC and GetApiKey both go through this one generic-stub path with pre-serialized
// requests, so the client-side cost is the same for both (as long as their `check`s cost alike:
// authd_bench compares bytes for both) and any difference is the server's.
// Run() blocks until the round is over; one Run() at a time per ClosedLoop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/generic/generic_stub.h>

namespace operator_auth::bench {

// A unary method called with raw bytes.
struct UnaryMethod {
  std::string name;     // for the report, e.g. "GetApiKey"
  std::string path;     // e.g. "/operator_auth.v1.AuthService/GetApiKey"
  std::string request;  // the serialized request, sent unchanged on every call
  // Empty when `response` (serialized) is the expected answer, else what is wrong with it. Runs
  // on gRPC's callback threads, concurrently; must not echo secrets.
  std::function<std::string(const std::string& response)> check;
};

// When a round stops starting calls: after `calls` calls when non-zero, else once `duration`
// has passed since the round began. Calls already in flight then finish.
struct RoundLimit {
  int64_t calls = 0;
  std::chrono::nanoseconds duration{0};
};

struct RoundResult {
  std::vector<int64_t> latencies_ns;    // one per call that succeeded, in no particular order
  std::chrono::nanoseconds elapsed{0};  // from the round's start to its last completion
  int64_t errors = 0;                   // failed statuses and unexpected responses
  std::string first_error;              // empty when errors == 0
};

class ClosedLoop {
 public:
  // Every call carries `call_deadline`, as the real client's calls do, so a stuck daemon ends
  // the round with errors instead of hanging it.
  ClosedLoop(std::shared_ptr<grpc::Channel> channel, std::chrono::milliseconds call_deadline);

  RoundResult Run(const UnaryMethod& method, int outstanding, const RoundLimit& limit);

 private:
  grpc::GenericStub stub_;
  std::chrono::milliseconds call_deadline_;
};

}  // namespace operator_auth::bench
