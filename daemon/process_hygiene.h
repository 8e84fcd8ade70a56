// Start-up hygiene for a process that holds secrets, in one place (as ssh-agent does): a private
// umask, no core dumps, not ptrace-attachable or dumpable by same-uid processes.
#pragma once

#include "absl/status/status.h"

namespace operator_auth {

// umask 077, RLIMIT_CORE 0, prctl(PR_SET_DUMPABLE, 0). Fails only when a step fails.
absl::Status HardenProcess();

}  // namespace operator_auth
