#include "cli/exit_status.h"

#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/default_paths.h"
#include "operator_auth/auth_client.h"

namespace operator_auth::cli {
namespace {

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return kExitNotConfigured;
    case absl::StatusCode::kInvalidArgument:
      return kExitUsage;
    default:
      return kExitFailure;
  }
}

}  // namespace

int ReportFailure(const absl::Status& status, absl::string_view socket_path) {
  if (IsDaemonUnreachable(status)) {
    // The usual cause is a daemon that is not running. The client's detail (no such file,
    // refused, timed out) tells the other cases apart, such as a stale socket file.
    std::cerr << "operatorctl: cannot reach operator-authd at " << socket_path << ".\n";
    if (socket_path == DefaultSocketPath()) {
      std::cerr << "Start it with: operator-authd   (or: systemctl --user start "
                   "operator-authd.socket)\n";
    } else {
      std::cerr << "Start it with: operator-authd --socket " << socket_path << "\n";
    }
    std::cerr << "Detail: " << status.message() << "\n";
    return kExitUnreachable;
  }
  std::cerr << "operatorctl: " << status.message() << "\n";
  return ExitCodeFor(status);
}

int ReportUsageError(absl::string_view message) {
  std::cerr << "operatorctl: " << message << "\n";
  return kExitUsage;
}

}  // namespace operator_auth::cli
