#include "daemon/oauth/authd_config_file.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace operator_auth {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr char kSource[] = "/home/u/.operator/authd.json";

const OAuthProviderConfig* FindProvider(const DaemonConfig& config, const std::string& id) {
  for (const OAuthProviderConfig& c : config.oauth_providers) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

// authd.json with `fields` as the override of built-in provider `id`.
std::string Override(const std::string& id, const Json& fields) {
  return Json{{"oauth_providers", {{id, fields}}}}.dump();
}

// The error ParseDaemonConfig gives for `text`; fails the test when it parses.
absl::Status ErrorOf(const std::string& text) {
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig(text, kSource);
  EXPECT_FALSE(config.ok()) << text;
  return config.ok() ? absl::OkStatus() : config.status();
}

TEST(AuthdConfigFile, AnEmptyFileMeansTheBuiltInsWithTheirAliases) {
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig("{}", kSource);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->oauth_providers.size(), BuiltInOAuthProviders().size());
  EXPECT_EQ(config->registry.aliases(), BuiltInAliases());
  EXPECT_NE(config->registry.Find("openai"), nullptr);  // API-key providers are there too
}

TEST(AuthdConfigFile, TheAliasesSectionAddsAliases) {
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig(
      R"({"aliases": {"work-claude": "anthropic-claude-code", "oai": "openai"}})", kSource);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->registry.Canonical("work-claude"), "anthropic-claude-code");
  EXPECT_EQ(config->registry.Canonical("oai"), "openai");                    // an API-key provider
  EXPECT_EQ(config->registry.Canonical("claude"), "anthropic-claude-code");  // built-ins stay
}

TEST(AuthdConfigFile, AnAliasOfACustomProviderIsAccepted) {
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig(
      R"({"oauth_providers": {"my-idp": {"flow": "device_code",
                                          "device_authorization_url": "https://idp.example/device",
                                          "token_url": "https://idp.example/token",
                                          "client_id": "cli"}},
          "aliases": {"idp": "my-idp"}})",
      kSource);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->registry.Canonical("idp"), "my-idp");
}

TEST(AuthdConfigFile, BadAliasesAreRefusedNamingTheFileAndTheAlias) {
  struct Case {
    const char* aliases;
    const char* alias;
  };
  for (const Case& c : {
           Case{R"({"openai": "openai-codex"})", "openai"},  // shadows a provider
           Case{R"({"claude": "openai-codex"})", "claude"},  // shadows a built-in alias
           Case{R"({"mine": "no-such-provider"})", "mine"},  // unknown target
           Case{R"({"Mine": "openai-codex"})", "Mine"},      // not a valid id
           Case{R"({"mine": 42})", "mine"},                  // not a string
       }) {
    absl::Status s = ErrorOf(absl::StrCat(R"({"aliases": )", c.aliases, "}"));
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(kSource)) << c.aliases;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.alias)) << c.aliases;
  }
  EXPECT_THAT(std::string(ErrorOf(R"({"aliases": ["claude"]})").message()), HasSubstr(kSource));
}

TEST(AuthdConfigFile, DisabledRemovesABuiltInProviderAndItsBuiltInAlias) {
  absl::StatusOr<DaemonConfig> config =
      ParseDaemonConfig(Override("google-antigravity", {{"disabled", true}}), kSource);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(FindProvider(*config, "google-antigravity"), nullptr);
  EXPECT_EQ(config->oauth_providers.size(), BuiltInOAuthProviders().size() - 1);
  EXPECT_EQ(config->registry.Find("google-antigravity"), nullptr);
  EXPECT_EQ(config->registry.aliases().count("antigravity"), 0u);
  EXPECT_EQ(config->registry.Canonical("gemini-cli"), "google-gemini-cli");
}

TEST(AuthdConfigFile, DisabledFalseKeepsTheProviderAndItsOverrides) {
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig(
      Override("openai-codex", {{"disabled", false}, {"token_url", "http://127.0.0.1:1/token"}}),
      kSource);
  ASSERT_TRUE(config.ok()) << config.status();
  const OAuthProviderConfig* codex = FindProvider(*config, "openai-codex");
  ASSERT_NE(codex, nullptr);
  EXPECT_EQ(codex->token_url, "http://127.0.0.1:1/token");
  EXPECT_EQ(config->registry.Canonical("codex"), "openai-codex");
}

TEST(AuthdConfigFile, AnAliasOfADisabledProviderIsRefused) {
  absl::Status s = ErrorOf(R"({"oauth_providers": {"openai-codex": {"disabled": true}},
                               "aliases": {"work-codex": "openai-codex"}})");
  EXPECT_THAT(std::string(s.message()), HasSubstr("work-codex"));
}

