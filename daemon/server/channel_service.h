// operator_auth.v1.ChannelService over the callback API: translates proto <-> ChannelAuthManager
// and nothing else. Reads answer on the gRPC thread; writes, which may wait for channels.lock,
// run on the BlockingExecutor. Thread-safe.
#pragma once

#include <functional>
#include <string>

#include "daemon/core/blocking_executor.h"
#include "daemon/core/channel_auth_manager.h"
#include "daemon/core/client_gate.h"
#include "daemon/server/call_tracker.h"
#include "daemon/server/request_counter.h"
#include "operator_auth/v1/auth.grpc.pb.h"

namespace operator_auth {

class ChannelServiceImpl final : public v1::ChannelService::CallbackService {
 public:
  // `manager`, `writes`, `calls` and `gate` must outlive the service. `gate` decides by the
  // client rules whether the caller may have or change a channel's credentials (GetChannel,
  // SetChannel, UnsetChannel) and records those calls; ListChannels carries no value and stays
  // open.
  ChannelServiceImpl(ChannelAuthManager& manager, BlockingExecutor& writes, CallTracker& calls,
                     RequestCounter& requests, ClientGate& gate)
      : manager_(manager),
        writes_(writes),
        calls_(calls),
        gate_(gate),
        list_(requests.Register("/operator_auth.v1.ChannelService/ListChannels")),
        get_(requests.Register("/operator_auth.v1.ChannelService/GetChannel")),
        set_(requests.Register("/operator_auth.v1.ChannelService/SetChannel")),
        unset_(requests.Register("/operator_auth.v1.ChannelService/UnsetChannel")) {}

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
  // A write the client rules allow, run on `writes_` and recorded when it ends.
  grpc::ServerUnaryReactor* Write(grpc::CallbackServerContext* context, const char* method,
                                  const std::string& channel, RequestCounter::Slot& counter,
                                  std::function<absl::Status()> work);

  ChannelAuthManager& manager_;
  BlockingExecutor& writes_;
  CallTracker& calls_;
  ClientGate& gate_;
  RequestCounter::Slot& list_;
  RequestCounter::Slot& get_;
  RequestCounter::Slot& set_;
  RequestCounter::Slot& unset_;
};

}  // namespace operator_auth
