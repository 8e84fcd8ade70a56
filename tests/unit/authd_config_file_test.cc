#include "daemon/oauth/authd_config_file.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace operator_auth {
namespace {

using ::testing::ElementsAre;
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

// authd.json with `fleet` as its "fleet" section.
std::string WithFleet(const Json& fleet) { return Json{{"fleet", fleet}}.dump(); }

// A valid "fleet" section: one etcd on this host, plain http.
Json LocalFleet() {
  return Json{{"etcd_endpoints", Json::array({"http://127.0.0.1:2379"})},
              {"name", "home"},
              {"key_file", "/home/u/.operator/fleet.key"}};
}

// LocalFleet with `endpoints` in place of its one.
Json FleetAt(const Json& endpoints) {
  Json fleet = LocalFleet();
  fleet["etcd_endpoints"] = endpoints;
  return fleet;
}

// Expects `fleet` refused with a message that names the file, `key` (a path from "fleet") and
// `gist`.
void ExpectFleetError(const Json& fleet, const std::string& key, const std::string& gist) {
  absl::Status s = ErrorOf(WithFleet(fleet));
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(kSource)) << fleet;
  EXPECT_THAT(std::string(s.message()), HasSubstr(absl::StrCat(key, ": "))) << fleet;
  EXPECT_THAT(std::string(s.message()), HasSubstr(gist)) << fleet;
}

TEST(AuthdConfigFile, WithoutAFleetSectionThereIsNoFleet) {
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig("{}", kSource);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->fleet.has_value());
}

TEST(AuthdConfigFile, AFleetSectionIsReadWhole) {
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig(
      R"({"fleet": {"etcd_endpoints": ["https://etcd1.example:2379", "https://10.0.0.2:2379/",
                                       "http://127.0.0.1:12379"],
                    "name": "home-lab.eu_1",
                    "key_file": "/home/u/.operator/fleet.key",
                    "tls": {"ca_file": "/etc/etcd/ca.pem", "cert_file": "/etc/etcd/client.pem",
                            "key_file": "/etc/etcd/client-key.pem"}},
          "audit": {"enabled": false}})",
      kSource);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->fleet.has_value());
  const FleetConfig& fleet = *config->fleet;
  EXPECT_THAT(fleet.etcd_endpoints,
              ElementsAre("https://etcd1.example:2379", "https://10.0.0.2:2379/",
                          "http://127.0.0.1:12379"));
  EXPECT_EQ(fleet.name, "home-lab.eu_1");
  EXPECT_EQ(fleet.key_file, "/home/u/.operator/fleet.key");
  EXPECT_EQ(fleet.tls.ca_file, "/etc/etcd/ca.pem");
  EXPECT_EQ(fleet.tls.cert_file, "/etc/etcd/client.pem");
  EXPECT_EQ(fleet.tls.key_file, "/etc/etcd/client-key.pem");
  // The other sections are read as without it.
  EXPECT_FALSE(config->audit.enabled);
  EXPECT_EQ(config->oauth_providers.size(), BuiltInOAuthProviders().size());
}

TEST(AuthdConfigFile, AFleetOnThisHostNeedsNoTls) {
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig(WithFleet(LocalFleet()), kSource);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->fleet.has_value());
  EXPECT_THAT(config->fleet->etcd_endpoints, ElementsAre("http://127.0.0.1:2379"));
  EXPECT_TRUE(config->fleet->tls.ca_file.empty());
  EXPECT_TRUE(config->fleet->tls.cert_file.empty());
  EXPECT_TRUE(config->fleet->tls.key_file.empty());
}

TEST(AuthdConfigFile, FleetMustBeAnObjectOfKnownKeys) {
  ExpectFleetError(Json::array({"http://127.0.0.1:2379"}), "fleet", "must be an object");
  ExpectFleetError("home", "fleet", "must be an object");
  Json typo = LocalFleet();
  typo["endpoints"] = Json::array({"http://127.0.0.1:2379"});
  ExpectFleetError(typo, "fleet.endpoints", "unknown key");
  Json tls_typo = FleetAt(Json::array({"https://etcd.example:2379"}));
  tls_typo["tls"] = Json{{"ca_file", "/etc/etcd/ca.pem"}, {"ca", "/etc/etcd/ca.pem"}};
  ExpectFleetError(tls_typo, "fleet.tls.ca", "unknown key");
  Json tls_not_object = FleetAt(Json::array({"https://etcd.example:2379"}));
  tls_not_object["tls"] = "/etc/etcd/ca.pem";
  ExpectFleetError(tls_not_object, "fleet.tls", "must be an object");
}

