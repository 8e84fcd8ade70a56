// Who serves a daemon socket, checked by the clients before they send anything: the process
// listening on the path must run as this process's uid or as root. Another user who could create
// a socket at the path first (a directory they may write, an OPERATOR_AUTHD_SOCKET pointing into
// /tmp) would otherwise receive every key a client sets and answer with keys of their choosing.
// Thread-safe (no shared state).
#pragma once

#include <string>

#include "absl/status/status.h"

namespace operator_auth {

// Connects to `socket_path` and reads the listener's uid with SO_PEERCRED, then closes. OK when
// it is ours or root's, and also when nothing accepts there (the caller's own connection attempt
// reports that as usual). PERMISSION_DENIED naming the path and the uid otherwise.
absl::Status CheckDaemonSocketPeer(const std::string& socket_path);

}  // namespace operator_auth
