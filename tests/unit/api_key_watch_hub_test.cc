#include "daemon/core/api_key_watch_hub.h"

#include <atomic>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "daemon/core/in_memory_auth_storage.h"

namespace operator_auth {
namespace {

using ::testing::HasSubstr;

// Collects what one watcher was sent.
class Recorder {
 public:
  ApiKeyWatchHub::Sink Sink() {
    return [this](const KeyUpdate& update) {
      absl::MutexLock lock(&mu_);
      EXPECT_FALSE(unwatched_) << "a sink was called after Unwatch returned";
      updates_.push_back(update);
    };
  }
  void MarkUnwatched() {
    absl::MutexLock lock(&mu_);
    unwatched_ = true;
  }
  std::optional<KeyUpdate> Last() {
    absl::MutexLock lock(&mu_);
    if (updates_.empty()) return std::nullopt;
    return updates_.back();
  }
  size_t Count() {
    absl::MutexLock lock(&mu_);
    return updates_.size();
  }
  // Waits up to 10 s until the last update satisfies `done`.
  bool Eventually(const std::function<bool(const KeyUpdate&)>& done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      std::optional<KeyUpdate> last = Last();
      if (last.has_value() && done(*last)) return true;
      absl::SleepFor(absl::Milliseconds(1));
    }
    return false;
  }

 private:
  absl::Mutex mu_;
  std::vector<KeyUpdate> updates_ ABSL_GUARDED_BY(mu_);
  bool unwatched_ ABSL_GUARDED_BY(mu_) = false;
};

bool HoldsKey(const KeyUpdate& u, absl::string_view key) {
  return u.present && u.key.key.view() == key;
}

class ApiKeyWatchHubTest : public ::testing::Test {
 protected:
  ApiKeyWatchHubTest()
      : manager_(storage_, ProviderRegistry::BuiltIn(),
                 [](const std::string&) -> std::optional<std::string> { return std::nullopt; }) {}

  std::unique_ptr<ApiKeyWatchHub> StartHub(ApiKeyWatchHub::Options options = {}) {
    auto hub = std::make_unique<ApiKeyWatchHub>(manager_, storage_, options);
    hub->Start();
    return hub;
  }

