#include "daemon/core/credential_document.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace operator_auth {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kMixed[] = R"({
  "custom-llm": {"type": "api_key", "key": "sk-custom", "note": "added by hand"},
  "openai-codex": {"type": "oauth", "access": "acc-1", "refresh": "ref-1",
                   "expires": 1900000000000, "extra": {"account_id": "acct-legacy", "plan": "pro"}},
  "future": {"type": "passkey", "blob": [1, 2, 3]},
  "weird": "not an object",
  "openai": {"type": "api_key", "key": "sk-openai"}
})";

CredentialDocument ParseOrDie(absl::string_view text) {
  absl::StatusOr<CredentialDocument> d = CredentialDocument::Parse(text);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *std::move(d) : CredentialDocument();
}

TEST(CredentialDocument, RoundTripKeepsUnknownFieldsEntriesAndOrder) {
  CredentialDocument doc = ParseOrDie(kMixed);
  Json before = Json::parse(kMixed);
  Json after = Json::parse(doc.Serialize());
  EXPECT_EQ(before, after);
  std::vector<std::string> keys;
  for (const auto& [k, v] : after.items()) keys.push_back(k);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"custom-llm", "openai-codex", "future", "weird", "openai"}));
}

TEST(CredentialDocument, ChangingOneEntryKeepsEverythingElse) {
  CredentialDocument doc = ParseOrDie(kMixed);
  EXPECT_TRUE(doc.Put("custom-llm", Credential::ApiKey("sk-new")));
  EXPECT_FALSE(doc.Put("groq", Credential::ApiKey("gsk-1")));
  EXPECT_TRUE(doc.Remove("openai"));
  EXPECT_FALSE(doc.Remove("openai"));
  Json after = Json::parse(doc.Serialize());
  Json before = Json::parse(kMixed);
  EXPECT_EQ(after["custom-llm"]["note"], "added by hand");  // same type: fields kept
  EXPECT_EQ(after["custom-llm"]["key"], "sk-new");
  EXPECT_EQ(after["openai-codex"], before["openai-codex"]);
  EXPECT_EQ(after["future"], before["future"]);
  EXPECT_EQ(after["weird"], before["weird"]);
  EXPECT_EQ(after["groq"], Json({{"type", "api_key"}, {"key", "gsk-1"}}));
  EXPECT_FALSE(after.contains("openai"));
}

TEST(CredentialDocument, TypedViewReadsOAuthAndLegacyAccountId) {
  auto creds = ParseOrDie(kMixed).Credentials();
  const Credential& codex = creds.at("openai-codex");
  EXPECT_EQ(codex.type, CredentialType::kOAuth);
  EXPECT_EQ(codex.access.view(), "acc-1");
  EXPECT_EQ(codex.refresh.view(), "ref-1");
  EXPECT_EQ(codex.expires_unix_ms, 1900000000000);
  EXPECT_EQ(codex.account_id, "acct-legacy");
  EXPECT_TRUE(codex.usable());
  EXPECT_EQ(creds.at("future").type, CredentialType::kUnknown);
  EXPECT_EQ(creds.at("future").type_name, "passkey");
  EXPECT_FALSE(creds.at("weird").usable());
  EXPECT_EQ(creds.at("openai").key.view(), "sk-openai");
}

TEST(CredentialDocument, TopLevelAccountIdWinsOverLegacyExtra) {
  auto creds = ParseOrDie(R"({"x": {"type": "oauth", "access": "a", "account_id": "new",
                                     "extra": {"account_id": "old"}}})")
                   .Credentials();
  EXPECT_EQ(creds.at("x").account_id, "new");
}

// pi-mono packages/ai/src/utils/oauth/types.ts (OAuthCredentials) spells it "accountId".
TEST(CredentialDocument, PisAccountIdIsReadAsTheAccountId) {
  auto creds = ParseOrDie(R"({"openai-codex": {"type": "oauth", "access": "a", "refresh": "r",
                                                "expires": 1, "accountId": "acct-pi"},
                              "both": {"type": "oauth", "access": "a", "account_id": "ours",
                                       "accountId": "theirs"}})")
                   .Credentials();
  EXPECT_EQ(creds.at("openai-codex").account_id, "acct-pi");
  EXPECT_EQ(creds.at("both").account_id, "ours");
  // A typed field, not an attribute that Put would write back besides account_id.
  EXPECT_EQ(creds.at("openai-codex").attributes.count("accountId"), 0u);
}

