// How operatorctl ends: the exit codes scripts may rely on, and the one place that turns a failed
// call into a message on stderr and one of those codes. Thread-compatible (writes to stderr).
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace operator_auth::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNotConfigured = 1;  // no credential for the provider
inline constexpr int kExitUnhealthy = 1;       // `daemon status`: the daemon reports a problem
inline constexpr int kExitUsage = 2;          // bad command line or argument
inline constexpr int kExitUnreachable = 3;    // no daemon answering on the socket
inline constexpr int kExitFailure = 4;        // any other error
inline constexpr int kExitCancelled = 130;    // the user cancelled (Ctrl-C), as shells report it

// Prints `status` (not OK) to stderr and returns its exit code. An unreachable daemon gets a
// message naming `socket_path` and how to start the daemon. Messages come from the daemon or the
// client library, which never put a secret in one.
int ReportFailure(const absl::Status& status, absl::string_view socket_path);

// Prints "operatorctl: <message>" to stderr and returns kExitUsage.
int ReportUsageError(absl::string_view message);

}  // namespace operator_auth::cli
