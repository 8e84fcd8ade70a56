// What the browser hands back at the end of an OAuth authorization-code login (RFC 6749 4.1.2):
// text the user pastes, or the query a loopback callback receives; and the `state` check that ties
// a response to the login we started. Pure functions: thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace operator_auth {

// Longest input ParseAuthorizationInput looks at; real responses are a few hundred bytes.
inline constexpr size_t kMaxAuthorizationInputBytes = 4096;

struct AuthorizationResponse {
  std::string code;   // secret: never logged; empty when `error` is set
  std::string state;  // empty when absent
  // From ?error= (RFC 6749 4.1.2.1), e.g. "access_denied". Both error fields are reduced to
  // printable ASCII and capped in length, since they end up in messages shown to the user.
  std::string error;
  std::string error_description;
};

// Accepts, after trimming whitespace:
//   - a redirect URL, "http(s)://host/path?code=..&state=..", or one whose parameters sit in its
//     #fragment;
//   - a query string, "code=..&state=..", with or without a leading '?';
//   - "code#state" (Anthropic's format);
//   - a bare code.
// An error response (error=...) is OK with `error` set. INVALID_ARGUMENT when nothing usable is
// found: empty input, a URL or query string with neither code nor error, a repeated parameter, a
// code with whitespace or control characters inside, or input over kMaxAuthorizationInputBytes.
// Messages never quote the input: it may hold a secret.
absl::StatusOr<AuthorizationResponse> ParseAuthorizationInput(absl::string_view input);

// OK when `response.state` equals `expected_state` (compared in constant time), or when the
// response has no state and `allow_missing_state` (a pasted bare code). Otherwise
// INVALID_ARGUMENT "state does not match: start the login again". A missing state never matches
// an empty `expected_state` on its own: only `allow_missing_state` lets it through.
absl::Status CheckState(const AuthorizationResponse& response, absl::string_view expected_state,
                        bool allow_missing_state);

}  // namespace operator_auth