// Values are sealed, but the seal binds the etcd key, not the revision: on a plain connection
// anyone on the path could put back an older document.
TEST(AuthdConfigFile, PlainHttpToEtcdIsForLoopbackHostsOnly) {
  for (const char* good : {"http://127.0.0.1:2379", "http://[::1]:2379", "http://localhost:2379",
                           "http://127.0.0.2:2379/", "http://LocalHost:2379"}) {
    absl::StatusOr<DaemonConfig> config =
        ParseDaemonConfig(WithFleet(FleetAt(Json::array({good}))), kSource);
    ASSERT_TRUE(config.ok()) << good << ": " << config.status();
    EXPECT_THAT(config->fleet->etcd_endpoints, ElementsAre(good));
  }
  for (const char* bad :
       {"http://10.0.0.2:2379", "http://etcd.example:2379", "http://[::2]:2379",
        "http://127.0.0.1.example:2379", "http://localhost.example:2379", "http://0.0.0.0:2379"}) {
    ExpectFleetError(FleetAt(Json::array({bad})), "fleet.etcd_endpoints[0]",
                     "http:// only to a loopback host");
  }
  // The error names the endpoint by its index.
  ExpectFleetError(FleetAt(Json::array({"http://127.0.0.1:2379", "http://etcd.example:2379"})),
                   "fleet.etcd_endpoints[1]", "use https:// with \"tls\"");
}

TEST(AuthdConfigFile, AnEtcdEndpointIsASchemeAHostAndAPortOnly) {
  for (const char* bad :
       {"127.0.0.1:2379", "HTTP://127.0.0.1:2379", "grpc://127.0.0.1:2379", "http://127.0.0.1",
        "http://127.0.0.1:", "http://:2379", "http://127.0.0.1:2379/v3", "http://127.0.0.1:2379//",
        "http://127.0.0.1:2379?x=1", "http://127.0.0.1:http", "http://127.0.0.1:+2379",
        "http://127.0.0.1: 2379", "http://::1:2379", "http://user@127.0.0.1:2379",
        "http://127.0.0.1#@etcd.example:2379", "http://[]:2379", "http://[::1:2379", ""}) {
    ExpectFleetError(FleetAt(Json::array({bad})), "fleet.etcd_endpoints[0]",
                     "must be http://HOST:PORT or https://HOST:PORT");
  }
  for (const char* bad : {"http://127.0.0.1:0", "http://127.0.0.1:65536", "http://127.0.0.1:99999",
                          "http://127.0.0.1:1000000"}) {
    ExpectFleetError(FleetAt(Json::array({bad})), "fleet.etcd_endpoints[0]", "1 to 65535");
  }
  for (const char* good : {"http://127.0.0.1:1", "http://127.0.0.1:65535"}) {
    absl::StatusOr<DaemonConfig> config =
        ParseDaemonConfig(WithFleet(FleetAt(Json::array({good}))), kSource);
    EXPECT_TRUE(config.ok()) << good << ": " << config.status();
  }
}

TEST(AuthdConfigFile, EtcdEndpointsAreOneToSixteenDistinctStrings) {
  Json absent = LocalFleet();
  absent.erase("etcd_endpoints");
  ExpectFleetError(absent, "fleet.etcd_endpoints", "required");
  ExpectFleetError(FleetAt("http://127.0.0.1:2379"), "fleet.etcd_endpoints", "must be an array");
  ExpectFleetError(FleetAt(Json::array()), "fleet.etcd_endpoints", "must not be empty");
  ExpectFleetError(FleetAt(Json::array({"http://127.0.0.1:2379", 2380})), "fleet.etcd_endpoints[1]",
                   "must be a string");

  Json sixteen = Json::array();
  for (int i = 0; i < 16; ++i) sixteen.push_back(absl::StrCat("http://127.0.0.1:", 2379 + i));
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig(WithFleet(FleetAt(sixteen)), kSource);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->fleet->etcd_endpoints.size(), 16u);
  Json seventeen = sixteen;
  seventeen.push_back("http://127.0.0.1:3000");
  ExpectFleetError(FleetAt(seventeen), "fleet.etcd_endpoints", "at most 16 endpoints");

  ExpectFleetError(FleetAt(Json::array({"http://127.0.0.1:2379", "http://127.0.0.1:2379"})),
                   "fleet.etcd_endpoints[1]", "duplicate of [0]");
  // A trailing "/" (which EtcdKv drops) or upper case in the host makes no other member.
  ExpectFleetError(FleetAt(Json::array({"http://127.0.0.1:2379", "http://localhost:2379",
                                        "http://127.0.0.1:2379/"})),
                   "fleet.etcd_endpoints[2]", "duplicate of [0]");
  Json both = FleetAt(Json::array({"https://etcd.example:2379", "https://ETCD.example:2379"}));
  both["tls"] = Json{{"ca_file", "/etc/etcd/ca.pem"}};
  ExpectFleetError(both, "fleet.etcd_endpoints[1]", "duplicate of [0]");
  // Another port on the same host is another member.
  const Json two_ports = Json::array({"http://127.0.0.1:2379", "http://127.0.0.1:22379"});
  EXPECT_TRUE(ParseDaemonConfig(WithFleet(FleetAt(two_ports)), kSource).ok());
}

