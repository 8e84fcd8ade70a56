// `operatorctl daemon status`: what the daemon is doing (version, pid, uptime, socket, files and
// their load errors, the background refresher, requests served). Exit 0 when it is healthy,
// kExitUnhealthy when it reports a problem, kExitUnreachable when it does not answer.
#pragma once

#include "cli/auth_commands.h"

namespace operator_auth::cli {

int RunDaemonStatus(const GlobalOptions& options);

}  // namespace operator_auth::cli
