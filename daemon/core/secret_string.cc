#include "daemon/core/secret_string.h"

#include <utility>

#include <openssl/crypto.h>

// Wiping data() up to capacity() assumes every string owns its buffer; the old copy-on-write
// strings shared one empty buffer among all of them.
#if defined(_GLIBCXX_USE_CXX11_ABI) && !_GLIBCXX_USE_CXX11_ABI
#error "SecretString needs the C++11 std::string ABI"
#endif

namespace operator_auth {

void CleanseString(std::string& text) {
  // data() of a std::string has capacity() writable bytes before the terminator.
  OPENSSL_cleanse(text.data(), text.capacity());
  text.clear();
}

SecretString::SecretString(absl::string_view value) : value_(value) {}

SecretString::SecretString(std::string&& value) : value_(std::move(value)) {
  // A moved-from short string keeps its inline bytes; a long one keeps nothing of ours.
  CleanseString(value);
}

SecretString::SecretString(const SecretString& other) : value_(other.value_) {}

SecretString& SecretString::operator=(const SecretString& other) {
  if (this == &other) return *this;
  // Assigning into the old buffer would leave its tail; wipe all of it first.
  Wipe();
  value_.assign(other.value_);
  return *this;
}

SecretString::SecretString(SecretString&& other) noexcept : value_(std::move(other.value_)) {
  other.Wipe();
}

SecretString& SecretString::operator=(SecretString&& other) noexcept {
  if (this == &other) return *this;
  Wipe();
  // libstdc++ may hand our (now wiped) buffer to `other`; a short value is copied, so `other`'s
  // inline bytes are wiped below either way.
  value_ = std::move(other.value_);
  other.Wipe();
  return *this;
}

SecretString::~SecretString() { Wipe(); }

void SecretString::clear() { Wipe(); }

void SecretString::Wipe() { CleanseString(value_); }

bool operator==(const SecretString& a, const SecretString& b) {
  return a.value_.size() == b.value_.size() &&
         CRYPTO_memcmp(a.value_.data(), b.value_.data(), a.value_.size()) == 0;
}

}  // namespace operator_auth
