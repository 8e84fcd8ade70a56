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

#include "absl/strings/string_view.h"

namespace operator_auth {

struct PeerIdentity {
  pid_t pid = 0;    // 0: unknown (not a Unix socket peer)
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  std::string exe;   // realpath of /proc/PID/exe; empty when it could not be read
  std::string unit;  // systemd unit or scope from /proc/PID/cgroup ("foo.service", "run-1.scope")
};

using PeerIdentityPtr = std::shared_ptr<const PeerIdentity>;

// The peer of the connected Unix socket `fd`: SO_PEERCRED, then /proc/PID/exe and
// /proc/PID/cgroup. exe is the link's target as the kernel reports it (already a resolved path);
// a " (deleted)" suffix (the binary was replaced or removed since it started, e.g. by a package
// upgrade) is stripped, so a rule for the path still matches. exe or unit is empty when it
// cannot be read (the process already exited, or it is root's). Null when SO_PEERCRED fails or
// names no process. A few syscalls: called once per connection, on the accept thread.
PeerIdentityPtr ReadPeerIdentity(int fd);

// The systemd unit or scope in the text of /proc/PID/cgroup: the last path component ending in
// ".service" or ".scope" on the cgroup v1 "name=systemd" line if there is one, else on the v2
// "0::" line; empty when neither names one. Points into `text`.
absl::string_view UnitFromCgroup(absl::string_view text);

}  // namespace operator_auth
