#include "daemon/vendor/vendor_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

namespace operator_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::ordered_json;

// A value no error message may ever quote.
constexpr char kSecret[] = "sk-SECRET-must-not-leak-7f3a";

// An unsigned JWT whose payload is `claims`.
std::string Jwt(const Json& claims) {
  return absl::StrCat(absl::WebSafeBase64Escape(R"({"alg":"RS256","typ":"JWT"})"), ".",
                      absl::WebSafeBase64Escape(claims.dump()), ".c2ln");
}

std::vector<VendorLogin> ReadOk(const VendorFormat& format, const Json& file) {
  absl::StatusOr<std::vector<VendorLogin>> logins = format.Read(file);
  EXPECT_TRUE(logins.ok()) << logins.status();
  return logins.ok() ? *std::move(logins) : std::vector<VendorLogin>();
}

// Read must refuse `file`, naming `field` and never quoting kSecret.
void ExpectReadRefused(const VendorFormat& format, const Json& file, const std::string& field) {
  absl::StatusOr<std::vector<VendorLogin>> logins = format.Read(file);
  ASSERT_FALSE(logins.ok()) << file.dump();
  EXPECT_EQ(logins.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(logins.status().message(), HasSubstr(field));
  EXPECT_THAT(logins.status().message(), Not(HasSubstr(kSecret)));
}

VendorLogin OAuthLogin(const std::string& provider, const std::string& access,
                       const std::string& refresh, int64_t expires) {
  return {provider, Credential::OAuth(access, refresh, expires)};
}

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2025, 12, 3, 22, 13, 20), absl::UTCTimeZone()) +
    absl::Microseconds(123456);

TEST(VendorFormat, EachSourceHasItsFormat) {
  for (VendorSource source : {VendorSource::kClaudeCode, VendorSource::kCodex,
                              VendorSource::kGeminiCli, VendorSource::kPi}) {
    EXPECT_EQ(VendorFormatFor(source).source(), source);
    EXPECT_EQ(VendorFormatFor(source).RefreshLead(), absl::Minutes(5));
  }
}

// ---- Claude Code: ~/.claude/.credentials.json (code.claude.com/docs/en/authentication,
// "Credential storage"; the fields as rajish/cc-hdrm Models/KeychainCredentials.swift reads them).

Json ClaudeFile() {
  return Json::parse(R"({
    "claudeAiOauth": {
      "accessToken": "sk-ant-oat01-access",
      "refreshToken": "sk-ant-ort01-refresh",
      "expiresAt": 1764800000000,
      "scopes": ["user:inference", "user:profile"],
      "subscriptionType": "max",
      "rateLimitTier": "default_claude_max_20x"
    },
    "mcpOAuth": {"server|abc": {"accessToken": "mcp-token"}}
  })");
}

TEST(ClaudeCodeCredentialsFormat, ReadsTheLogin) {
  std::vector<VendorLogin> logins = ReadOk(ClaudeCodeCredentialsFormat(), ClaudeFile());
  ASSERT_EQ(logins.size(), 1u);
  EXPECT_EQ(logins[0].provider, "anthropic-claude-code");
  EXPECT_EQ(logins[0].credential.type, CredentialType::kOAuth);
  EXPECT_EQ(logins[0].credential.access.view(), "sk-ant-oat01-access");
  EXPECT_EQ(logins[0].credential.refresh.view(), "sk-ant-ort01-refresh");
  EXPECT_EQ(logins[0].credential.expires_unix_ms, 1764800000000);
}

TEST(ClaudeCodeCredentialsFormat, AFileWithoutALoginHoldsNone) {
  EXPECT_TRUE(ReadOk(ClaudeCodeCredentialsFormat(), Json::object()).empty());
  EXPECT_TRUE(ReadOk(ClaudeCodeCredentialsFormat(), Json{{"claudeAiOauth", nullptr}}).empty());
  EXPECT_TRUE(
      ReadOk(ClaudeCodeCredentialsFormat(), Json{{"claudeAiOauth", {{"scopes", Json::array()}}}})
          .empty());
}

