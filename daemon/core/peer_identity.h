// Who is on the other end of a client connection: the process the kernel reports for the Unix
// socket (SO_PEERCRED), its resolved executable and its systemd unit or scope. Read once per
// connection when it is accepted and shared by every call on it, so client rules and the audit
// trail cost no syscall per call. Plain value type; holds no secret.
//
// What it is worth: the kernel's pid/uid are facts about the process that connected; exe and unit
// are read from /proc/PID right after accept, so a process that connects and then execs another
// program keeps the identity it connected with. README ("Client rules") says what this protects.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

namespace operator_auth {

struct PeerIdentity {
  pid_t pid = 0;    // 0: unknown (not a Unix socket peer)
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  std::string exe;   // realpath of /proc/PID/exe; empty when it could not be read
  std::string unit;  // systemd unit or scope from /proc/PID/cgroup ("foo.service", "run-1.scope")
};

using PeerIdentityPtr = std::shared_ptr<const PeerIdentity>;

}  // namespace operator_auth