  InMemoryAuthStorage storage_;
  ProviderAuthManager manager_;
};

TEST_F(ApiKeyWatchHubTest, SendsTheCurrentStateThenEveryChange) {
  std::unique_ptr<ApiKeyWatchHub> hub = StartHub();
  Recorder recorder;
  absl::StatusOr<uint64_t> id = hub->Watch("openai", recorder.Sink());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(recorder.Eventually([](const KeyUpdate& u) { return !u.present; }));
  EXPECT_EQ(recorder.Last()->code, absl::StatusCode::kNotFound);
  EXPECT_THAT(recorder.Last()->reason, HasSubstr("OPENAI_API_KEY"));

  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-1").ok());
  EXPECT_TRUE(recorder.Eventually([](const KeyUpdate& u) { return HoldsKey(u, "sk-1"); }));
  ASSERT_TRUE(manager_.SetRuntimeApiKey("openai", "sk-runtime").ok());
  EXPECT_TRUE(recorder.Eventually([](const KeyUpdate& u) {
    return HoldsKey(u, "sk-runtime") && u.key.source == KeySource::kRuntime;
  }));
  ASSERT_TRUE(manager_.SetRuntimeApiKey("openai", "").ok());
  EXPECT_TRUE(recorder.Eventually([](const KeyUpdate& u) { return HoldsKey(u, "sk-1"); }));
  ASSERT_TRUE(manager_.Logout("openai").ok());
  EXPECT_TRUE(recorder.Eventually([](const KeyUpdate& u) { return !u.present; }));

  // A write that changes another provider sends this watcher nothing new.
  const size_t before = recorder.Count();
  ASSERT_TRUE(manager_.SetApiKey("groq", "gsk-1").ok());
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(recorder.Count(), before);

  hub->Unwatch(*id);
  recorder.MarkUnwatched();
  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-after-unwatch").ok());
  absl::SleepFor(absl::Milliseconds(50));
}

TEST_F(ApiKeyWatchHubTest, ALateWatcherGetsTheCurrentValueAtOnce) {
  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-now").ok());
  std::unique_ptr<ApiKeyWatchHub> hub = StartHub();
  Recorder first;
  ASSERT_TRUE(hub->Watch("openai", first.Sink()).ok());
  ASSERT_TRUE(first.Eventually([](const KeyUpdate& u) { return HoldsKey(u, "sk-now"); }));
  Recorder late;
  ASSERT_TRUE(hub->Watch("openai", late.Sink()).ok());
  EXPECT_EQ(late.Count(), 1u) << "the known value is sent inside Watch()";
  EXPECT_TRUE(HoldsKey(*late.Last(), "sk-now"));
}

TEST_F(ApiKeyWatchHubTest, WatchersComeAndGoWhileWritersChangeKeys) {
  std::unique_ptr<ApiKeyWatchHub> hub = StartHub();
  const std::vector<std::string> providers = {"openai", "groq", "mistral", "xai", "cerebras"};
  constexpr int kWriters = 4;
  constexpr int kWritesEach = 100;
  std::atomic<bool> writing{true};
  // Watchers that stay, one per provider, and churners that watch and unwatch all along.
  std::vector<std::unique_ptr<Recorder>> stayers;
  for (const std::string& p : providers) {
    stayers.push_back(std::make_unique<Recorder>());
    ASSERT_TRUE(hub->Watch(p, stayers.back()->Sink()).ok());
  }
  std::thread churner([&] {
    std::mt19937 random(7);
    while (writing.load()) {
      Recorder recorder;
      absl::StatusOr<uint64_t> id =
          hub->Watch(providers[random() % providers.size()], recorder.Sink());
      ASSERT_TRUE(id.ok());
      hub->Unwatch(*id);
      recorder.MarkUnwatched();
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 random(static_cast<unsigned>(w));
      for (int i = 0; i < kWritesEach; ++i) {
        const std::string& p = providers[random() % providers.size()];
        if (i % 10 == 9) {
          (void)manager_.SetRuntimeApiKey(p, i % 20 == 19 ? "" : "rt-" + std::to_string(i));
        } else {
          ASSERT_TRUE(
              manager_.SetApiKey(p, "sk-" + std::to_string(w) + "-" + std::to_string(i)).ok());
        }
      }
    });
  }
  for (std::thread& t : writers) t.join();
  writing = false;
  churner.join();
  // Every watcher that stayed ends on exactly what GetApiKey answers now.
  for (size_t i = 0; i < providers.size(); ++i) {
    absl::StatusOr<ResolvedKey> now = manager_.GetApiKey(providers[i]);
    ASSERT_TRUE(now.ok()) << providers[i];
    EXPECT_TRUE(stayers[i]->Eventually([&](const KeyUpdate& u) {
      return HoldsKey(u, now->key.view());
    })) << providers[i]
        << " should hold " << now->key;
  }
  EXPECT_EQ(hub->watcher_count(), providers.size());
}

TEST_F(ApiKeyWatchHubTest, ThousandsOfWatchersAreCheapAndBounded) {
  ApiKeyWatchHub::Options options;
  options.max_watchers = 5000;
  options.max_watchers_per_peer = 5000;
  std::unique_ptr<ApiKeyWatchHub> hub = StartHub(options);
  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-a").ok());
  std::vector<std::unique_ptr<Recorder>> recorders;
  for (int i = 0; i < 5000; ++i) {
    recorders.push_back(std::make_unique<Recorder>());
    ASSERT_TRUE(hub->Watch("openai", recorders.back()->Sink()).ok());
  }
  Recorder one_too_many;
  EXPECT_EQ(hub->Watch("openai", one_too_many.Sink()).status().code(),
            absl::StatusCode::kResourceExhausted);
  const absl::Time start = absl::Now();
  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-b").ok());
  for (auto& r : recorders) {
    ASSERT_TRUE(r->Eventually([](const KeyUpdate& u) { return HoldsKey(u, "sk-b"); }));
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(ApiKeyWatchHubTest, OnePeerCannotTakeEveryWatchSlot) {
  ApiKeyWatchHub::Options options;
  options.max_watchers_per_peer = 3;
  Recorder r;  // outlives the hub, which may still be calling its sinks
  std::unique_ptr<ApiKeyWatchHub> hub = StartHub(options);
  std::vector<uint64_t> greedy;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<uint64_t> id = hub->Watch("openai", r.Sink(), "fd:7");
    ASSERT_TRUE(id.ok());
    greedy.push_back(*id);
  }
  absl::StatusOr<uint64_t> refused = hub->Watch("openai", r.Sink(), "fd:7");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("3 key watchers"));
  EXPECT_TRUE(hub->Watch("openai", r.Sink(), "fd:8").ok());  // another peer still may
  hub->Unwatch(greedy.front());
  EXPECT_TRUE(hub->Watch("openai", r.Sink(), "fd:7").ok());  // a slot given back is free again
}

TEST_F(ApiKeyWatchHubTest, DestroyingTheHubDetachesItFromTheStorage) {
  {
    Recorder recorder;  // outlives the hub, which may still be calling its sink
    std::unique_ptr<ApiKeyWatchHub> hub = StartHub();
    ASSERT_TRUE(hub->Watch("openai", recorder.Sink()).ok());
  }
  // No listener of the destroyed hub may run now.
  EXPECT_TRUE(manager_.SetApiKey("openai", "sk-after").ok());
  EXPECT_TRUE(manager_.SetRuntimeApiKey("openai", "sk-rt").ok());
}

}  // namespace
}  // namespace operator_auth
