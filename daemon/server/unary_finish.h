// How the unary callback services finish a call: at once on the gRPC thread, or after work that
// may block (a write waiting for a file lock) has run on the BlockingExecutor.
#pragma once

#include <functional>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "daemon/core/blocking_executor.h"
#include "daemon/server/call_tracker.h"
#include "daemon/server/request_counter.h"

namespace operator_auth {

// Finishes the call with `status` now, and counts it in `method`.
grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                    const absl::Status& status, RequestCounter::Slot& method);

// Runs `work` on `writes` and finishes the call with its status; RESOURCE_EXHAUSTED when the
// executor's queue is full. The call counts in `calls` until it has finished, and in `method`.
grpc::ServerUnaryReactor* FinishOnExecutor(grpc::CallbackServerContext* context,
                                           BlockingExecutor& writes, CallTracker& calls,
                                           RequestCounter::Slot& method,
                                           std::function<absl::Status()> work);

// The same for a call already tracked (its identity was needed first); `finished`, when set, is
// called with the status the call finishes with, whether the work ran or the queue was full.
grpc::ServerUnaryReactor* FinishOnExecutor(grpc::CallbackServerContext* context,
                                           BlockingExecutor& writes, CallTracker::Call call,
                                           RequestCounter::Slot& method,
                                           std::function<absl::Status()> work,
                                           std::function<void(const absl::Status&)> finished);

}  // namespace operator_auth
