// Host names a user names for a provider (a GitHub Enterprise host): one rule for operatorctl and
// the daemon, since the daemon splices the host into URLs and must not trust its callers to have
// checked. Pure functions, thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace operator_auth {

// "ghe.example.com", "ghe.example.com:8443", or either with "https://" / "http://" before it and
// one "/" after it -> "host[:port]". The host is a DNS name (letters, digits, '-', '.', at most
// 253 bytes, not starting with '-' or '.'), the port 1-5 digits. INVALID_ARGUMENT otherwise,
// without quoting the input (a token pasted into the wrong place must not be echoed).
absl::StatusOr<std::string> NormalizeHostAndPort(absl::string_view input);

}  // namespace operator_auth
