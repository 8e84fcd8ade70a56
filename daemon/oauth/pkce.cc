#include "daemon/oauth/pkce.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <climits>
#include <cstdint>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace operator_auth {
namespace {

constexpr size_t kVerifierBytes = 32;  // 43 base64url characters, inside RFC 7636's 43..128
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// -1 for anything outside the base64url alphabet (padding included).
int SextetOf(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Fills `out` from OpenSSL's CSPRNG. A failure means the process cannot make secrets at all, so it
// is fatal rather than an error to hand back.
void FillRandom(unsigned char* out, size_t length) {
  if (length > static_cast<size_t>(INT_MAX) || RAND_bytes(out, static_cast<int>(length)) != 1) {
    spdlog::critical("OpenSSL RAND_bytes failed; cannot generate random values");
    std::abort();
  }
}

}  // namespace

std::string Base64UrlEncode(absl::string_view data) {
  std::string out;
  out.reserve((data.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t group = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16 |
                           static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8 |
                           static_cast<unsigned char>(data[i + 2]);
    out.push_back(kAlphabet[(group >> 18) & 0x3F]);
    out.push_back(kAlphabet[(group >> 12) & 0x3F]);
    out.push_back(kAlphabet[(group >> 6) & 0x3F]);
    out.push_back(kAlphabet[group & 0x3F]);
  }
  const size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t group = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16;
    if (rest == 2) group |= static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
    out.push_back(kAlphabet[(group >> 18) & 0x3F]);
    out.push_back(kAlphabet[(group >> 12) & 0x3F]);
    if (rest == 2) out.push_back(kAlphabet[(group >> 6) & 0x3F]);
  }
  return out;
}

// Bits left over in a final partial group are ignored rather than required to be zero.
absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text) {
  // Padding, when present, must make a whole number of 4-character groups.
  size_t padding = 0;
  while (padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  if (padding > 0 && (padding > 2 || text.size() % 4 != 0)) {
    return absl::InvalidArgumentError("base64url input has malformed '=' padding");
  }
  text.remove_suffix(padding);
  if (text.size() % 4 == 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("base64url input has an impossible length (", text.size(), " characters)"));
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t accumulator = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int sextet = SextetOf(text[i]);
    if (sextet < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("base64url input has an invalid character at offset ", i));
    }
    accumulator = (accumulator << 6) | static_cast<uint32_t>(sextet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((accumulator >> bits) & 0xFF));
    }
  }
  return out;
}

std::string RandomUrlSafeToken(size_t bytes) {
  std::string random(bytes, '\0');
  FillRandom(reinterpret_cast<unsigned char*>(random.data()), random.size());
  std::string token = Base64UrlEncode(random);
  OPENSSL_cleanse(random.data(), random.size());
  return token;
}

std::string PkceChallenge(absl::string_view verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return Base64UrlEncode(absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

PkcePair GeneratePkce() {
  PkcePair pair;
  pair.verifier = RandomUrlSafeToken(kVerifierBytes);
  pair.challenge = PkceChallenge(pair.verifier);
  return pair;
}

}  // namespace operator_auth
