#include "cli/browser_launcher.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/scrubbed_environment.h"

extern char** environ;

namespace operator_auth::cli {
namespace {

bool IsSet(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0';
}

// Releases a posix_spawn_file_actions_t / posix_spawnattr_t on every path.
struct SpawnSetup {
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
};

}  // namespace

bool HasGraphicalSession() { return IsSet("DISPLAY") || IsSet("WAYLAND_DISPLAY"); }

BrowserLauncher::~BrowserLauncher() {
  for (pid_t child : children_) waitpid(child, nullptr, WNOHANG);
}

absl::Status BrowserLauncher::Open(const std::string& url) {
  // Also keeps a URL from reaching xdg-open as an option, or as a file: or other local scheme.
  if (!absl::StartsWith(url, "https://") && !absl::StartsWith(url, "http://")) {
    return absl::InvalidArgumentError("not an http(s) URL");
  }
  // posix_spawn rather than fork: this process has gRPC's threads, and posix_spawn does only
  // what is safe between fork and exec.
  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&setup.actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSID);
  std::string program = "xdg-open";
  std::string argument = url;
  char* argv[] = {program.data(), argument.data(), nullptr};
  // The browser xdg-open starts lives on with this environment: none of our secrets go along.
  const ScrubbedEnvironment environment(environ);
  pid_t child = -1;
  const int error =
      posix_spawnp(&child, "xdg-open", &setup.actions, &setup.attributes, argv, environment.envp());
  if (error != 0) {
    return absl::Status(
        absl::ErrnoToStatusCode(error),
        absl::StrCat("cannot start xdg-open: ", std::generic_category().message(error)));
  }
  children_.push_back(child);
  return absl::OkStatus();
}

}  // namespace operator_auth::cli
