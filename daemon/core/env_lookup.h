// How the managers read the daemon's environment (API keys, channel tokens). Injected so tests
// can supply their own; ProcessEnv reads the real one. Thread-safe as long as nothing calls
// setenv while the daemon runs.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace operator_auth {

// The variable's value, or nullopt when it is unset or empty.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

std::optional<std::string> ProcessEnv(const std::string& name);

}  // namespace operator_auth
