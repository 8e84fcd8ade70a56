#include "daemon/oauth/endpoint_url.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace operator_auth {
namespace {

constexpr absl::string_view kHttp = "http://";
constexpr absl::string_view kHttps = "https://";

bool IsLoopbackIpv4(absl::string_view host) {
  std::vector<absl::string_view> octets = absl::StrSplit(host, '.');
  if (octets.size() != 4) return false;
  for (absl::string_view octet : octets) {
    uint32_t value = 0;
    if (octet.empty() || octet.size() > 3 ||
        !std::all_of(octet.begin(), octet.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }) ||
        !absl::SimpleAtoi(octet, &value) || value > 255) {
      return false;
    }
  }
  return octets[0] == "127";
}

}  // namespace

std::string UrlHost(absl::string_view url) {
  absl::string_view rest;
  if (absl::StartsWithIgnoreCase(url, kHttps)) {
    rest = url.substr(kHttps.size());
  } else if (absl::StartsWithIgnoreCase(url, kHttp)) {
    rest = url.substr(kHttp.size());
  } else {
    return "";
  }
  absl::string_view authority = rest.substr(0, std::min(rest.find_first_of("/?#"), rest.size()));
  if (size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  absl::string_view host = authority;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return "";
    host = authority.substr(0, close + 1);
  } else if (size_t colon = authority.find(':'); colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
  }
  return absl::AsciiStrToLower(host);
}

bool IsLoopbackHost(absl::string_view host) {
  return host == "localhost" || host == "[::1]" || IsLoopbackIpv4(host);
}

absl::Status CheckEndpointUrl(absl::string_view url) {
  if (absl::StartsWithIgnoreCase(url, kHttps)) return absl::OkStatus();
  if (!absl::StartsWithIgnoreCase(url, kHttp)) {
    return absl::InvalidArgumentError("must be an https:// URL");
  }
  if (!IsLoopbackHost(UrlHost(url))) {
    return absl::InvalidArgumentError(
        "must be an https:// URL: http:// is allowed only for a loopback host (127.0.0.0/8, "
        "[::1], localhost)");
  }
  return absl::OkStatus();
}

}  // namespace operator_auth
