#include "common/default_paths.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace operator_auth {
namespace {

std::string EnvOrEmpty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

std::string UserHomeDirectory() {
  std::string home = EnvOrEmpty("HOME");
  if (!home.empty()) return home;
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* result = nullptr;
  if (getpwuid_r(getuid(), &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr &&
      result->pw_dir != nullptr) {
    return result->pw_dir;
  }
  return "/";
}

std::string DefaultOperatorHome() {
  std::string home = EnvOrEmpty("OPERATOR_HOME");
  if (!home.empty()) return home;
  return UserHomeDirectory() + "/.operator";
}

std::string DefaultSocketPath(const std::string& operator_home) {
  std::string explicit_path = EnvOrEmpty("OPERATOR_AUTHD_SOCKET");
  if (!explicit_path.empty()) return explicit_path;
  std::string runtime_dir = EnvOrEmpty("XDG_RUNTIME_DIR");
  if (!runtime_dir.empty()) return runtime_dir + "/operator/authd.sock";
  return operator_home + "/run/authd.sock";
}

std::string DefaultSocketPath() { return DefaultSocketPath(DefaultOperatorHome()); }

}  // namespace operator_auth
