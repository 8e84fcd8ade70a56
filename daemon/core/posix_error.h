// absl::Status from errno, with the operation and path named so a user can act on the message.
#pragma once

#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace operator_auth {

// Maps `err` (an errno value) to a status code: ENOENT -> NOT_FOUND, EACCES/EPERM ->
// PERMISSION_DENIED, EWOULDBLOCK -> UNAVAILABLE, anything else -> INTERNAL.
absl::Status PosixError(int err, absl::string_view operation, absl::string_view path);

}  // namespace operator_auth
