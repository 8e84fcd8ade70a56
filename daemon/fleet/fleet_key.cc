#include "daemon/fleet/fleet_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace operator_auth {
namespace {

constexpr absl::string_view kVersion = "v1";
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
// A key file is one line of 44 characters; anything much larger is not one.
constexpr size_t kMaxKeyFileBytes = 4096;

struct CipherContextFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextFree>;

unsigned char* Bytes(std::string& s, size_t at = 0) {
  return reinterpret_cast<unsigned char*>(s.data() + at);
}
const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

void RandomOrDie(unsigned char* out, size_t length) {
  // RAND_bytes fails only when the CSPRNG cannot be seeded: no key or nonce may be made then.
  if (RAND_bytes(out, static_cast<int>(length)) != 1) std::abort();
}

}  // namespace

FleetKey FleetKey::Generate() {
  FleetKey key;
  RandomOrDie(key.key_.data(), key.key_.size());
  return key;
}

absl::StatusOr<FleetKey> FleetKey::Parse(absl::string_view text) {
  std::string raw;
  const absl::string_view line = absl::StripAsciiWhitespace(text);
  if (!absl::Base64Unescape(line, &raw) || raw.size() != kKeyBytes) {
    OPENSSL_cleanse(raw.data(), raw.size());
    return absl::InvalidArgumentError(
        "not a fleet key: expected base64 of 32 bytes on one line (what `openssl rand -base64 32` "
        "or `operatorctl fleet keygen` writes)");
  }
  FleetKey key;
  std::copy(raw.begin(), raw.end(), key.key_.begin());
  OPENSSL_cleanse(raw.data(), raw.size());
  return key;
}

absl::StatusOr<FleetKey> FleetKey::Load(const std::string& path, const TrustBoundary& boundary) {
  absl::StatusOr<std::string> text = ReadTrustedFile(path, kMaxKeyFileBytes, boundary);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("fleet key file: ", text.status().message()));
  }
  absl::StatusOr<FleetKey> key = Parse(*text);
  CleanseString(*text);
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", key.status().message()));
  }
  return key;
}

FleetKey::~FleetKey() { OPENSSL_cleanse(key_.data(), key_.size()); }

SecretString FleetKey::Text() const {
  std::string text = absl::Base64Escape(
      absl::string_view(reinterpret_cast<const char*>(key_.data()), key_.size()));
  text += '\n';
  return SecretString(std::move(text));
}

std::string FleetKey::Fingerprint() const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(key_.data(), key_.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 4));
}

std::string FleetKey::Seal(absl::string_view plaintext, absl::string_view associated) const {
  std::string out(kVersion.size() + kNonceBytes + plaintext.size() + kTagBytes, '\0');
  std::copy(kVersion.begin(), kVersion.end(), out.begin());
  unsigned char* nonce = Bytes(out, kVersion.size());
  RandomOrDie(nonce, kNonceBytes);
  unsigned char* body = nonce + kNonceBytes;
  CipherContext ctx(EVP_CIPHER_CTX_new());
  int length = 0;
  // With a valid key, nonce and lengths under INT_MAX these calls cannot fail; an OpenSSL that
  // fails them anyway must not hand back something that looks sealed.
  const bool sealed =
      ctx != nullptr && plaintext.size() < INT_MAX && associated.size() < INT_MAX &&
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &length, Bytes(associated),
                        static_cast<int>(associated.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), body, &length, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), body + length, &length) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, body + plaintext.size()) == 1;
  if (!sealed) std::abort();
  return out;
}

absl::StatusOr<SecretString> FleetKey::Open(absl::string_view sealed,
                                            absl::string_view associated) const {
  if (sealed.size() < kVersion.size() + kNonceBytes + kTagBytes ||
      sealed.substr(0, kVersion.size()) != kVersion || sealed.size() >= INT_MAX ||
      associated.size() >= INT_MAX) {
    return absl::InvalidArgumentError("not a value sealed with a fleet key (v1)");
  }
  const unsigned char* nonce = Bytes(sealed) + kVersion.size();
  const size_t body_size = sealed.size() - kVersion.size() - kNonceBytes - kTagBytes;
  const unsigned char* body = nonce + kNonceBytes;
  std::string tag(sealed.substr(sealed.size() - kTagBytes));
  std::string plain(body_size, '\0');
  CipherContext ctx(EVP_CIPHER_CTX_new());
  int length = 0;
  const bool opened =
      ctx != nullptr &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &length, Bytes(associated),
                        static_cast<int>(associated.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), Bytes(plain), &length, body, static_cast<int>(body_size)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), Bytes(plain, static_cast<size_t>(length)), &length) == 1;
  if (!opened) {
    CleanseString(plain);
    return absl::FailedPreconditionError(
        "a fleet value did not open with this daemon's fleet key: another key, or altered");
  }
  return SecretString(std::move(plain));
}

}  // namespace operator_auth
