#include "daemon/core/api_key_rules.h"

#include "absl/strings/str_cat.h"

namespace operator_auth {
namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 when it is malformed.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  if (len == 2 && c < 0xC2) return 0;                          // overlong
  if (len == 3 && c == 0xE0 && byte(i + 1) < 0xA0) return 0;   // overlong
  if (len == 3 && c == 0xED && byte(i + 1) >= 0xA0) return 0;  // surrogate
  if (len == 4 &&
      (c > 0xF4 || (c == 0xF0 && byte(i + 1) < 0x90) || (c == 0xF4 && byte(i + 1) >= 0x90))) {
    return 0;
  }
  return len;
}

}  // namespace

absl::Status ValidateSecretValue(absl::string_view value, absl::string_view what) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (value.size() > kMaxApiKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is longer than ", kMaxApiKeyBytes, " bytes"));
  }
  for (size_t i = 0; i < value.size();) {
    size_t len = Utf8SequenceLength(value, i);
    if (len == 0) return absl::InvalidArgumentError(absl::StrCat(what, " is not valid UTF-8"));
    unsigned char c = static_cast<unsigned char>(value[i]);
    bool c1_control = len == 2 && c == 0xC2 && static_cast<unsigned char>(value[i + 1]) < 0xA0;
    if (c < 0x20 || c == 0x7F || c1_control) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " contains a control character (newline, tab, NUL, ...)"));
    }
    i += len;
  }
  return absl::OkStatus();
}

absl::Status ValidateApiKey(absl::string_view key) { return ValidateSecretValue(key, "API key"); }

}  // namespace operator_auth
