#include "common/host_name.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"

namespace operator_auth {
namespace {

constexpr size_t kMaxHostLength = 253;  // a DNS name
constexpr size_t kMaxPortDigits = 5;

}  // namespace

absl::StatusOr<std::string> NormalizeHostAndPort(absl::string_view input) {
  absl::string_view address = input;
  if (!absl::ConsumePrefix(&address, "https://")) absl::ConsumePrefix(&address, "http://");
  absl::ConsumeSuffix(&address, "/");
  absl::string_view host = address;
  std::optional<absl::string_view> port;
  if (size_t colon = address.find(':'); colon != absl::string_view::npos) {
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  bool valid = !host.empty() && host.size() <= kMaxHostLength && host.front() != '-' &&
               host.front() != '.';
  for (char c : host) {
    valid = valid && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.');
  }
  if (port.has_value()) {
    valid = valid && !port->empty() && port->size() <= kMaxPortDigits;
    for (char c : *port) valid = valid && absl::ascii_isdigit(static_cast<unsigned char>(c));
  }
  if (!valid) {
    return absl::InvalidArgumentError(
        "the enterprise domain must be a host name such as ghe.example.com, optionally with "
        ":port");
  }
  return std::string(address);
}

}  // namespace operator_auth
