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

// The key in a GetApiKeyResponse or an ApiKeyUpdate (they share the fields); moves the key out.
template <typename Answer>
ApiKey ApiKeyFrom(Answer& answer) {
  ApiKey key;
  key.key = std::move(*answer.mutable_key());
  key.source = FromProto(answer.source());
  key.label = answer.label();
  key.expires_unix_ms = answer.expires_unix_ms();
  key.provider = answer.provider();
  key.account = answer.account();
  const v1::KeyUsage& usage = answer.usage();
  switch (usage.kind()) {
    case v1::KEY_KIND_API_KEY:
      key.kind = ApiKeyKind::kApiKey;
      break;
    case v1::KEY_KIND_OAUTH_ACCESS_TOKEN:
      key.kind = ApiKeyKind::kOAuthAccessToken;
      break;
    default:
      key.kind = ApiKeyKind::kUnknown;
  }
  key.account_id = usage.account_id();
  key.project_id = usage.project_id();
  key.base_url = usage.base_url();
  for (const v1::RequestHeader& h : usage.headers()) key.headers.emplace_back(h.name(), h.value());
  return key;
}

}  // namespace operator_auth::client_internal
