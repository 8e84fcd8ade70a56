#include "daemon/process_hygiene.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>

#include "daemon/core/posix_error.h"

namespace operator_auth {

absl::Status HardenProcess() {
  umask(077);
  rlimit no_core{0, 0};
  if (setrlimit(RLIMIT_CORE, &no_core) != 0) return PosixError(errno, "setrlimit", "RLIMIT_CORE");
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return PosixError(errno, "prctl", "PR_SET_DUMPABLE");
  }
  return absl::OkStatus();
}

}  // namespace operator_auth
