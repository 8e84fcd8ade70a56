#include "daemon/server/key_conversion.h"

namespace operator_auth {

v1::CredentialSource ToProto(KeySource source) {
  switch (source) {
    case KeySource::kStored:
      return v1::CREDENTIAL_SOURCE_STORED;
    case KeySource::kRuntime:
      return v1::CREDENTIAL_SOURCE_RUNTIME;
    case KeySource::kEnv:
      return v1::CREDENTIAL_SOURCE_ENV;
  }
  return v1::CREDENTIAL_SOURCE_UNSPECIFIED;
}

void ToProto(const KeyUsage& in, v1::KeyUsage& out) {
  out.set_kind(in.kind == KeyKind::kOAuthAccessToken ? v1::KEY_KIND_OAUTH_ACCESS_TOKEN
                                                     : v1::KEY_KIND_API_KEY);
  // proto3 strings: empty is the same as unset on the wire, and setting one allocates.
  if (!in.account_id.empty()) out.set_account_id(in.account_id);
  if (!in.project_id.empty()) out.set_project_id(in.project_id);
  if (!in.base_url.empty()) out.set_base_url(in.base_url);
  for (const auto& [name, value] : in.headers) {
    v1::RequestHeader* header = out.add_headers();
    header->set_name(name);
    header->set_value(value);
  }
}

}  // namespace operator_auth
