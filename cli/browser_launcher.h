// Opens a login URL in the user's browser with xdg-open when there is a graphical session (DISPLAY
// or WAYLAND_DISPLAY). xdg-open runs in a session of its own (a Ctrl-C meant for operatorctl does
// not reach the browser it starts), with stdin, stdout and stderr on /dev/null, and is not
// waited for: the destructor reaps the ones that have exited, init the rest. The URL goes on
// argv, so it must hold no secret (an authorize URL carries only a PKCE challenge and a state);
// its environment is ours scrubbed of secrets (scrubbed_environment.h).
// Thread-compatible.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace operator_auth::cli {

// True when DISPLAY or WAYLAND_DISPLAY is set and not empty.
bool HasGraphicalSession();

class BrowserLauncher {
 public:
  BrowserLauncher() = default;
  ~BrowserLauncher();

  BrowserLauncher(const BrowserLauncher&) = delete;
  BrowserLauncher& operator=(const BrowserLauncher&) = delete;

  // Starts `xdg-open url`. INVALID_ARGUMENT for anything but an http(s) URL; another error when
  // xdg-open cannot be started. Whether the browser then shows the page is not known here.
  absl::Status Open(const std::string& url);

 private:
  std::vector<pid_t> children_;
};

}  // namespace operator_auth::cli
