// Codex CLI's $CODEX_HOME/auth.json (~/.codex/auth.json), AuthDotJson in openai/codex
// codex-rs/login/src/auth/storage.rs and TokenData in codex-rs/login/src/token_data.rs:
//   {"auth_mode": ..., "OPENAI_API_KEY": "sk-..." | null,
//    "tokens": {"id_token": "<jwt>", "access_token": "<jwt>", "refresh_token": "...",
//               "account_id": "..."},
//    "last_refresh": "<RFC 3339>", ...}
// The access token is a JWT; its "exp" is the expiry. Codex refreshes when the token is expired
// or within five minutes of it, or when last_refresh is older than 8 days, and after a 401 it
// first re-reads the file (codex-rs/login/src/auth/manager.rs; openai/codex#23546). It takes no
// file lock and writes the file in place with mode 0600 (FileAuthStorage::save), so a reader can
// see a torn file: VendorSync reads again later when it does not parse.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/oauth/jwt_claims.h"
#include "daemon/vendor/json_fields.h"
#include "daemon/vendor/vendor_format.h"

namespace operator_auth {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kOAuthProvider[] = "openai-codex";
constexpr char kApiKeyProvider[] = "openai";

// The access token's "exp" in Unix milliseconds; 0 when it is not a JWT with one (Codex then
// goes by last_refresh).
int64_t JwtExpiryMillis(const std::string& token) {
  absl::StatusOr<nlohmann::json> claims = DecodeJwtClaims(token);
  if (!claims.ok()) return 0;
  auto exp = claims->find("exp");
  if (exp == claims->end() || !exp->is_number()) return 0;
  double seconds = exp->get<double>();
  if (!(seconds > 0 && seconds < 9.2e15)) return 0;
  return static_cast<int64_t>(seconds * 1000);
}

class CodexAuthFile final : public VendorFormat {
 public:
  VendorSource source() const override { return VendorSource::kCodex; }

  absl::StatusOr<std::vector<VendorLogin>> Read(const Json& file) const override {
    std::vector<VendorLogin> out;
    absl::StatusOr<std::string> api_key = OptionalStringField(file, "OPENAI_API_KEY", "the file");
    if (!api_key.ok()) return api_key.status();
    if (!api_key->empty()) {
      out.push_back({kApiKeyProvider, Credential::ApiKey(*std::move(api_key))});
    }
    absl::StatusOr<const Json*> tokens = OptionalObjectField(file, "tokens", "the file");
    if (!tokens.ok()) return tokens.status();
    if (*tokens == nullptr) return out;
    absl::StatusOr<std::string> access = OptionalStringField(**tokens, "access_token", "tokens");
    if (!access.ok()) return access.status();
    absl::StatusOr<std::string> refresh = OptionalStringField(**tokens, "refresh_token", "tokens");
    if (!refresh.ok()) return refresh.status();
    absl::StatusOr<std::string> account = OptionalStringField(**tokens, "account_id", "tokens");
    if (!account.ok()) return account.status();
    if (access->empty() && refresh->empty()) return out;
    const int64_t expires = JwtExpiryMillis(*access);
    Credential credential = Credential::OAuth(*std::move(access), *std::move(refresh), expires);
    credential.account_id = *std::move(account);
    out.push_back({kOAuthProvider, std::move(credential)});
    return out;
  }

  absl::Status Write(const VendorLogin& login, absl::Time now, Json& file) const override {
    if (login.provider == kApiKeyProvider && login.credential.type == CredentialType::kApiKey) {
      file["OPENAI_API_KEY"] = login.credential.key.str();
      return absl::OkStatus();
    }
    if (login.provider != kOAuthProvider || login.credential.type != CredentialType::kOAuth) {
      return absl::InvalidArgumentError(absl::StrCat("Codex's file holds only the ", kOAuthProvider,
                                                     " login and an ", kApiKeyProvider,
                                                     " API key"));
    }
    Json& tokens = file["tokens"];
    if (!tokens.is_object()) tokens = Json::object();
    tokens["access_token"] = login.credential.access.str();
    tokens["refresh_token"] = login.credential.refresh.str();
    if (!login.credential.account_id.empty()) tokens["account_id"] = login.credential.account_id;
    // Codex renews a token whose last_refresh is 8 days old: this refresh is its refresh.
    file["last_refresh"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", now, absl::UTCTimeZone());
    return absl::OkStatus();
  }

  std::vector<VendorLockSpec> Locks(const std::string&) const override { return {}; }

  absl::Duration RefreshLead() const override { return absl::Minutes(5); }
};

}  // namespace

const VendorFormat& CodexAuthFormat() {
  static const CodexAuthFile* const kFormat = new CodexAuthFile();
  return *kFormat;
}

}  // namespace operator_auth