TEST(ClaudeCodeCredentialsFormat, ErrorsNameTheFieldButNotTheValue) {
  const VendorFormat& format = ClaudeCodeCredentialsFormat();
  ExpectReadRefused(format, Json{{"claudeAiOauth", kSecret}}, "claudeAiOauth");
  Json file = ClaudeFile();
  file["claudeAiOauth"]["expiresAt"] = kSecret;
  ExpectReadRefused(format, file, "expiresAt");
  file = ClaudeFile();
  file["claudeAiOauth"]["accessToken"] = Json::array({kSecret});
  ExpectReadRefused(format, file, "accessToken");
  file = ClaudeFile();
  file["claudeAiOauth"]["refreshToken"] = Json{{"token", kSecret}};
  ExpectReadRefused(format, file, "refreshToken");
  file = ClaudeFile();
  file["claudeAiOauth"]["expiresAt"] = -5;
  ExpectReadRefused(format, file, "expiresAt");
}

TEST(ClaudeCodeCredentialsFormat, WriteKeepsWhatItDoesNotOwnAndRoundTrips) {
  Json file = ClaudeFile();
  VendorLogin login = OAuthLogin("anthropic-claude-code", "at-new", "rt-new", 1764900000000);
  ASSERT_TRUE(ClaudeCodeCredentialsFormat().Write(login, kNow, file).ok());
  Json want = ClaudeFile();
  want["claudeAiOauth"]["accessToken"] = "at-new";
  want["claudeAiOauth"]["refreshToken"] = "rt-new";
  want["claudeAiOauth"]["expiresAt"] = 1764900000000;
  EXPECT_EQ(file, want);
  std::vector<VendorLogin> logins = ReadOk(ClaudeCodeCredentialsFormat(), file);
  ASSERT_EQ(logins.size(), 1u);
  EXPECT_EQ(logins[0].credential.access.view(), "at-new");
  EXPECT_EQ(logins[0].credential.refresh.view(), "rt-new");
  EXPECT_EQ(logins[0].credential.expires_unix_ms, 1764900000000);

  // Into a file that has none yet.
  Json empty = Json{{"other", 1}};
  ASSERT_TRUE(ClaudeCodeCredentialsFormat().Write(login, kNow, empty).ok());
  EXPECT_EQ(empty["other"], 1);
  EXPECT_EQ(ReadOk(ClaudeCodeCredentialsFormat(), empty).size(), 1u);
}

