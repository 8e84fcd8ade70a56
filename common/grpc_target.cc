#include "common/grpc_target.h"

#include "absl/strings/ascii.h"

namespace operator_auth {

std::string UnixSocketTarget(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string target = "unix:";
  for (char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(byte) || c == '/' || c == '.' || c == '_' || c == '~' || c == '-') {
      target += c;
    } else {
      target += '%';
      target += kHex[byte >> 4];
      target += kHex[byte & 0xF];
    }
  }
  return target;
}

}  // namespace operator_auth
