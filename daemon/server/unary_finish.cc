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
  return FinishOnExecutor(context, writes, calls.Track(context), method, std::move(work), nullptr);
}

grpc::ServerUnaryReactor* FinishOnExecutor(grpc::CallbackServerContext* context,
                                           BlockingExecutor& writes, CallTracker::Call call,
                                           RequestCounter::Slot& method,
                                           std::function<absl::Status()> work,
                                           std::function<void(const absl::Status&)> finished) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // `finished` is shared by the work item and the queue-full path; only one of them runs it.
  auto on_finish = std::make_shared<std::function<void(const absl::Status&)>>(std::move(finished));
  // The work item is move-only: the call guard moves in.
  bool queued =
      writes.Submit([reactor, work = std::move(work), call = std::move(call), &method, on_finish] {
        absl::Status status = work();
        method.Record(status.ok());
        if (*on_finish) (*on_finish)(status);
        reactor->Finish(ToGrpcStatus(status));
      });
  if (!queued) {
    const absl::Status full = absl::ResourceExhaustedError("too many writes are queued; try again");
    method.Record(false);
    if (*on_finish) (*on_finish)(full);
    reactor->Finish(ToGrpcStatus(full));
  }
  return reactor;
}

}  // namespace operator_auth
