#include "cli/scrubbed_environment.h"

#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace operator_auth::cli {
namespace {

constexpr absl::string_view kKeptNames[] = {"PATH",
                                            "HOME",
                                            "BROWSER",
                                            "DISPLAY",
                                            "WAYLAND_DISPLAY",
                                            "XAUTHORITY",
                                            "DBUS_SESSION_BUS_ADDRESS",
                                            "LANG",
                                            "LANGUAGE"};
constexpr absl::string_view kKeptPrefixes[] = {"XDG_", "LC_"};
constexpr absl::string_view kSecretSuffixes[] = {"_KEY",      "_APIKEY", "_TOKEN", "_SECRET",
                                                 "_PASSWORD", "_PASSWD", "_PAT"};
constexpr absl::string_view kSecretParts[] = {"OAUTH", "CREDENTIAL", "SECRET", "PASSWORD", "TOKEN"};
constexpr absl::string_view kProjectPrefix = "OPERATOR_AUTH";

}  // namespace

bool IsSecretEnvironmentName(absl::string_view name) {
  const std::string upper = absl::AsciiStrToUpper(name);
  for (absl::string_view kept : kKeptNames) {
    if (upper == kept) return false;
  }
  for (absl::string_view prefix : kKeptPrefixes) {
    if (absl::StartsWith(upper, prefix)) return false;
  }
  if (absl::StartsWith(upper, kProjectPrefix)) return true;
  for (absl::string_view suffix : kSecretSuffixes) {
    if (absl::EndsWith(upper, suffix)) return true;
  }
  for (absl::string_view part : kSecretParts) {
    if (absl::StrContains(upper, part)) return true;
  }
  return false;
}

ScrubbedEnvironment::ScrubbedEnvironment(char* const* environment) {
  for (char* const* entry = environment; entry != nullptr && *entry != nullptr; ++entry) {
    const char* equals = std::strchr(*entry, '=');
    // An entry without "=" is malformed; nothing needs it.
    if (equals == nullptr) continue;
    if (IsSecretEnvironmentName(absl::string_view(*entry, equals - *entry))) continue;
    entries_.push_back(*entry);
  }
  entries_.push_back(nullptr);
}

}  // namespace operator_auth::cli
