// pi's $PI_CODING_AGENT_DIR/auth.json (~/.pi/agent/auth.json), the file providers.json's format
// comes from (badlogic/pi-mono packages/coding-agent, AuthStorage): provider id -> entry,
//   {"type": "api_key", "key": "..."} or
//   {"type": "oauth", "refresh": "...", "access": "...", "expires": <unix ms>, ...}
// pi calls the Claude subscription "anthropic", which is our anthropic-claude-code when it is an
// OAuth entry; every other id is ours as it is. pi refreshes when the stored expiry has passed
// (for anthropic and github-copilot it stores the expiry 5 minutes early), under a
// proper-lockfile lock on the file itself: the directory auth.json.lock, stale 30 s; after
// taking it pi re-reads the file and skips the refresh when the token is no longer expired
// (earendil-works/pi and jbutlerdev/pi-mono packages/coding-agent/src/core/auth-storage.ts).
#include "absl/strings/str_cat.h"
#include "common/provider_id.h"
#include "daemon/core/credential_document.h"
#include "daemon/vendor/vendor_format.h"

namespace operator_auth {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kPiAnthropic[] = "anthropic";
constexpr char kClaudeSubscription[] = "anthropic-claude-code";

// Our id for pi's entry `pi_id` of `type`.
std::string OurId(const std::string& pi_id, CredentialType type) {
  if (pi_id == kPiAnthropic && type == CredentialType::kOAuth) return kClaudeSubscription;
  return pi_id;
}

// pi's id for our login.
std::string PiId(const VendorLogin& login) {
  return login.provider == kClaudeSubscription ? kPiAnthropic : login.provider;
}

class PiAuthFile final : public VendorFormat {
 public:
  VendorSource source() const override { return VendorSource::kPi; }

  absl::StatusOr<std::vector<VendorLogin>> Read(const Json& file) const override {
    std::vector<VendorLogin> out;
    for (const auto& [pi_id, entry] : file.items()) {
      Credential credential = CredentialFromEntry(entry);
      if (!credential.usable()) continue;  // not a login we know
      std::string id = OurId(pi_id, credential.type);
      if (!ValidateProviderId(id).ok()) continue;
      out.push_back({std::move(id), std::move(credential)});
    }
    return out;
  }

  absl::Status Write(const VendorLogin& login, absl::Time, Json& file) const override {
    const std::string pi_id = PiId(login);
    Json& entry = file[pi_id];
    if (!entry.is_object()) entry = Json::object();
    switch (login.credential.type) {
      case CredentialType::kApiKey:
        entry = Json{{"type", "api_key"}, {"key", login.credential.key.str()}};
        return absl::OkStatus();
      case CredentialType::kOAuth:
        if (entry.value("type", "") != "oauth") entry = Json{{"type", "oauth"}};
        entry["refresh"] = login.credential.refresh.str();
        entry["access"] = login.credential.access.str();
        entry["expires"] = login.credential.expires_unix_ms;
        return absl::OkStatus();
      case CredentialType::kUnknown:
        break;
    }
    return absl::InvalidArgumentError(absl::StrCat("no login to write for ", login.provider));
  }

  std::vector<VendorLockSpec> Locks(const std::string& path) const override {
    return {{absl::StrCat(path, ".lock"), absl::Seconds(30), absl::Seconds(5)}};
  }

  absl::Duration RefreshLead() const override { return absl::Minutes(5); }
};

}  // namespace

const VendorFormat& PiAuthFormat() {
  static const PiAuthFile* const kFormat = new PiAuthFile();
  return *kFormat;
}

}  // namespace operator_auth
