#include "daemon/core/env_lookup.h"

#include <cstdlib>

namespace operator_auth {

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

}  // namespace operator_auth
