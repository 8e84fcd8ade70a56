// The fleet key: the AES-256-GCM key every daemon of one fleet shares, so that what they keep in
// etcd (tokens, API keys) is ciphertext to etcd, its data directory and anyone who reads them.
//
// The key file holds base64 of 32 random bytes on one line: what `openssl rand -base64 32`
// prints, and what `operatorctl fleet keygen PATH` writes.
//
// A sealed value is "v1" || 12-byte random nonce || ciphertext || 16-byte tag, with the etcd key
// it is stored under as associated data: a value copied to another key, or made under another
// fleet key, fails to open. Thread-safe (immutable after construction; OpenSSL contexts are made
// per call).
#pragma once

#include <array>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/core/secret_string.h"
#include "daemon/core/trusted_path.h"

namespace operator_auth {

class FleetKey {
 public:
  static constexpr size_t kKeyBytes = 32;

  // 32 bytes from OpenSSL's CSPRNG.
  static FleetKey Generate();
  // The key file's text: base64 of exactly 32 bytes, surrounding whitespace ignored.
  // INVALID_ARGUMENT otherwise; the message never holds the text.
  static absl::StatusOr<FleetKey> Parse(absl::string_view text);
  // Reads `path` under ReadTrustedFile's rules (no symlink, ours or root's, not group- or
  // other-writable) and parses it. Errors name the path, never the contents.
  static absl::StatusOr<FleetKey> Load(const std::string& path, const TrustBoundary& boundary);

  FleetKey(const FleetKey&) = default;
  FleetKey& operator=(const FleetKey&) = default;
  ~FleetKey();

  // The key file's line, newline included.
  SecretString Text() const;
  // A short public name for logs and status: the first 8 hex digits of SHA-256 of the key.
  // Tells two keys apart without revealing either.
  std::string Fingerprint() const;

  std::string Seal(absl::string_view plaintext, absl::string_view associated) const;
  // FAILED_PRECONDITION when the value was sealed under another key or another associated text,
  // or was changed: the three cannot be told apart, by design. INVALID_ARGUMENT when it is not a
  // sealed value at all.
  absl::StatusOr<SecretString> Open(absl::string_view sealed, absl::string_view associated) const;

 private:
  FleetKey() = default;

  std::array<unsigned char, kKeyBytes> key_{};
};

}  // namespace operator_auth