TEST(ClaudeCodeCredentialsFormat, WriteRefusesAnotherLoginWithoutQuotingIt) {
  Json file = ClaudeFile();
  for (const VendorLogin& login :
       {OAuthLogin("openai-codex", kSecret, kSecret, 1),
        VendorLogin{"anthropic-claude-code", Credential::ApiKey(kSecret)}}) {
    absl::Status written = ClaudeCodeCredentialsFormat().Write(login, kNow, file);
    EXPECT_EQ(written.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(written.message(), Not(HasSubstr(kSecret)));
  }
  EXPECT_EQ(file, ClaudeFile());
}

TEST(ClaudeCodeCredentialsFormat, LocksTheRefreshLockThenTheConfigLock) {
  std::vector<VendorLockSpec> locks =
      ClaudeCodeCredentialsFormat().Locks("/home/me/.claude/.credentials.json");
  ASSERT_EQ(locks.size(), 2u);
  EXPECT_EQ(locks[0].path, "/home/me/.claude/.oauth_refresh.lock");
  EXPECT_EQ(locks[1].path, "/home/me/.claude.lock");
  EXPECT_TRUE(locks[0].required);
  EXPECT_FALSE(locks[1].required) << "the sandboxed service cannot write the home itself";
  for (const VendorLockSpec& lock : locks) {
    EXPECT_EQ(lock.stale, absl::Seconds(60));
    EXPECT_EQ(lock.update, absl::Seconds(5));
  }
}

// ---- Codex: $CODEX_HOME/auth.json, AuthDotJson in openai/codex
// codex-rs/login/src/auth/storage.rs and TokenData in codex-rs/login/src/token_data.rs.

constexpr int64_t kExpSeconds = 1764800000;

Json CodexFile() {
  return Json{{"auth_mode", "chatgpt"},
              {"OPENAI_API_KEY", nullptr},
              {"tokens",
               {{"id_token", Jwt({{"email", "me@example.com"}})},
                {"access_token", Jwt({{"exp", kExpSeconds}, {"sub", "user-1"}})},
                {"refresh_token", "rt-codex"},
                {"account_id", "acct-1"}}},
              {"last_refresh", "2025-11-30T10:00:00.000000Z"},
              {"agent_identity", {{"kept", true}}}};
}

TEST(CodexAuthFormat, ReadsTheTokensWithTheJwtExpiry) {
  std::vector<VendorLogin> logins = ReadOk(CodexAuthFormat(), CodexFile());
  ASSERT_EQ(logins.size(), 1u);  // OPENAI_API_KEY is null: no API key
  EXPECT_EQ(logins[0].provider, "openai-codex");
  EXPECT_EQ(logins[0].credential.type, CredentialType::kOAuth);
  EXPECT_EQ(logins[0].credential.refresh.view(), "rt-codex");
  EXPECT_EQ(logins[0].credential.account_id, "acct-1");
  EXPECT_EQ(logins[0].credential.expires_unix_ms, kExpSeconds * 1000);
}

TEST(CodexAuthFormat, AnAccessTokenThatIsNoJwtHasNoExpiry) {
  for (const std::string& access : {std::string("opaque-token"), Jwt({{"sub", "no exp"}}),
                                    Jwt({{"exp", "soon"}}), Jwt({{"exp", -1}})}) {
    Json file = CodexFile();
    file["tokens"]["access_token"] = access;
    std::vector<VendorLogin> logins = ReadOk(CodexAuthFormat(), file);
    ASSERT_EQ(logins.size(), 1u);
    EXPECT_EQ(logins[0].credential.expires_unix_ms, 0) << access;
  }
}

TEST(CodexAuthFormat, AnApiKeyStringIsTheOpenAiLogin) {
  Json file = CodexFile();
  file["OPENAI_API_KEY"] = "sk-proj-key";
  std::vector<VendorLogin> logins = ReadOk(CodexAuthFormat(), file);
  ASSERT_EQ(logins.size(), 2u);
  EXPECT_EQ(logins[0].provider, "openai");
  EXPECT_EQ(logins[0].credential.type, CredentialType::kApiKey);
  EXPECT_EQ(logins[0].credential.key.view(), "sk-proj-key");
  EXPECT_EQ(logins[1].provider, "openai-codex");

  Json key_only = Json{{"auth_mode", "apikey"}, {"OPENAI_API_KEY", "sk-proj-key"}};
  logins = ReadOk(CodexAuthFormat(), key_only);
  ASSERT_EQ(logins.size(), 1u);
  EXPECT_EQ(logins[0].provider, "openai");
  EXPECT_TRUE(ReadOk(CodexAuthFormat(), Json{{"OPENAI_API_KEY", nullptr}}).empty());
}

TEST(CodexAuthFormat, ErrorsNameTheFieldButNotTheValue) {
  Json file = CodexFile();
  file["OPENAI_API_KEY"] = Json::array({kSecret});
  ExpectReadRefused(CodexAuthFormat(), file, "OPENAI_API_KEY");
  file = CodexFile();
  file["tokens"] = kSecret;
  ExpectReadRefused(CodexAuthFormat(), file, "tokens");
  file = CodexFile();
  file["tokens"]["access_token"] = Json{{"value", kSecret}};
  ExpectReadRefused(CodexAuthFormat(), file, "access_token");
  file = CodexFile();
  file["tokens"]["refresh_token"] = Json::array({kSecret});
  ExpectReadRefused(CodexAuthFormat(), file, "refresh_token");
}

TEST(CodexAuthFormat, WriteKeepsWhatItDoesNotOwnAndStampsLastRefresh) {
  Json file = CodexFile();
  const std::string access = Jwt({{"exp", kExpSeconds + 3600}});
  VendorLogin login = OAuthLogin("openai-codex", access, "rt-new", 0);
  ASSERT_TRUE(CodexAuthFormat().Write(login, kNow, file).ok());
  Json want = CodexFile();
  want["tokens"]["access_token"] = access;
  want["tokens"]["refresh_token"] = "rt-new";
  want["last_refresh"] = "2025-12-03T22:13:20.123456Z";  // RFC 3339, UTC
  EXPECT_EQ(file, want);  // id_token, account_id, auth_mode, unknown keys kept
  std::vector<VendorLogin> logins = ReadOk(CodexAuthFormat(), file);
  ASSERT_EQ(logins.size(), 1u);
  EXPECT_EQ(logins[0].credential.access.view(), access);
  EXPECT_EQ(logins[0].credential.refresh.view(), "rt-new");
  EXPECT_EQ(logins[0].credential.expires_unix_ms, (kExpSeconds + 3600) * 1000);
  EXPECT_EQ(logins[0].credential.account_id, "acct-1");
}

TEST(CodexAuthFormat, WritesTheApiKeyAndRefusesOtherLogins) {
  Json file = CodexFile();
  ASSERT_TRUE(
      CodexAuthFormat().Write({"openai", Credential::ApiKey("sk-proj-new")}, kNow, file).ok());
  Json want = CodexFile();
  want["OPENAI_API_KEY"] = "sk-proj-new";
  EXPECT_EQ(file, want);

  absl::Status written =
      CodexAuthFormat().Write(OAuthLogin("openai", kSecret, kSecret, 1), kNow, file);
  EXPECT_EQ(written.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(written.message(), Not(HasSubstr(kSecret)));
  written =
      CodexAuthFormat().Write(OAuthLogin("anthropic-claude-code", kSecret, kSecret, 1), kNow, file);
  EXPECT_EQ(written.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(file, want);
  EXPECT_TRUE(CodexAuthFormat().Locks("/home/me/.codex/auth.json").empty());
}

// ---- Gemini CLI: ~/.gemini/oauth_creds.json, google-auth-library's Credentials as
// google-gemini/gemini-cli packages/core/src/code_assist/oauth2.ts caches them.

Json GeminiFile() {
  return Json::parse(R"({
    "access_token": "ya29.access",
    "refresh_token": "1//refresh",
    "scope": "https://www.googleapis.com/auth/cloud-platform openid",
    "token_type": "Bearer",
    "id_token": "eyJ.id.token",
    "expiry_date": 1764800000000
  })");
}

TEST(GeminiOAuthCredsFormat, ReadsTheLogin) {
  std::vector<VendorLogin> logins = ReadOk(GeminiOAuthCredsFormat(), GeminiFile());
  ASSERT_EQ(logins.size(), 1u);
  EXPECT_EQ(logins[0].provider, "google-gemini-cli");
  EXPECT_EQ(logins[0].credential.access.view(), "ya29.access");
  EXPECT_EQ(logins[0].credential.refresh.view(), "1//refresh");
  EXPECT_EQ(logins[0].credential.expires_unix_ms, 1764800000000);
  EXPECT_TRUE(ReadOk(GeminiOAuthCredsFormat(), Json{{"scope", "x"}}).empty());
}

TEST(GeminiOAuthCredsFormat, ErrorsNameTheFieldButNotTheValue) {
  Json file = GeminiFile();
  file["expiry_date"] = kSecret;
  ExpectReadRefused(GeminiOAuthCredsFormat(), file, "expiry_date");
  file = GeminiFile();
  file["access_token"] = Json::array({kSecret});
  ExpectReadRefused(GeminiOAuthCredsFormat(), file, "access_token");
  file = GeminiFile();
  file["refresh_token"] = Json{{"v", kSecret}};
  ExpectReadRefused(GeminiOAuthCredsFormat(), file, "refresh_token");
}

TEST(GeminiOAuthCredsFormat, WriteKeepsWhatItDoesNotOwnAndRoundTrips) {
  Json file = GeminiFile();
  file["token_type"] = "bearer";  // whatever the CLI wrote stays
  ASSERT_TRUE(
      GeminiOAuthCredsFormat()
          .Write(OAuthLogin("google-gemini-cli", "ya29.new", "1//new", 1764900000000), kNow, file)
          .ok());
  Json want = GeminiFile();
  want["token_type"] = "bearer";
  want["access_token"] = "ya29.new";
  want["refresh_token"] = "1//new";
  want["expiry_date"] = 1764900000000;
  EXPECT_EQ(file, want);

  // Google does not rotate refresh tokens: a login without one keeps the file's.
  ASSERT_TRUE(
      GeminiOAuthCredsFormat()
          .Write(OAuthLogin("google-gemini-cli", "ya29.newer", "", 1764990000000), kNow, file)
          .ok());
  std::vector<VendorLogin> logins = ReadOk(GeminiOAuthCredsFormat(), file);
  ASSERT_EQ(logins.size(), 1u);
  EXPECT_EQ(logins[0].credential.access.view(), "ya29.newer");
  EXPECT_EQ(logins[0].credential.refresh.view(), "1//new");
  EXPECT_EQ(logins[0].credential.expires_unix_ms, 1764990000000);
}

TEST(GeminiOAuthCredsFormat, TokenTypeIsDefaulted) {
  Json file = Json::object();
  ASSERT_TRUE(GeminiOAuthCredsFormat()
                  .Write(OAuthLogin("google-gemini-cli", "ya29.a", "1//r", 1), kNow, file)
                  .ok());
  EXPECT_EQ(file["token_type"], "Bearer");
  EXPECT_EQ(ReadOk(GeminiOAuthCredsFormat(), file).size(), 1u);
  absl::Status refused = GeminiOAuthCredsFormat().Write(
      {"google-gemini-cli", Credential::ApiKey(kSecret)}, kNow, file);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), Not(HasSubstr(kSecret)));
  EXPECT_TRUE(GeminiOAuthCredsFormat().Locks("/home/me/.gemini/oauth_creds.json").empty());
}

