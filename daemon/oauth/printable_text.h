// Text a provider controls (an OAuth error code or description, a Code Assist reason) on its way
// into a status message, a log line or the user's terminal: reduced to printable ASCII and
// capped, so that no escape sequence, control character or flood reaches them. Pure, thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace operator_auth {

// RFC 6749 4.1.2.1 allows %x20-21 / %x23-5B / %x5D-7E in error fields; anything else (control
// characters, escapes, quotes, UTF-8 from a provider that ignores that) becomes '?'. At most
// `max_bytes` of `text` are kept.
std::string PrintableErrorText(absl::string_view text, size_t max_bytes);

}  // namespace operator_auth
