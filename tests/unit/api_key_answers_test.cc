#include "daemon/server/api_key_answers.h"

#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "daemon/core/in_memory_auth_storage.h"
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

// A GetApiKeyRequest's bytes: what the cache is keyed by.
std::string Request(const std::string& provider, const std::string& account = "") {
  v1::GetApiKeyRequest request;
  request.set_provider(provider);
  request.set_account(account);
  return request.SerializeAsString();
}

KeptApiKeyAnswer Kept(const std::string& provider, const std::string& secret) {
  return {SerializeApiKeyAnswer(KeyFor(provider, secret)), provider, ""};
}

std::string Bytes(const ApiKeyAnswer& answer) { return *answer.bytes; }

v1::GetApiKeyResponse Parsed(const ApiKeyAnswer& answer) {
  v1::GetApiKeyResponse response;
  EXPECT_TRUE(response.ParseFromString(Bytes(answer)));
  return response;
}

TEST(ApiKeyAnswerTest, TheSliceGRpcSendsHoldsTheBytesUntilItLetsGo) {
  std::optional<ApiKeyAnswer> answer = SerializeApiKeyAnswer(KeyFor("openai", "sk-1"));
  const std::string text = *answer->bytes;
  grpc::Slice sending = answer->slice;  // what a ByteBuffer on its way out holds
  EXPECT_EQ(sending.begin(), reinterpret_cast<const uint8_t*>(answer->bytes->data())) << "no copy";
  std::weak_ptr<const std::string> bytes = answer->bytes;
  answer.reset();
  ASSERT_FALSE(bytes.expired()) << "the slice still holds them";
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sending.begin()), sending.size()), text);
  sending = grpc::Slice();
  EXPECT_TRUE(bytes.expired());
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
  const KeptApiKeyAnswer kept = {SerializeApiKeyAnswer(KeyFor("openai", "sk-1")), "work-llm", ""};
  EXPECT_FALSE(cache.Find(Request("work-llm"), 3, kNow).has_value());
  cache.Keep(Request("work-llm"), 3, kNow + absl::Minutes(1), kept);

  std::optional<KeptApiKeyAnswer> found = cache.Find(Request("work-llm"), 3, kNow);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(Bytes(found->answer), Bytes(kept.answer));
  EXPECT_EQ(found->answer.provider, "openai");
  EXPECT_EQ(found->asked_provider, "work-llm") << "what the client gate checks again";
  EXPECT_FALSE(cache.Find(Request("openai"), 3, kNow).has_value()) << "another request";
  EXPECT_FALSE(cache.Find(Request("work-llm", "work"), 3, kNow).has_value()) << "an account";

  // At its time it is dropped, not served.
  EXPECT_TRUE(cache.Find(Request("work-llm"), 3, kNow + absl::Minutes(1) - absl::Nanoseconds(1)));
  EXPECT_FALSE(cache.Find(Request("work-llm"), 3, kNow + absl::Minutes(1)).has_value());
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ApiKeyAnswerCacheTest, ANewerGenerationDropsEverythingAndAnOlderOneIsNeverKept) {
  ApiKeyAnswerCache cache;
  cache.Keep(Request("openai"), 5, absl::InfiniteFuture(), Kept("openai", "sk-1"));
  cache.Keep(Request("groq"), 5, absl::InfiniteFuture(), Kept("groq", "gsk-1"));
  std::optional<KeptApiKeyAnswer> in_flight = cache.Find(Request("openai"), 5, kNow);
  ASSERT_TRUE(in_flight.has_value());
  const std::string sent = Bytes(in_flight->answer);

  EXPECT_FALSE(cache.Find(Request("openai"), 6, kNow).has_value());
  EXPECT_EQ(cache.size(), 0u);
  // A call still sending the dropped answer keeps its bytes intact.
  EXPECT_EQ(Bytes(in_flight->answer), sent);
  EXPECT_EQ(Parsed(in_flight->answer).key(), "sk-1");

  // A call that took its state before generation 6 answers, but its answer is not kept, and
  // a lookup at that older state finds nothing.
  cache.Keep(Request("openai"), 5, absl::InfiniteFuture(), Kept("openai", "sk-0"));
  EXPECT_EQ(cache.size(), 0u);
  cache.Keep(Request("openai"), 6, absl::InfiniteFuture(), Kept("openai", "sk-2"));
  EXPECT_FALSE(cache.Find(Request("openai"), 5, kNow).has_value());
  std::optional<KeptApiKeyAnswer> now = cache.Find(Request("openai"), 6, kNow);
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(Parsed(now->answer).key(), "sk-2");
}

