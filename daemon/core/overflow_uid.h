// The overflow uid: what the kernel shows for a uid that has no mapping in the viewer's user
// namespace (/proc/sys/kernel/overflowuid, 65534 by default). A peer seen with it could be anyone
// from another namespace, and a daemon running as it shares its uid with every unmapped process
// and with "nobody". Thread-safe (reads the kernel's value once).
#pragma once

#include <sys/types.h>

namespace operator_auth {

inline constexpr uid_t kDefaultOverflowUid = 65534;

// /proc/sys/kernel/overflowuid, or kDefaultOverflowUid when it cannot be read.
uid_t OverflowUid();

}  // namespace operator_auth
