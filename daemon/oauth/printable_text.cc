#include "daemon/oauth/printable_text.h"

namespace operator_auth {

std::string PrintableErrorText(absl::string_view text, size_t max_bytes) {
  std::string out;
  for (char c : text.substr(0, max_bytes)) {
    const auto byte = static_cast<unsigned char>(c);
    const bool allowed = byte >= 0x20 && byte <= 0x7E && c != '"' && c != '\\';
    out.push_back(allowed ? c : '?');
  }
  return out;
}

}  // namespace operator_auth
