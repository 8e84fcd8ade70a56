#include "daemon_channel.h"

#include "common/daemon_socket_peer.h"
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

absl::Status CheckDaemonPeer(grpc::Channel& channel, const std::string& socket_path) {
  if (channel.GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_READY) return absl::OkStatus();
  return CheckDaemonSocketPeer(socket_path);
}

}  // namespace operator_auth::client_internal