// The name goes into every etcd key: /operator-authd/<name>/.
TEST(AuthdConfigFile, AFleetNameIsAShortLowerCaseWord) {
  for (const std::string& good : {std::string("a"), std::string("0"), std::string("home"),
                                  std::string("prod-eu.1_b"), std::string(63, 'a')}) {
    Json fleet = LocalFleet();
    fleet["name"] = good;
    absl::StatusOr<DaemonConfig> config = ParseDaemonConfig(WithFleet(fleet), kSource);
    ASSERT_TRUE(config.ok()) << good << ": " << config.status();
    EXPECT_EQ(config->fleet->name, good);
  }
  for (const std::string& bad :
       {std::string(""), std::string("-x"), std::string(".x"), std::string("_x"), std::string("A"),
        std::string("Home"), std::string(64, 'a'), std::string("a/b"), std::string(".."),
        std::string("a b"), std::string("caf\xc3\xa9")}) {
    Json fleet = LocalFleet();
    fleet["name"] = bad;
    ExpectFleetError(fleet, "fleet.name", "must be 1 to 63 of a-z");
  }
  Json number = LocalFleet();
  number["name"] = 7;
  ExpectFleetError(number, "fleet.name", "must be a string");
  Json absent = LocalFleet();
  absent.erase("name");
  ExpectFleetError(absent, "fleet.name", "required");
}

TEST(AuthdConfigFile, TheFleetKeyFileIsRequiredAndAbsolute) {
  Json absent = LocalFleet();
  absent.erase("key_file");
  ExpectFleetError(absent, "fleet.key_file", "required (write one with operatorctl fleet keygen");
  for (const char* relative : {"fleet.key", "./fleet.key", "~/.operator/fleet.key", ""}) {
    Json fleet = LocalFleet();
    fleet["key_file"] = relative;
    ExpectFleetError(fleet, "fleet.key_file", "must be an absolute path");
  }
  Json number = LocalFleet();
  number["key_file"] = 1;
  ExpectFleetError(number, "fleet.key_file", "must be a string");
}

TEST(AuthdConfigFile, HttpsEndpointsNeedTheClustersCa) {
  // Named by the first https:// endpoint.
  Json no_tls = FleetAt(Json::array({"http://127.0.0.1:2379", "https://etcd.example:2379"}));
  ExpectFleetError(no_tls, "fleet.etcd_endpoints[1]",
                   "https:// needs \"tls\" with at least ca_file");
  Json client_cert_only = FleetAt(Json::array({"https://etcd.example:2379"}));
  client_cert_only["tls"] =
      Json{{"cert_file", "/etc/etcd/client.pem"}, {"key_file", "/etc/etcd/client-key.pem"}};
  ExpectFleetError(client_cert_only, "fleet.etcd_endpoints[0]",
                   "https:// needs \"tls\" with at least ca_file");

  Json ca_only = FleetAt(Json::array({"https://etcd.example:2379"}));
  ca_only["tls"] = Json{{"ca_file", "/etc/etcd/ca.pem"}};
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig(WithFleet(ca_only), kSource);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->fleet->tls.ca_file, "/etc/etcd/ca.pem");
  EXPECT_TRUE(config->fleet->tls.cert_file.empty());
}

TEST(AuthdConfigFile, BadFleetTlsSettingsAreRefusedNamingTheKey) {
  const Json https = Json::array({"https://etcd.example:2379"});
  struct Case {
    Json tls;
    const char* key;
    const char* gist;
  };
  for (const Case& c : {
           Case{Json{{"ca_file", "ca.pem"}}, "fleet.tls.ca_file", "must be an absolute path"},
           Case{Json{{"ca_file", ""}}, "fleet.tls.ca_file", "must be an absolute path"},
           Case{Json{{"ca_file", 1}}, "fleet.tls.ca_file", "must be a string"},
           Case{Json{{"ca_file", "/ca.pem"}, {"cert_file", "client.pem"}, {"key_file", "/k.pem"}},
                "fleet.tls.cert_file", "must be an absolute path"},
           Case{Json{{"ca_file", "/ca.pem"}, {"cert_file", "/c.pem"}, {"key_file", "k.pem"}},
                "fleet.tls.key_file", "must be an absolute path"},
           Case{Json{{"ca_file", "/ca.pem"}, {"cert_file", "/c.pem"}}, "fleet.tls",
                "cert_file and key_file go together"},
           Case{Json{{"ca_file", "/ca.pem"}, {"key_file", "/k.pem"}}, "fleet.tls",
                "cert_file and key_file go together"},
       }) {
    Json fleet = FleetAt(https);
    fleet["tls"] = c.tls;
    ExpectFleetError(fleet, c.key, c.gist);
  }
  // TLS for a fleet that has no https:// endpoint is a mistake in one of the two.
  Json plain = LocalFleet();
  plain["tls"] = Json{{"ca_file", "/etc/etcd/ca.pem"}};
  ExpectFleetError(plain, "fleet.tls", "given, but no endpoint is https://");
}

}  // namespace
}  // namespace operator_auth
