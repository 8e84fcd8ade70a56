// `operatorctl audit --provider NAME`: the provider id the audit trail's records are matched
// against. Records hold the canonical id, or the name as requested when it did not resolve
// (daemon/core/audit_sink.h). A built-in id or alias resolves here, without the daemon. Any other
// name is asked of the daemon, which knows authd.json's "aliases" and providers (also when it was
// started with --config). When the daemon cannot be asked, or knows no such name, the name is
// taken as written and `note` says why. Thread-safe (pure, but for what `ask_daemon` does).
#pragma once

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "operator_auth/v1/auth.pb.h"

namespace operator_auth::cli {

struct AuditProviderFilter {
  std::string id;
  std::string note;  // empty, or one line for stderr
};

AuditProviderFilter ResolveAuditProvider(
    absl::string_view name,
    absl::FunctionRef<absl::StatusOr<v1::ListProvidersResponse>()> ask_daemon);

}  // namespace operator_auth::cli
