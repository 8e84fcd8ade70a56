#include "key_conversion.h"

#include <cstdlib>

namespace operator_auth::client_internal {

std::optional<std::string> CallerEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

ApiKeySource FromProto(v1::CredentialSource source) {
  switch (source) {
    case v1::CREDENTIAL_SOURCE_RUNTIME:
      return ApiKeySource::kDaemonRuntime;
    case v1::CREDENTIAL_SOURCE_ENV:
      return ApiKeySource::kDaemonEnv;
    default:
      return ApiKeySource::kDaemonStored;
  }
}

}  // namespace operator_auth::client_internal
