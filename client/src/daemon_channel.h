// Internal to the client library: the one way AuthClient and WatchedApiKey open a channel to the
// daemon's Unix socket.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"

namespace operator_auth::client_internal {

// A channel of its own (not sharing gRPC's process-wide subchannel pool, so a client made after
// the daemon restarted never inherits a connection to the old one) that reconnects within a
// second: a local daemon restarts quickly, so gRPC's default back-off of up to two minutes is
// wrong here.
std::shared_ptr<grpc::Channel> DaemonChannel(const std::string& socket_path);

// Before a call that may make `channel` (re)connect: checks with SO_PEERCRED that the process
// serving `socket_path` runs as our uid or root (common/daemon_socket_peer.h). A READY channel
// is not checked again: its connection was made right after a check passed.
//
// Why a pre-flight connect rather than a channel on an fd we connected and checked
// (grpc::CreateInsecureChannelFromFd): a channel made from an fd cannot reconnect, and
// reconnecting by itself when the daemon restarts is what WatchedApiKey and a long-lived
// AuthClient rely on. The cost is a window between our check and gRPC's own connect in which the
// socket could be swapped; only someone who may write the socket's directory can do that, and
// the daemon refuses to serve from a directory anyone but its user may write.
absl::Status CheckDaemonPeer(grpc::Channel& channel, const std::string& socket_path);

}  // namespace operator_auth::client_internal
