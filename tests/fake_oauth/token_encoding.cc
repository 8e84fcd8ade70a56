#include "tests/fake_oauth/token_encoding.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace operator_auth::testing {
namespace {

std::vector<uint8_t> RandomBytes(size_t count) {
  std::vector<uint8_t> bytes(count);
  if (count > 0 && RAND_bytes(bytes.data(), static_cast<int>(count)) != 1) {
    // A fixture without randomness cannot issue distinct tokens; there is nothing to recover.
    std::fputs("FakeOAuthServer: RAND_bytes failed\n", stderr);
    std::abort();
  }
  return bytes;
}

}  // namespace

std::string S256Challenge(absl::string_view verifier) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(verifier.data(), verifier.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    std::fputs("FakeOAuthServer: SHA-256 failed\n", stderr);
    std::abort();
  }
  return absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string UnsignedJwt(const nlohmann::json& payload) {
  return absl::StrCat(absl::WebSafeBase64Escape(R"({"alg":"none","typ":"JWT"})"), ".",
                      absl::WebSafeBase64Escape(payload.dump()), ".");
}

std::string RandomHex(size_t bytes) {
  std::vector<uint8_t> random = RandomBytes(bytes);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(random.data()), random.size()));
}

std::string RandomUserCode() {
  std::vector<uint8_t> random = RandomBytes(8);
  std::string code;
  for (size_t i = 0; i < 4; ++i) code += static_cast<char>('A' + random[i] % 26);
  code += '-';
  for (size_t i = 4; i < 8; ++i) code += static_cast<char>('0' + random[i] % 10);
  return code;
}

}  // namespace operator_auth::testing