// ---- pi: ~/.pi/agent/auth.json (badlogic/pi-mono packages/coding-agent
// src/core/auth-storage.ts): provider id -> {"type": "api_key", ...} | {"type": "oauth", ...}.

Json PiFile() {
  return Json::parse(R"({
    "anthropic": {"type": "oauth", "refresh": "sk-ant-ort01-pi", "access": "sk-ant-oat01-pi",
                  "expires": 1764800000000},
    "google-gemini-cli": {"type": "oauth", "refresh": "1//pi", "access": "ya29.pi",
                          "expires": 1764800000000, "projectId": "proj-1", "email": "me@x"},
    "openrouter": {"type": "api_key", "key": "sk-or-key"}
  })");
}

TEST(PiAuthFormat, ReadsEveryLoginUnderOurIds) {
  std::vector<VendorLogin> logins = ReadOk(PiAuthFormat(), PiFile());
  ASSERT_EQ(logins.size(), 3u);
  EXPECT_EQ(logins[0].provider, "anthropic-claude-code");  // pi's "anthropic" OAuth
  EXPECT_EQ(logins[0].credential.access.view(), "sk-ant-oat01-pi");
  EXPECT_EQ(logins[0].credential.expires_unix_ms, 1764800000000);
  EXPECT_EQ(logins[1].provider, "google-gemini-cli");
  EXPECT_EQ(logins[1].credential.Attribute(kProjectIdAttribute, kProjectIdAttributePi), "proj-1");
  EXPECT_EQ(logins[2].provider, "openrouter");
  EXPECT_EQ(logins[2].credential.key.view(), "sk-or-key");
}

