#include "daemon_channel.h"

#include "common/grpc_target.h"

namespace operator_auth::client_internal {

std::shared_ptr<grpc::Channel> DaemonChannel(const std::string& socket_path) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(UnixSocketTarget(socket_path),
                                   grpc::InsecureChannelCredentials(), args);
}

}  // namespace operator_auth::client_internal
