// core -> proto for a resolved key: its source and what a caller needs besides the key
// (KeyUsage). Shared by GetApiKey and WatchApiKey so that both answer the same. Pure.
#pragma once

#include "daemon/core/key_usage.h"
#include "daemon/core/provider_auth_manager.h"
#include "operator_auth/v1/auth.pb.h"

namespace operator_auth {

v1::CredentialSource ToProto(KeySource source);
// `out` must be empty (a fresh message): empty strings are left unset, not cleared.
void ToProto(const KeyUsage& in, v1::KeyUsage& out);

// The fields GetApiKeyResponse and ApiKeyUpdate share, filled from `key`: the key, its source,
// label, expiry and usage. `out` must be a fresh message. Who it names (provider, account) is
// each caller's own.
template <typename KeyMessage>
void FillKeyFields(const ResolvedKey& key, KeyMessage& out) {
  out.set_key(key.key.str());
  out.set_source(ToProto(key.source));
  out.set_label(key.label);
  out.set_expires_unix_ms(key.expires_unix_ms);
  ToProto(key.usage, *out.mutable_usage());
}

}  // namespace operator_auth
