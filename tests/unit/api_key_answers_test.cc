#include "daemon/server/api_key_answers.h"

#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "operator_auth/v1/auth.pb.h"

namespace operator_auth {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

ResolvedKey KeyFor(const std::string& provider, const std::string& secret) {
  ResolvedKey key;
  key.key = SecretString(secret);
  key.source = KeySource::kStored;
  key.label = "providers.json (api_key)";
  key.provider = provider;
  key.usage.kind = KeyKind::kApiKey;
  return key;
}

std::string Bytes(const ApiKeyAnswer& answer) {
  return std::string(reinterpret_cast<const char*>(answer.bytes.begin()), answer.bytes.size());
}

v1::GetApiKeyResponse Parsed(const ApiKeyAnswer& answer) {
  v1::GetApiKeyResponse response;
  EXPECT_TRUE(response.ParseFromString(Bytes(answer)));
  return response;
}

TEST(ApiKeyAnswerTest, TheBytesAreTheResponseTheTypedServiceWouldHaveSent) {
  ResolvedKey key = KeyFor("openai-codex", "access-token-1");
  key.source = KeySource::kRuntime;
  key.label = "runtime";
  key.expires_unix_ms = 1234;
  key.account = "work";
  key.usage.kind = KeyKind::kOAuthAccessToken;
  key.usage.account_id = "acct-1";
  key.usage.base_url = "https://example.test/v1";
  ApiKeyAnswer answer = SerializeApiKeyAnswer(key);
  v1::GetApiKeyResponse response = Parsed(answer);
  EXPECT_EQ(response.key(), "access-token-1");
  EXPECT_EQ(response.source(), v1::CREDENTIAL_SOURCE_RUNTIME);
  EXPECT_EQ(response.label(), "runtime");
  EXPECT_EQ(response.expires_unix_ms(), 1234);
  EXPECT_EQ(response.provider(), "openai-codex");
  EXPECT_EQ(response.account(), "work");
  EXPECT_EQ(response.usage().account_id(), "acct-1");
  EXPECT_EQ(response.usage().base_url(), "https://example.test/v1");
  EXPECT_EQ(answer.provider, "openai-codex");
  EXPECT_EQ(answer.account, "work");
}

TEST(ApiKeyAnswerCacheTest, KeepsAnAnswerForItsGenerationUntilItsTime) {
  ApiKeyAnswerCache cache;
  const ApiKeyAnswer answer = SerializeApiKeyAnswer(KeyFor("openai", "sk-1"));
  EXPECT_FALSE(cache.Find("openai", 3, kNow).has_value());
  cache.Keep("openai", 3, kNow + absl::Minutes(1), answer);

  std::optional<ApiKeyAnswer> found = cache.Find("openai", 3, kNow);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(Bytes(*found), Bytes(answer));
  EXPECT_EQ(found->provider, "openai");
  EXPECT_FALSE(cache.Find("anthropic", 3, kNow).has_value()) << "another selector";
  EXPECT_FALSE(cache.Find("openai@work", 3, kNow).has_value()) << "another account";

  // At its time it is dropped, not served.
  EXPECT_TRUE(cache.Find("openai", 3, kNow + absl::Minutes(1) - absl::Nanoseconds(1)));
  EXPECT_FALSE(cache.Find("openai", 3, kNow + absl::Minutes(1)).has_value());
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ApiKeyAnswerCacheTest, ANewerGenerationDropsEverythingAndAnOlderOneIsNeverKept) {
  ApiKeyAnswerCache cache;
  cache.Keep("openai", 5, absl::InfiniteFuture(), SerializeApiKeyAnswer(KeyFor("openai", "sk-1")));
  cache.Keep("groq", 5, absl::InfiniteFuture(), SerializeApiKeyAnswer(KeyFor("groq", "gsk-1")));
  std::optional<ApiKeyAnswer> in_flight = cache.Find("openai", 5, kNow);
  ASSERT_TRUE(in_flight.has_value());
  const std::string sent = Bytes(*in_flight);

  EXPECT_FALSE(cache.Find("openai", 6, kNow).has_value());
  EXPECT_EQ(cache.size(), 0u);
  // A call still sending the dropped answer keeps its bytes intact.
  EXPECT_EQ(Bytes(*in_flight), sent);
  EXPECT_EQ(Parsed(*in_flight).key(), "sk-1");

  // A call that took its state before generation 6 answers, but its answer is not kept, and
  // a lookup at that older state finds nothing.
  cache.Keep("openai", 5, absl::InfiniteFuture(), SerializeApiKeyAnswer(KeyFor("openai", "sk-0")));
  EXPECT_EQ(cache.size(), 0u);
  cache.Keep("openai", 6, absl::InfiniteFuture(), SerializeApiKeyAnswer(KeyFor("openai", "sk-2")));
  EXPECT_FALSE(cache.Find("openai", 5, kNow).has_value());
  ASSERT_TRUE(cache.Find("openai", 6, kNow).has_value());
  EXPECT_EQ(Parsed(*cache.Find("openai", 6, kNow)).key(), "sk-2");
}

TEST(ApiKeyAnswerCacheTest, HoldsAtMostItsLimitOfSelectorsPerGeneration) {
  ApiKeyAnswerCache cache;
  const ApiKeyAnswer answer = SerializeApiKeyAnswer(KeyFor("openai", "sk-1"));
  for (size_t i = 0; i < ApiKeyAnswerCache::kMaxAnswers + 10; ++i) {
    cache.Keep(absl::StrCat("p", i), 1, absl::InfiniteFuture(), answer);
  }
  EXPECT_EQ(cache.size(), ApiKeyAnswerCache::kMaxAnswers);
  EXPECT_FALSE(cache.Find(absl::StrCat("p", ApiKeyAnswerCache::kMaxAnswers), 1, kNow));
  // One already kept is still replaced in place.
  cache.Keep("p0", 1, absl::InfiniteFuture(), SerializeApiKeyAnswer(KeyFor("openai", "sk-9")));
  EXPECT_EQ(Parsed(*cache.Find("p0", 1, kNow)).key(), "sk-9");
}

}  // namespace
}  // namespace operator_auth