TEST(PiAuthFormat, AnAnthropicApiKeyStaysAnthropic) {
  std::vector<VendorLogin> logins =
      ReadOk(PiAuthFormat(), Json{{"anthropic", {{"type", "api_key"}, {"key", "sk-ant-api"}}}});
  ASSERT_EQ(logins.size(), 1u);
  EXPECT_EQ(logins[0].provider, "anthropic");
  EXPECT_EQ(logins[0].credential.type, CredentialType::kApiKey);

  Json file = Json{{"anthropic", {{"type", "api_key"}, {"key", "sk-ant-api"}}}};
  ASSERT_TRUE(
      PiAuthFormat().Write({"anthropic", Credential::ApiKey("sk-ant-new")}, kNow, file).ok());
  EXPECT_EQ(file, (Json{{"anthropic", {{"type", "api_key"}, {"key", "sk-ant-new"}}}}));
}

TEST(PiAuthFormat, SkipsInvalidIdsAndUnusableEntries) {
  Json file = PiFile();
  file["Not A Provider!"] = {{"type", "api_key"}, {"key", "k"}};
  file["no-tokens"] = {{"type", "oauth"}, {"expires", 1}};
  file["unknown-type"] = {{"type", "session"}, {"key", "k"}};
  file["no-type"] = {{"key", "k"}};
  file["not-an-object"] = kSecret;
  file["empty-key"] = {{"type", "api_key"}, {"key", ""}};
  file["bad-field"] = {{"type", "api_key"}, {"key", Json::array({kSecret})}};
  std::vector<VendorLogin> logins = ReadOk(PiAuthFormat(), file);
  std::vector<std::string> providers;
  for (const VendorLogin& login : logins) providers.push_back(login.provider);
  EXPECT_THAT(providers,
              ::testing::ElementsAre("anthropic-claude-code", "google-gemini-cli", "openrouter"));
  EXPECT_TRUE(ReadOk(PiAuthFormat(), Json::object()).empty());
}

