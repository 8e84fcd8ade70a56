// `operatorctl audit [--json] [--provider ID] [--since DURATION] [--follow]`: shows the audit
// trail the daemon writes, reading <home>/auth/audit.jsonl.1 and then audit.jsonl directly (the
// same user's files; the daemon need not run). --provider takes an id or an alias: the built-in
// ones resolve here, others are asked of the daemon when it runs (cli/audit_provider_filter.h).
// The table shows local time; --json prints the lines as stored (UTC). --follow keeps printing new
// lines, across rotations, until SIGINT or SIGTERM. A malformed line is reported on stderr with its
// file and line number and skipped. Thread-compatible.
#pragma once

#include <string>

#include "cli/auth_commands.h"

namespace operator_auth::cli {

struct AuditArguments {
  std::string provider;  // empty: every provider
  std::string since;     // empty: everything kept
  bool follow = false;
};

// Exit 0, also when there is no audit file yet (stderr says so), and when --follow ends on
// SIGINT/SIGTERM; 2 for a bad --since; 4 when a file exists but cannot be read. `global` gives
// --json, and the socket --provider's aliases are asked on.
int RunAudit(const GlobalOptions& global, const AuditArguments& arguments);

}  // namespace operator_auth::cli
