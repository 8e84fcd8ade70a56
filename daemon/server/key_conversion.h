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

}  // namespace operator_auth