TEST(AuthdConfigFile, DisabledMustBeABoolean) {
  for (const Json& value : {Json("true"), Json(1), Json(nullptr)}) {
    absl::Status s = ErrorOf(Override("openai-codex", {{"disabled", value}}));
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("openai-codex.disabled")) << value;
    EXPECT_THAT(std::string(s.message()), HasSubstr(kSource));
  }
}

TEST(AuthdConfigFile, UserAgentMustBePrintableAsciiOfAtMost256Bytes) {
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig(
      Override("openai-codex", {{"user_agent", "codex_cli_rs/0.1 (Linux)"}}), kSource);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(FindProvider(*config, "openai-codex")->user_agent, "codex_cli_rs/0.1 (Linux)");
  EXPECT_TRUE(
      ParseDaemonConfig(Override("openai-codex", {{"user_agent", std::string(256, 'a')}}), kSource)
          .ok());

  // A header line break would let the value inject headers; non-ASCII is not a token either.
  for (const std::string& bad :
       {std::string("ua\r\nX-Injected: 1"), std::string("ua\x1b[31m"), std::string("ua\x7f"),
        std::string("caf\xc3\xa9"), std::string("tab\there"), std::string(257, 'a')}) {
    absl::Status s = ErrorOf(Override("openai-codex", {{"user_agent", bad}}));
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("openai-codex.user_agent"));
  }
  EXPECT_THAT(std::string(ErrorOf(Override("openai-codex", {{"user_agent", 7}})).message()),
              HasSubstr("user_agent"));
}

TEST(AuthdConfigFile, ProjectIdMustBeAGoogleCloudProjectId) {
  for (const char* good : {"my-project-123", "example.com:my-project"}) {
    absl::StatusOr<DaemonConfig> config =
        ParseDaemonConfig(Override("google-gemini-cli", {{"project_id", good}}), kSource);
    ASSERT_TRUE(config.ok()) << good << ": " << config.status();
    EXPECT_EQ(FindProvider(*config, "google-gemini-cli")->project_id, good);
  }
  for (const std::string& bad :
       {std::string(""), std::string("my project"), std::string("proj\"}, \"x\": {\""),
        std::string("a/b"), std::string(101, 'a')}) {
    absl::Status s = ErrorOf(Override("google-gemini-cli", {{"project_id", bad}}));
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("google-gemini-cli.project_id")) << bad;
  }
}

TEST(AuthdConfigFile, CodeAssistAndCopilotApiUrlsMustBeHttpUrls) {
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig(
      R"({"oauth_providers": {
            "google-gemini-cli": {"code_assist_url": "http://127.0.0.1:9/ca"},
            "github-copilot": {"copilot_api_url": "https://copilot.internal.example/"}}})",
      kSource);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(FindProvider(*config, "google-gemini-cli")->code_assist_url, "http://127.0.0.1:9/ca");
  EXPECT_EQ(FindProvider(*config, "github-copilot")->copilot_api_url,
            "https://copilot.internal.example/");

  struct Case {
    const char* provider;
    const char* key;
    Json value;
  };
  for (const Case& c : {Case{"google-gemini-cli", "code_assist_url", "ftp://x.example"},
                        Case{"google-gemini-cli", "code_assist_url", "cloudcode-pa.googleapis.com"},
                        Case{"google-antigravity", "code_assist_url", 443},
                        Case{"github-copilot", "copilot_api_url", "file:///etc/passwd"},
                        Case{"github-copilot", "copilot_api_url", "api.githubcopilot.com"}}) {
    absl::Status s = ErrorOf(Override(c.provider, {{c.key, c.value}}));
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(absl::StrCat(c.provider, ".", c.key)))
        << c.value;
  }
}

TEST(AuthdConfigFile, CodeAssistPollIntervalIsAWholeNumberFrom10To60000) {
  for (int64_t good : {10, 5000, 60000}) {
    absl::StatusOr<DaemonConfig> config = ParseDaemonConfig(
        Override("google-gemini-cli", {{"code_assist_poll_interval_ms", good}}), kSource);
    ASSERT_TRUE(config.ok()) << good << ": " << config.status();
    EXPECT_EQ(FindProvider(*config, "google-gemini-cli")->code_assist_poll_interval_ms, good);
  }
  for (const Json& bad : {Json(9), Json(60001), Json(0), Json(-5), Json(100.5), Json("100")}) {
    absl::Status s =
        ErrorOf(Override("google-gemini-cli", {{"code_assist_poll_interval_ms", bad}}));
    EXPECT_THAT(std::string(s.message()), HasSubstr("code_assist_poll_interval_ms")) << bad;
  }
}