// The service moves the cache as soon as the key state moves (a logout, a replaced key), so a
// kept key does not wait for the next lookup to be wiped, and a call still resolving from the
// old state cannot keep its answer afterwards.
TEST(ApiKeyAnswerCacheTest, MovingToANewGenerationDropsAtOnceAndRefusesOlderAnswers) {
  ApiKeyAnswerCache cache;
  cache.Keep(Request("openai"), 1, absl::InfiniteFuture(), Kept("openai", "sk-1"));
  ASSERT_EQ(cache.size(), 1u);
  cache.MoveTo(2);
  EXPECT_EQ(cache.size(), 0u);
  cache.Keep(Request("openai"), 1, absl::InfiniteFuture(), Kept("openai", "sk-1"));
  EXPECT_EQ(cache.size(), 0u);
  cache.MoveTo(1);  // never back
  cache.Keep(Request("openai"), 2, absl::InfiniteFuture(), Kept("openai", "sk-2"));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ApiKeyAnswerCacheTest, HoldsAtMostItsLimitOfRequestsAndNoLongOne) {
  ApiKeyAnswerCache cache;
  for (size_t i = 0; i < ApiKeyAnswerCache::kMaxAnswers + 10; ++i) {
    cache.Keep(Request(absl::StrCat("p", i)), 1, absl::InfiniteFuture(), Kept("openai", "sk-1"));
  }
  EXPECT_EQ(cache.size(), ApiKeyAnswerCache::kMaxAnswers);
  EXPECT_FALSE(cache.Find(Request(absl::StrCat("p", ApiKeyAnswerCache::kMaxAnswers)), 1, kNow));
  // One already kept is still replaced in place.
  cache.Keep(Request("p0"), 1, absl::InfiniteFuture(), Kept("openai", "sk-9"));
  std::optional<KeptApiKeyAnswer> replaced = cache.Find(Request("p0"), 1, kNow);
  ASSERT_TRUE(replaced.has_value());
  EXPECT_EQ(Parsed(replaced->answer).key(), "sk-9");

  ApiKeyAnswerCache fresh;
  // A valid request padded with an unknown field (number 15) past the limit.
  const std::string padded = Request("openai") + "\x7a\x80\x04" + std::string(512, 'x');
  fresh.Keep(padded, 1, absl::InfiniteFuture(), Kept("openai", "sk-1"));
  EXPECT_EQ(fresh.size(), 0u);
  v1::GetApiKeyRequest parsed;
  EXPECT_TRUE(parsed.ParseFromString(padded)) << "the padding is a well-formed unknown field";
}

// The protocol AuthServiceImpl::GetApiKey follows, raced: readers take the key state, serve a
// kept answer or resolve and keep one, while a writer replaces the runtime key and the cache
// moves on the manager's key-state listener. A reader that starts after a set returned must
// never be served an older key. Run under TSan in CI.
TEST(ApiKeyAnswerCacheTest, AReaderNeverGetsAKeyOlderThanTheLastFinishedSet) {
  InMemoryAuthStorage storage;
  ProviderAuthManager manager(storage, ProviderRegistry::BuiltIn(),
                              [](const std::string&) { return std::nullopt; });
  ApiKeyAnswerCache cache;
  const uint64_t listener =
      manager.AddKeyStateListener([&] { cache.MoveTo(manager.KeyGeneration()); });
  ASSERT_TRUE(manager.SetRuntimeApiKey("openai", "sk-0").ok());
  std::atomic<int> finished_set{0};
  std::atomic<bool> stop{false};
  std::atomic<int> stale{0}, hits{0}, misses{0};
  // Reads that began after the latest set had returned. The writer waits for a few before the
  // next set, so the readers run between sets however the scheduler orders the threads (in one
  // CI run the writer finished all 300 sets before any reader started).
  std::atomic<int> fresh_reads{0};
  const std::string request = Request("openai");
  auto number_of = [](absl::string_view key) {
    int n = -1;
    return absl::ConsumePrefix(&key, "sk-") && absl::SimpleAtoi(key, &n) ? n : -1;
  };
  auto reader = [&] {
    while (!stop.load()) {
      const int at_least = finished_set.load();
      const ProviderAuthManager::KeyState state = manager.CurrentKeyState();
      std::string key;
      if (std::optional<KeptApiKeyAnswer> kept = cache.Find(request, state.generation, kNow)) {
        key = Parsed(kept->answer).key();
        ++hits;
      } else {
        manager.GetApiKeyAsync("openai", state, [&](absl::StatusOr<ResolvedKey> resolved) {
          ASSERT_TRUE(resolved.ok());
          key = std::string(resolved->key.view());
          if (state.settled) {
            cache.Keep(request, state.generation, resolved->reusable_until,
                       {SerializeApiKeyAnswer(*resolved), "openai", ""});
          }
        });
        ++misses;
      }
      if (number_of(key) < at_least) ++stale;
      if (at_least == finished_set.load()) ++fresh_reads;
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) readers.emplace_back(reader);
  // Bounded: after this deadline the writer stops waiting for the readers and just sets.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int n = 1; n <= 300; ++n) {
    ASSERT_TRUE(manager.SetRuntimeApiKey("openai", absl::StrCat("sk-", n)).ok());
    fresh_reads.store(0);
    finished_set.store(n);
    // Sets come in bursts of four, so resolutions straddle sets (an answer resolved from an older
    // state must not be kept); after each burst, a miss that keeps the answer, then hits on it.
    while (n % 4 == 0 && fresh_reads.load() < 3 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  }
  stop.store(true);
  for (std::thread& t : readers) t.join();
  manager.RemoveKeyStateListener(listener);
  EXPECT_EQ(stale.load(), 0);
  EXPECT_GT(misses.load(), 0);
  EXPECT_GT(hits.load(), 0) << "no kept answer was ever served, so nothing was raced";
  std::cout << "hits " << hits.load() << ", misses " << misses.load() << "\n";
}

}  // namespace
}  // namespace operator_auth
