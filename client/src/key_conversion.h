// Internal to the client library: what AuthClient and WatchedApiKey share about turning the
// daemon's answers, and this process's environment, into an ApiKey.
#pragma once

#include <optional>
#include <string>

#include "operator_auth/auth_client.h"

namespace operator_auth::client_internal {

// The variable's value in this process, or nullopt when unset or empty.
std::optional<std::string> CallerEnv(const std::string& name);

ApiKeySource FromProto(v1::CredentialSource source);

}  // namespace operator_auth::client_internal