TEST(AuthdConfigFile, AnUnknownTopLevelKeyIsRefused) {
  absl::Status s = ErrorOf(R"({"alias": {"c": "openai-codex"}})");
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(kSource));
  EXPECT_THAT(std::string(s.message()), HasSubstr("alias: unknown key"));
}

TEST(AuthdConfigFile, AnUnknownProviderKeyIsRefused) {
  absl::Status s = ErrorOf(Override("openai-codex", {{"tokenurl", "https://x.example/token"}}));
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(kSource));
  EXPECT_THAT(std::string(s.message()), HasSubstr("openai-codex.tokenurl: unknown key"));
}

TEST(AuthdConfigFile, GoogleProvidersDefaultToProductionCodeAssistAndTheirDialects) {
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig("{}", kSource);
  ASSERT_TRUE(config.ok()) << config.status();
  const OAuthProviderConfig* gemini = FindProvider(*config, "google-gemini-cli");
  const OAuthProviderConfig* antigravity = FindProvider(*config, "google-antigravity");
  ASSERT_NE(gemini, nullptr);
  ASSERT_NE(antigravity, nullptr);
  // gemini-cli packages/core/src/code_assist/server.ts: CODE_ASSIST_ENDPOINT.
  EXPECT_EQ(gemini->code_assist_url, "https://cloudcode-pa.googleapis.com");
  EXPECT_EQ(antigravity->code_assist_url, "https://cloudcode-pa.googleapis.com");
  EXPECT_EQ(gemini->dialect, OAuthDialect::kGoogleGeminiCli);
  EXPECT_EQ(antigravity->dialect, OAuthDialect::kGoogleAntigravity);
  EXPECT_TRUE(gemini->project_id.empty());
  EXPECT_EQ(gemini->code_assist_poll_interval_ms, 5000);  // gemini-cli setup.ts polls every 5 s
}

TEST(AuthdConfigFile, OpenAICodexHasTheCodexDeviceAuthorizationEndpoint) {
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig("{}", kSource);
  ASSERT_TRUE(config.ok()) << config.status();
  const OAuthProviderConfig* codex = FindProvider(*config, "openai-codex");
  ASSERT_NE(codex, nullptr);
  // codex-rs codex-rs/login/src/device_code_auth.rs: POST
  // {issuer}/api/accounts/deviceauth/usercode.
  EXPECT_THAT(codex->device_authorization_url, EndsWith("/api/accounts/deviceauth/usercode"));
  EXPECT_EQ(codex->dialect, OAuthDialect::kOpenAICodex);
}

TEST(AuthdConfigFile, LoadingAMissingOptionalFileGivesTheBuiltIns) {
  absl::StatusOr<DaemonConfig> config = LoadDaemonConfig("/nonexistent/authd.json", false);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->oauth_providers.size(), BuiltInOAuthProviders().size());
  absl::StatusOr<DaemonConfig> required = LoadDaemonConfig("/nonexistent/authd.json", true);
  EXPECT_TRUE(absl::IsNotFound(required.status())) << required.status();
}

TEST(AuthdConfigFile, TheAuditTrailIsOnByDefaultAndCanBeTurnedOffOrResized) {
  absl::StatusOr<DaemonConfig> defaults = ParseDaemonConfig("{}", kSource);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_TRUE(defaults->audit.enabled);
  EXPECT_EQ(defaults->audit.max_bytes, 4 * 1024 * 1024);
  absl::StatusOr<DaemonConfig> off = ParseDaemonConfig(R"({"audit": {"enabled": false}})", kSource);
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->audit.enabled);
  absl::StatusOr<DaemonConfig> sized =
      ParseDaemonConfig(R"({"audit": {"max_bytes": 65536}})", kSource);
  ASSERT_TRUE(sized.ok()) << sized.status();
  EXPECT_TRUE(sized->audit.enabled);
  EXPECT_EQ(sized->audit.max_bytes, 65536);
}

TEST(AuthdConfigFile, BadAuditSettingsAreRefusedNamingTheKey) {
  for (const char* text :
       {R"({"audit": true})", R"({"audit": {"enabled": "yes"}})", R"({"audit": {"max_bytes": 10}})",
        R"({"audit": {"max_bytes": 1.5}})", R"({"audit": {"path": "/tmp/x"}})"}) {
    absl::StatusOr<DaemonConfig> config = ParseDaemonConfig(text, kSource);
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_THAT(config.status().message(), HasSubstr("audit")) << text;
  }
}

}  // namespace
}  // namespace operator_auth
