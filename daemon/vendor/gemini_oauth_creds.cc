// Gemini CLI's ~/.gemini/oauth_creds.json: google-auth-library's Credentials object as
// gemini-cli caches it (google-gemini/gemini-cli packages/core/src/code_assist/oauth2.ts,
// cacheCredentials):
//   {"access_token": "ya29...", "refresh_token": "1//...", "scope": "...",
//    "token_type": "Bearer", "id_token": "<jwt>", "expiry_date": <unix ms>}
// google-auth-library refreshes when less than eagerRefreshThresholdMillis (5 minutes) remain.
// Google does not rotate refresh tokens, but a refresh still changes the access token, which is
// what gemini-cli sends. Gemini CLI locks nothing around the file.
#include "absl/strings/str_cat.h"
#include "daemon/vendor/json_fields.h"
#include "daemon/vendor/vendor_format.h"

namespace operator_auth {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kProvider[] = "google-gemini-cli";

class GeminiOAuthCreds final : public VendorFormat {
 public:
  VendorSource source() const override { return VendorSource::kGeminiCli; }

  absl::StatusOr<std::vector<VendorLogin>> Read(const Json& file) const override {
    std::vector<VendorLogin> out;
    absl::StatusOr<std::string> access = OptionalStringField(file, "access_token", "the file");
    if (!access.ok()) return access.status();
    absl::StatusOr<std::string> refresh = OptionalStringField(file, "refresh_token", "the file");
    if (!refresh.ok()) return refresh.status();
    absl::StatusOr<int64_t> expires = OptionalMillisField(file, "expiry_date", "the file");
    if (!expires.ok()) return expires.status();
    if (access->empty() && refresh->empty()) return out;
    out.push_back(
        {kProvider, Credential::OAuth(*std::move(access), *std::move(refresh), *expires)});
    return out;
  }

  absl::Status Write(const VendorLogin& login, absl::Time, Json& file) const override {
    if (login.provider != kProvider || login.credential.type != CredentialType::kOAuth) {
      return absl::InvalidArgumentError(
          absl::StrCat("Gemini CLI's file holds only the ", kProvider, " OAuth login"));
    }
    file["access_token"] = login.credential.access.str();
    if (!login.credential.refresh.empty()) file["refresh_token"] = login.credential.refresh.str();
    file["expiry_date"] = login.credential.expires_unix_ms;
    if (!file.contains("token_type")) file["token_type"] = "Bearer";
    return absl::OkStatus();
  }

  std::vector<VendorLockSpec> Locks(const std::string&) const override { return {}; }

  absl::Duration RefreshLead() const override { return absl::Minutes(5); }
};

}  // namespace

const VendorFormat& GeminiOAuthCredsFormat() {
  static const GeminiOAuthCreds* const kFormat = new GeminiOAuthCreds();
  return *kFormat;
}

}  // namespace operator_auth
