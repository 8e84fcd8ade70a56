// A key or token the daemon keeps for long (an API key, an OAuth access or refresh token).
// Thread-compatible value type, like std::string.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"

namespace operator_auth {

// Every buffer that held the value is wiped with OPENSSL_cleanse (whole capacity, SSO included)
// when dropped, overwritten, cleared or moved from; read it only through explicit view() / str().
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(absl::string_view value);
  explicit SecretString(const char* value) : SecretString(absl::string_view(value)) {}
  // Takes `value`'s buffer and wipes whatever stays behind in it (a short string's inline bytes).
  explicit SecretString(std::string&& value);

  // Copies are allowed (snapshots copy credentials); each copy wipes its own buffer.
  SecretString(const SecretString& other);
  SecretString& operator=(const SecretString& other);
  // The source is left wiped and empty.
  SecretString(SecretString&& other) noexcept;
  SecretString& operator=(SecretString&& other) noexcept;
  ~SecretString();

  absl::string_view view() const { return value_; }
  // For APIs that take const std::string&; copying the result makes an unwiped copy.
  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }

  // Wipes the value and leaves this empty. There is no other mutation: growing a std::string in
  // place reallocates and frees the old buffer unwiped.
  void clear();

  // Equal sizes and bytes; the bytes are compared in constant time (CRYPTO_memcmp).
  friend bool operator==(const SecretString& a, const SecretString& b);
  friend bool operator!=(const SecretString& a, const SecretString& b) { return !(a == b); }

  // Never the value: a SecretString that reaches a log or a test failure prints "<secret>".
  friend std::ostream& operator<<(std::ostream& os, const SecretString&) {
    return os << "<secret>";
  }

 private:
  void Wipe();

  std::string value_;
};

// Wipes a plain string that held secret text (a file's contents, a request body) and empties it.
void CleanseString(std::string& text);

}  // namespace operator_auth