TEST(PiAuthFormat, WriteKeepsWhatItDoesNotOwnAndRoundTrips) {
  Json file = PiFile();
  ASSERT_TRUE(
      PiAuthFormat()
          .Write(OAuthLogin("anthropic-claude-code", "at-new", "rt-new", 1764900000000), kNow, file)
          .ok());
  ASSERT_TRUE(
      PiAuthFormat()
          .Write(OAuthLogin("google-gemini-cli", "ya29.new", "1//new", 1764900000001), kNow, file)
          .ok());
  Json want = PiFile();
  want["anthropic"]["refresh"] = "rt-new";
  want["anthropic"]["access"] = "at-new";
  want["anthropic"]["expires"] = 1764900000000;
  want["google-gemini-cli"]["refresh"] = "1//new";
  want["google-gemini-cli"]["access"] = "ya29.new";
  want["google-gemini-cli"]["expires"] = 1764900000001;
  EXPECT_EQ(file, want);  // no "anthropic-claude-code" key; projectId and email kept
  std::vector<VendorLogin> logins = ReadOk(PiAuthFormat(), file);
  ASSERT_EQ(logins.size(), 3u);
  EXPECT_EQ(logins[0].provider, "anthropic-claude-code");
  EXPECT_EQ(logins[0].credential.access.view(), "at-new");
  EXPECT_EQ(logins[0].credential.refresh.view(), "rt-new");
  EXPECT_EQ(logins[0].credential.expires_unix_ms, 1764900000000);
}

TEST(PiAuthFormat, WriteReplacesAnEntryOfAnotherType) {
  Json file = Json{{"openai", {{"type", "api_key"}, {"key", "sk-old"}}}};
  ASSERT_TRUE(PiAuthFormat().Write(OAuthLogin("openai", "at", "rt", 5), kNow, file).ok());
  EXPECT_EQ(
      file,
      (Json{{"openai", {{"type", "oauth"}, {"refresh", "rt"}, {"access", "at"}, {"expires", 5}}}}));
  Credential unknown;
  unknown.problem = "unusable";
  absl::Status refused = PiAuthFormat().Write({"openai", unknown}, kNow, file);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
}

TEST(PiAuthFormat, LocksTheFileItself) {
  std::vector<VendorLockSpec> locks = PiAuthFormat().Locks("/home/me/.pi/agent/auth.json");
  ASSERT_EQ(locks.size(), 1u);
  EXPECT_EQ(locks[0].path, "/home/me/.pi/agent/auth.json.lock");
  EXPECT_EQ(locks[0].stale, absl::Seconds(30));
}

}  // namespace
}  // namespace operator_auth
