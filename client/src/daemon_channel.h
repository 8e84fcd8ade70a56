// Internal to the client library: the one way AuthClient and WatchedApiKey open a channel to the
// daemon's Unix socket.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

namespace operator_auth::client_internal {

// A channel of its own (not sharing gRPC's process-wide subchannel pool, so a client made after
// the daemon restarted never inherits a connection to the old one) that reconnects within a
// second: a local daemon restarts quickly, so gRPC's default back-off of up to two minutes is
// wrong here.
std::shared_ptr<grpc::Channel> DaemonChannel(const std::string& socket_path);

}  // namespace operator_auth::client_internal
