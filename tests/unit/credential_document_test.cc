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
  EXPECT_EQ(codex.access, "acc-1");
  EXPECT_EQ(codex.refresh, "ref-1");
  EXPECT_EQ(codex.expires_unix_ms, 1900000000000);
  EXPECT_EQ(codex.account_id, "acct-legacy");
  EXPECT_TRUE(codex.usable());
  EXPECT_EQ(creds.at("future").type, CredentialType::kUnknown);
  EXPECT_EQ(creds.at("future").type_name, "passkey");
  EXPECT_FALSE(creds.at("weird").usable());
  EXPECT_EQ(creds.at("openai").key, "sk-openai");
}

TEST(CredentialDocument, TopLevelAccountIdWinsOverLegacyExtra) {
  auto creds = ParseOrDie(R"({"x": {"type": "oauth", "access": "a", "account_id": "new",
                                     "extra": {"account_id": "old"}}})")
                   .Credentials();
  EXPECT_EQ(creds.at("x").account_id, "new");
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
}  // namespace operator_auth
