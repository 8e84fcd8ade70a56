// operator_auth.v1.ChannelService over the callback API: translates proto <-> ChannelAuthManager
// and nothing else. Reads answer on the gRPC thread; writes, which may wait for channels.lock,
// run on the BlockingExecutor. Thread-safe.
#pragma once

#include "daemon/core/audit_sink.h"
#include "daemon/core/blocking_executor.h"
#include "daemon/core/channel_auth_manager.h"
#include "daemon/server/call_tracker.h"
#include "daemon/server/request_counter.h"
#include "operator_auth/v1/auth.grpc.pb.h"

namespace operator_auth {

class ChannelServiceImpl final : public v1::ChannelService::CallbackService {
 public:
  // `manager`, `writes` and `calls` must outlive the service. `audit`, when not null, receives a
  // record of every credential handed out or changed; it must outlive the server.
  ChannelServiceImpl(ChannelAuthManager& manager, BlockingExecutor& writes, CallTracker& calls,
                     RequestCounter& requests, AuditSink* audit = nullptr)
      : manager_(manager),
        writes_(writes),
        calls_(calls),
        list_(requests.Register("/operator_auth.v1.ChannelService/ListChannels")),
        get_(requests.Register("/operator_auth.v1.ChannelService/GetChannel")),
        set_(requests.Register("/operator_auth.v1.ChannelService/SetChannel")),
        unset_(requests.Register("/operator_auth.v1.ChannelService/UnsetChannel")),
        audit_(audit) {}

  grpc::ServerUnaryReactor* ListChannels(grpc::CallbackServerContext* context,
                                         const v1::ListChannelsRequest* request,
                                         v1::ListChannelsResponse* response) override;
  grpc::ServerUnaryReactor* GetChannel(grpc::CallbackServerContext* context,
                                       const v1::GetChannelRequest* request,
                                       v1::GetChannelResponse* response) override;
  grpc::ServerUnaryReactor* SetChannel(grpc::CallbackServerContext* context,
                                       const v1::SetChannelRequest* request,
                                       v1::SetChannelResponse* response) override;
  grpc::ServerUnaryReactor* UnsetChannel(grpc::CallbackServerContext* context,
                                         const v1::UnsetChannelRequest* request,
                                         v1::UnsetChannelResponse* response) override;

 private:
  ChannelAuthManager& manager_;
  BlockingExecutor& writes_;
  CallTracker& calls_;
  RequestCounter::Slot& list_;
  RequestCounter::Slot& get_;
  RequestCounter::Slot& set_;
  RequestCounter::Slot& unset_;
  AuditSink* const audit_;  // may be null: no audit trail
};

}  // namespace operator_auth
