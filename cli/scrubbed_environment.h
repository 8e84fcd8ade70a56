// The environment operatorctl hands to the programs it starts for the user (xdg-open, and the
// browser xdg-open starts): its own, minus every variable that may hold a secret. A browser
// outlives operatorctl, and its extensions, crash reporters and helpers see its environment.
// Thread-compatible.
#pragma once

#include <vector>

#include "absl/strings/string_view.h"

namespace operator_auth::cli {

// The rule, on the name compared in upper case:
// - kept whatever else matches: PATH, HOME, BROWSER, DISPLAY, WAYLAND_DISPLAY, XAUTHORITY,
//   DBUS_SESSION_BUS_ADDRESS, LANG, LANGUAGE, XDG_*, LC_* (what finding and showing a browser
//   in the user's session needs; none of them holds a secret);
// - dropped: names ending in _KEY (so _API_KEY, AWS_SECRET_ACCESS_KEY), _APIKEY, _TOKEN, _SECRET,
//   _PASSWORD, _PASSWD or _PAT; names containing OAUTH, CREDENTIAL, SECRET, PASSWORD or TOKEN;
//   and every OPERATOR_AUTH* variable (this project's; a browser needs none of them);
// - everything else is kept.
bool IsSecretEnvironmentName(absl::string_view name);

// A filtered copy of an `environ`-style array: the "NAME=value" entries whose name is not secret,
// in their order. It points into `environment` (no value is copied), so it is valid while that
// array's strings are, i.e. until the next setenv / putenv.
class ScrubbedEnvironment {
 public:
  explicit ScrubbedEnvironment(char* const* environment);

  // Null-terminated, for execve / posix_spawn.
  char* const* envp() const { return entries_.data(); }
  size_t size() const { return entries_.size() - 1; }

 private:
  std::vector<char*> entries_;
};

}  // namespace operator_auth::cli
