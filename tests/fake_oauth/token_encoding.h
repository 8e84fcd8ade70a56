// The encodings behind the fake OAuth server's tokens: PKCE S256 challenges, unsigned JWTs and
// random strings from OpenSSL's CSPRNG. Thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/string_view.h"

namespace operator_auth::testing {

// base64url(SHA-256(verifier)) without padding (RFC 7636 S256).
std::string S256Challenge(absl::string_view verifier);
// base64url('{"alg":"none","typ":"JWT"}') + "." + base64url(payload) + "." (no signature).
std::string UnsignedJwt(const nlohmann::json& payload);
// 2 * `bytes` lower-case hex digits.
std::string RandomHex(size_t bytes);
// "ABCD-1234": four upper-case letters, a dash, four digits.
std::string RandomUserCode();

}  // namespace operator_auth::testing
