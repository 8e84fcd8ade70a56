#include "daemon/server/unary_finish.h"

#include <memory>

#include "daemon/server/status_conversion.h"

namespace operator_auth {

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                    const absl::Status& status, RequestCounter::Slot& method) {
  method.Record(status.ok());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* FinishOnExecutor(grpc::CallbackServerContext* context,
                                           BlockingExecutor& writes, CallTracker& calls,
                                           RequestCounter::Slot& method,
                                           std::function<absl::Status()> work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // The work item is move-only: the call guard moves in.
  bool queued = writes.Submit([reactor, work = std::move(work), call = calls.Track(context),
                               &method] {
    absl::Status status = work();
    method.Record(status.ok());
    reactor->Finish(ToGrpcStatus(status));
  });
  if (!queued) {
    method.Record(false);
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "too many writes are queued; try again"));
  }
  return reactor;
}

}  // namespace operator_auth
