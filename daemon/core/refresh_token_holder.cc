#include "daemon/core/refresh_token_holder.h"

#include "common/credential_key.h"

namespace operator_auth {

std::string KeyHoldingRefreshToken(const std::map<std::string, Credential>& credentials,
                                   absl::string_view provider, const SecretString& refresh) {
  for (const auto& [key, credential] : credentials) {
    if (ProviderOfKey(key) == provider && credential.type == CredentialType::kOAuth &&
        credential.refresh == refresh) {
      return key;
    }
  }
  return "";
}

}  // namespace operator_auth