TEST(CredentialDocument, ReplaceDropsEveryFieldOfTheOldEntryWhilePutKeepsThem) {
  constexpr char kStale[] = R"({"github-copilot": {"type": "oauth", "access": "a-old",
      "refresh": "gho-old", "expires": 1, "enterprise_url": "ghe.old.example",
      "enterpriseUrl": "ghe.old.example", "extra": {"n": 1}}})";
  Credential fresh;
  fresh.type = CredentialType::kOAuth;
  fresh.type_name = "oauth";
  fresh.access = SecretString("a-new");
  fresh.refresh = SecretString("gho-new");
  fresh.expires_unix_ms = 2;

  CredentialDocument replaced = ParseOrDie(kStale);
  EXPECT_TRUE(replaced.Replace("github-copilot", fresh));
  Json entry = Json::parse(replaced.Serialize())["github-copilot"];
  EXPECT_EQ(entry,
            Json({{"type", "oauth"}, {"access", "a-new"}, {"refresh", "gho-new"}, {"expires", 2}}));
  EXPECT_FALSE(replaced.Replace("new-provider", fresh));  // nothing to replace

  CredentialDocument put = ParseOrDie(kStale);
  EXPECT_TRUE(put.Put("github-copilot", fresh));
  entry = Json::parse(put.Serialize())["github-copilot"];
  EXPECT_EQ(entry["access"], "a-new");
  EXPECT_EQ(entry["enterprise_url"], "ghe.old.example");
  EXPECT_EQ(entry["enterpriseUrl"], "ghe.old.example");
  EXPECT_EQ(entry["extra"], Json({{"n", 1}}));
}

TEST(CredentialDocument, AttributesAreReadInPisSpellingWhenOursAreAbsent) {
  auto creds = ParseOrDie(R"({
      "pi": {"type": "oauth", "access": "a", "projectId": "proj-pi", "enterpriseUrl": "ghe.pi"},
      "ours": {"type": "oauth", "access": "a", "project_id": "proj-ours", "projectId": "proj-pi",
               "enterprise_url": "ghe.ours", "enterpriseUrl": "ghe.pi"},
      "empty": {"type": "oauth", "access": "a", "project_id": "", "projectId": "proj-pi"},
      "none": {"type": "oauth", "access": "a"}})")
                   .Credentials();
  const auto project = [](const Credential& c) {
    return c.Attribute(kProjectIdAttribute, kProjectIdAttributePi);
  };
  const auto enterprise = [](const Credential& c) {
    return c.Attribute(kEnterpriseUrlAttribute, kEnterpriseUrlAttributePi);
  };
  EXPECT_EQ(project(creds.at("pi")), "proj-pi");
  EXPECT_EQ(enterprise(creds.at("pi")), "ghe.pi");
  EXPECT_EQ(project(creds.at("ours")), "proj-ours");
  EXPECT_EQ(enterprise(creds.at("ours")), "ghe.ours");
  EXPECT_EQ(project(creds.at("empty")), "proj-pi");  // an empty value counts as absent
  EXPECT_EQ(project(creds.at("none")), "");
}

TEST(CredentialDocument, WrongFieldTypesMakeAnEntryUnusableNotTheFile) {
  auto creds = ParseOrDie(R"({"a": {"type": "api_key", "key": 42},
                               "b": {"type": "oauth", "access": "x", "expires": "soon"},
                               "c": {"type": "api_key", "key": ""}})")
                   .Credentials();
  EXPECT_FALSE(creds.at("a").usable());
  EXPECT_NE(creds.at("a").problem.find("\"key\""), std::string::npos);
  EXPECT_FALSE(creds.at("b").usable());
  EXPECT_FALSE(creds.at("c").usable());
}

TEST(CredentialDocument, ParseErrorsNameThePositionNeverTheContent) {
  for (const char* text : {"{\"openai\": {\"key\": \"sk-leaky-secret", "{\"a\": sk-leaky-secret}",
                           "[1, 2]", "", "   \n", "\"sk-leaky-secret\""}) {
    absl::StatusOr<CredentialDocument> d = CredentialDocument::Parse(text);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_TRUE(absl::IsInvalidArgument(d.status()));
    EXPECT_EQ(d.status().message().find("leaky"), absl::string_view::npos) << d.status();
  }
}

// Python's json.load refuses a BOM too, so the other tools sharing the file could not read it.
TEST(CredentialDocument, RefusesAByteOrderMarkClearly) {
  absl::StatusOr<CredentialDocument> d = CredentialDocument::Parse("\xEF\xBB\xBF{}");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("byte order mark"), absl::string_view::npos);
}

TEST(CredentialDocument, RefusesOversizedText) {
  std::string huge = "{\"pad\": \"" + std::string(kMaxCredentialsFileBytes, 'x') + "\"}";
  absl::StatusOr<CredentialDocument> d = CredentialDocument::Parse(huge);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("larger than"), absl::string_view::npos);
}

}  // namespace
// The one expiry rule resolution and refresh share: at or past the recorded expiry (ms), never
// without one.
TEST(Credential, ExpiresByIsTheOneExpiryRule) {
  Credential c;
  c.expires_unix_ms = 1'000'000;
  EXPECT_FALSE(c.ExpiresBy(absl::FromUnixMillis(999'999)));
  EXPECT_TRUE(c.ExpiresBy(absl::FromUnixMillis(1'000'000)));
  EXPECT_TRUE(c.ExpiresBy(absl::FromUnixMillis(1'000'001)));
  c.expires_unix_ms = 0;
  EXPECT_FALSE(c.ExpiresBy(absl::InfiniteFuture()));
}

}  // namespace operator_auth
