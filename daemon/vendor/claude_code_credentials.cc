// Claude Code's ~/.claude/.credentials.json ($CLAUDE_CONFIG_DIR/.credentials.json on Linux):
//   {"claudeAiOauth": {"accessToken": "sk-ant-oat01-...", "refreshToken": "sk-ant-ort01-...",
//                      "expiresAt": <unix ms>, "scopes": [...], "subscriptionType": "max", ...},
//    ...other keys Claude Code keeps (MCP OAuth entries)}
// (code.claude.com/docs/en/authentication, "Credential storage"; the field set as third-party
// readers such as rajish/cc-hdrm Models/KeychainCredentials.swift decode it.)
// Claude Code refreshes when less than 5 minutes remain (isOAuthTokenExpired), holding two
// proper-lockfile locks: <dir>/.oauth_refresh.lock, and the older <dir>.lock (~/.claude.lock),
// with stale 60 s and update 5 s (anaclumos/tokenmaxxing#27, cnighswonger/claude-code-cache-fix
// #372, reading Claude Code 2.1.2xx; anthropics/claude-code#95236 shows the lock directory).
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "daemon/vendor/json_fields.h"
#include "daemon/vendor/vendor_format.h"

namespace operator_auth {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kProvider[] = "anthropic-claude-code";
constexpr char kObject[] = "claudeAiOauth";

std::string Directory(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

class ClaudeCodeCredentials final : public VendorFormat {
 public:
  VendorSource source() const override { return VendorSource::kClaudeCode; }

  absl::StatusOr<std::vector<VendorLogin>> Read(const Json& file) const override {
    absl::StatusOr<const Json*> oauth = OptionalObjectField(file, kObject, "the file");
    if (!oauth.ok()) return oauth.status();
    std::vector<VendorLogin> out;
    if (*oauth == nullptr) return out;
    absl::StatusOr<std::string> access = OptionalStringField(**oauth, "accessToken", kObject);
    if (!access.ok()) return access.status();
    absl::StatusOr<std::string> refresh = OptionalStringField(**oauth, "refreshToken", kObject);
    if (!refresh.ok()) return refresh.status();
    absl::StatusOr<int64_t> expires = OptionalMillisField(**oauth, "expiresAt", kObject);
    if (!expires.ok()) return expires.status();
    if (access->empty() && refresh->empty()) return out;
    out.push_back(
        {kProvider, Credential::OAuth(*std::move(access), *std::move(refresh), *expires)});
    return out;
  }

  absl::Status Write(const VendorLogin& login, absl::Time, Json& file) const override {
    if (login.provider != kProvider || login.credential.type != CredentialType::kOAuth) {
      return absl::InvalidArgumentError(
          absl::StrCat("Claude Code's file holds only the ", kProvider, " OAuth login"));
    }
    Json& oauth = file[kObject];
    if (!oauth.is_object()) oauth = Json::object();
    oauth["accessToken"] = login.credential.access.str();
    oauth["refreshToken"] = login.credential.refresh.str();
    oauth["expiresAt"] = login.credential.expires_unix_ms;
    return absl::OkStatus();
  }

  std::vector<VendorLockSpec> Locks(const std::string& path) const override {
    const std::string dir = Directory(path);
    // The older lock sits beside the directory, in the home, which the systemd service may not
    // write: every Claude Code that takes it also takes the first one now.
    return {{absl::StrCat(dir, "/.oauth_refresh.lock"), absl::Seconds(60), absl::Seconds(5)},
            {absl::StrCat(dir, ".lock"), absl::Seconds(60), absl::Seconds(5), /*required=*/false}};
  }

  absl::Duration RefreshLead() const override { return absl::Minutes(5); }
};

}  // namespace

const VendorFormat& ClaudeCodeCredentialsFormat() {
  static const ClaudeCodeCredentials* const kFormat = new ClaudeCodeCredentials();
  return *kFormat;
}

}  // namespace operator_auth
