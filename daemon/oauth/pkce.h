// PKCE (RFC 7636, S256) and the random values an OAuth login needs, from OpenSSL's CSPRNG.
// Thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace operator_auth {

struct PkcePair {
  std::string verifier;   // 43 characters of base64url from 32 random bytes
  std::string challenge;  // base64url(SHA-256(verifier)), no padding
};

PkcePair GeneratePkce();
// S256 challenge of a given verifier.
std::string PkceChallenge(absl::string_view verifier);
// base64url (no padding) of `bytes` random bytes: for `state` values and the like.
std::string RandomUrlSafeToken(size_t bytes = 32);

std::string Base64UrlEncode(absl::string_view data);  // no padding
// Accepts input with or without padding; INVALID_ARGUMENT on other characters.
absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text);

}  // namespace operator_auth
