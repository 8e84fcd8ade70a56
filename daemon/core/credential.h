// The credential model of providers.json, one entry per provider id:
//   {"type": "api_key", "key": "..."}
//   {"type": "oauth", "access": "...", "refresh": "...", "expires": <unix ms>, "account_id": "..."}
// (pi's spelling "accountId" is read too; "account_id" is what we write).
// A Credential is the parsed, typed view of an entry; the entry's JSON itself (with every field we
// do not understand) lives in CredentialDocument. Plain value type; the secrets in it are
// SecretStrings, wiped when a credential is dropped.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "daemon/core/secret_string.h"

namespace operator_auth {

enum class CredentialType { kApiKey, kOAuth, kUnknown };

struct Credential {
  CredentialType type = CredentialType::kUnknown;
  // The entry's "type" as written, kept so status can say what an unknown entry claims to be.
  std::string type_name;

  // kApiKey
  SecretString key;

  // kOAuth
  SecretString access;
  SecretString refresh;
  int64_t expires_unix_ms = 0;
  std::string account_id;
  // Other top-level string fields of an OAuth entry that a provider's dialect keeps, such as
  // GitHub Copilot's "enterprise_url" or Google's "project_id". Written back by Put.
  std::map<std::string, std::string> attributes;

  // Why an entry of a known type is unusable (e.g. "key" is not a string); empty when usable.
  std::string problem;

  static Credential ApiKey(std::string api_key) {
    Credential c;
    c.type = CredentialType::kApiKey;
    c.type_name = "api_key";
    c.key = SecretString(std::move(api_key));
    return c;
  }

  static Credential OAuth(std::string access_token, std::string refresh_token,
                          int64_t expires_unix_ms) {
    Credential c;
    c.type = CredentialType::kOAuth;
    c.type_name = "oauth";
    c.access = SecretString(std::move(access_token));
    c.refresh = SecretString(std::move(refresh_token));
    c.expires_unix_ms = expires_unix_ms;
    return c;
  }

  bool usable() const { return type != CredentialType::kUnknown && problem.empty(); }

  // True when the OAuth access token has a recorded expiry at or before `t`. The one expiry rule
  // for resolution (is it expired, margin included?) and refresh (is it still valid until the
  // callers' deadline?). Without an expiry (0) a token never expires.
  bool ExpiresBy(absl::Time t) const { return expires_unix_ms > 0 && ExpiryTime() <= t; }
  // When the access token stops working: InfiniteFuture without a recorded expiry (0).
  absl::Time ExpiryTime() const {
    return expires_unix_ms > 0 ? absl::FromUnixMillis(expires_unix_ms) : absl::InfiniteFuture();
  }

  // attributes[name], else attributes[alternate] (pi writes camelCase: "projectId",
  // "enterpriseUrl"); empty when neither holds a value. We read both, and write ours.
  const std::string& Attribute(const std::string& name, const std::string& alternate) const {
    static const std::string* const kEmpty = new std::string();
    for (const std::string* attribute : {&name, &alternate}) {
      auto it = attributes.find(*attribute);
      if (it != attributes.end() && !it->second.empty()) return it->second;
    }
    return *kEmpty;
  }
};

// Attribute names a dialect keeps, ours first and pi's spelling second.
inline constexpr char kProjectIdAttribute[] = "project_id";
inline constexpr char kProjectIdAttributePi[] = "projectId";
inline constexpr char kEnterpriseUrlAttribute[] = "enterprise_url";
inline constexpr char kEnterpriseUrlAttributePi[] = "enterpriseUrl";

}  // namespace operator_auth
