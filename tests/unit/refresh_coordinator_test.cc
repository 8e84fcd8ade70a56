#include "daemon/core/refresh_coordinator.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdio>

#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/synchronization/notification.h"
#include "daemon/core/file_auth_storage.h"
#include "daemon/core/file_lock.h"
#include "daemon/core/in_memory_auth_storage.h"
#include "daemon/core/proactive_refresher.h"
#include "daemon/core/provider_auth_manager.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/fake_token_service.h"

namespace operator_auth {
namespace {

using testing::FakeRefresher;
using ::testing::HasSubstr;
using testing::ReadFileOrDie;
using testing::TempDir;
using testing::WriteFileOrDie;
using Json = nlohmann::ordered_json;

class RefreshCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string auth = dir_.Sub("auth");
    ASSERT_EQ(mkdir(auth.c_str(), 0700), 0);
    WriteFileOrDie(auth + "/providers.json", Stored("at-old", "rt-old", -60).dump());
    auto storage = FileAuthStorage::Open(auth);
    ASSERT_TRUE(storage.ok());
    storage_ = *std::move(storage);
    coordinator_ = std::make_unique<RefreshCoordinator>(*storage_, refresher_, nullptr);
  }

  // providers.json with openai-codex expiring `seconds` from now (negative: expired).
  static Json Stored(const std::string& access, const std::string& refresh, int seconds) {
    return Json{{"openai-codex",
                 {{"type", "oauth"},
                  {"access", access},
                  {"refresh", refresh},
                  {"expires", absl::ToUnixMillis(absl::Now() + absl::Seconds(seconds))},
                  {"extra", {{"keep", "me"}}}}}};
  }

  Json File() { return Json::parse(ReadFileOrDie(dir_.Sub("auth/providers.json"))); }

  // A refresh of the expired openai-codex token whose endpoint hangs until `answer` is notified;
  // returns once the endpoint has been called.
  struct Outcome {
    absl::Notification done;
    absl::StatusOr<Credential> result;  // set before `done`
  };
  using HangingRefresh = std::shared_ptr<Outcome>;
  HangingRefresh StartHangingRefresh(absl::Notification& answer) {
    refresher_.gate = &answer;
    auto outcome = std::make_shared<Outcome>();
    coordinator_->Refresh("openai-codex", Soon(), [outcome](absl::StatusOr<Credential> c) {
      outcome->result = std::move(c);
      outcome->done.Notify();
    });
    refresher_.entered.WaitForNotification();
    return outcome;
  }
  absl::Time Soon() { return absl::Now() + kOAuthExpiryMargin; }

  TempDir dir_;
  FakeRefresher refresher_;
  std::unique_ptr<FileAuthStorage> storage_;
  std::unique_ptr<RefreshCoordinator> coordinator_;
};

TEST_F(RefreshCoordinatorTest, ConcurrentCallersShareOneRefresh) {
  refresher_.delay = absl::Milliseconds(100);
  constexpr int kCallers = 64;
  std::atomic<int> done{0};
  std::atomic<int> wrong{0};
  for (int i = 0; i < kCallers; ++i) {
    coordinator_->Refresh("openai-codex", Soon(), [&](absl::StatusOr<Credential> c) {
      if (!c.ok() || c->access.view() != "at-1") ++wrong;
      ++done;
    });
  }
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (done.load() < kCallers && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(done.load(), kCallers);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(refresher_.calls.load(), 1);
  Json file = File();
  EXPECT_EQ(file["openai-codex"]["access"], "at-1");
  EXPECT_EQ(file["openai-codex"]["refresh"], "rt-1");  // the rotated token is kept
  EXPECT_EQ(file["openai-codex"]["extra"]["keep"], "me");
  EXPECT_EQ(coordinator_->StateOf("openai-codex").refreshes, 1);
}

// While the token endpoint hangs, providers.lock stays ours (another process cannot refresh the
// same token) but this process's writes go on under it.
TEST_F(RefreshCoordinatorTest, WritesGoOnWhileTheTokenEndpointHangs) {
  absl::Notification answer;
  HangingRefresh refresh = StartHangingRefresh(answer);

  EXPECT_TRUE(absl::IsUnavailable(
      FileLock::TryAcquire(dir_.Sub("auth/providers.lock")).status()));  // others wait
  ProviderAuthManager manager(*storage_, ProviderRegistry::BuiltIn());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(manager.SetApiKey("openai", "sk-during-" + std::to_string(i)).ok());
  }
  EXPECT_FALSE(refresh->done.HasBeenNotified());  // all written while the endpoint still hangs
  EXPECT_EQ(File()["openai"]["key"], "sk-during-4");

  answer.Notify();
  ASSERT_TRUE(refresh->done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  absl::StatusOr<Credential>& result = refresh->result;
  ASSERT_TRUE(result.ok()) << result.status();
  Json file = File();
  EXPECT_EQ(file["openai-codex"]["access"], "at-1");
  EXPECT_EQ(file["openai"]["key"], "sk-during-4");  // the refresh re-read before writing
  EXPECT_TRUE(FileLock::TryAcquire(dir_.Sub("auth/providers.lock")).ok());  // released
}

// Logout removes the credential at once; the revocation runs on its own thread, so a revocation
// endpoint that hangs holds up neither the caller's write thread nor other writes.
TEST_F(RefreshCoordinatorTest, LogoutRevokesOffTheWritePath) {
  absl::Notification answer;
  refresher_.revoke_gate = &answer;
  refresher_.revoke_with = absl::UnavailableError("revocation endpoint: timed out");
  ProviderAuthManager manager(*storage_, ProviderRegistry::BuiltIn(), nullptr, nullptr,
                              coordinator_.get());
  absl::Notification revoked;
  absl::Status outcome;
  absl::StatusOr<LogoutResult> result = manager.Logout("openai-codex", [&](absl::Status s) {
    outcome = s;
    revoked.Notify();
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->removed);
  EXPECT_TRUE(result->revoking);
  EXPECT_FALSE(File().contains("openai-codex"));  // removed before the revocation answers
  ASSERT_TRUE(manager.SetApiKey("openai", "sk-after-logout").ok());
  EXPECT_FALSE(revoked.HasBeenNotified());

  answer.Notify();
  ASSERT_TRUE(revoked.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(absl::IsUnavailable(outcome));
  EXPECT_EQ(refresher_.revocations.load(), 1);
  EXPECT_FALSE(File().contains("openai-codex"));  // a failed revocation leaves it removed
}

// A new login written while the endpoint answered wins over the refresh of the old one.
TEST_F(RefreshCoordinatorTest, ALoginDuringTheRefreshIsKept) {
  absl::Notification answer;
  HangingRefresh refresh = StartHangingRefresh(answer);
  Json fresh_login = Stored("at-login", "rt-login", 3600);
  ASSERT_TRUE(storage_
                  ->Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
                    document.Put("openai-codex",
                                 Credential::OAuth("at-login", "rt-login",
                                                   fresh_login["openai-codex"]["expires"]));
                    return true;
                  })
                  .ok());
  answer.Notify();
  ASSERT_TRUE(refresh->done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  absl::StatusOr<Credential>& result = refresh->result;
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->access.view(), "at-login");
  EXPECT_EQ(File()["openai-codex"]["refresh"], "rt-login");
}

TEST_F(RefreshCoordinatorTest, TokenRefreshedByAnotherProcessIsNotRefreshedAgain) {
  // Another process refreshed between our look and our lock: the re-read under the lock sees it.
  WriteFileOrDie(dir_.Sub("auth/providers.json"), Stored("at-theirs", "rt-theirs", 3600).dump());
  auto c = coordinator_->RefreshAndWait("openai-codex", Soon());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access.view(), "at-theirs");
  EXPECT_EQ(refresher_.calls.load(), 0);
}

TEST_F(RefreshCoordinatorTest, DeadRefreshTokenNeedsLoginAndKeepsTheCredential) {
  refresher_.fail_with = absl::UnauthenticatedError("refused (HTTP 400 invalid_grant)");
  const Json before = File();
  auto c = coordinator_->RefreshAndWait("openai-codex", Soon());
  EXPECT_TRUE(absl::IsUnauthenticated(c.status())) << c.status();
  EXPECT_EQ(File(), before);
  EXPECT_EQ(coordinator_->StateOf("openai-codex").phase, RefreshPhase::kNeedsLogin);
  // Asking again does not call the endpoint with the dead token again...
  c = coordinator_->RefreshAndWait("openai-codex", Soon());
  EXPECT_TRUE(absl::IsUnauthenticated(c.status()));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("needs a new login"));
  EXPECT_EQ(refresher_.calls.load(), 1);
  // ...until a new login (here: another tool) stores a different refresh token.
  refresher_.fail_with = absl::OkStatus();
  WriteFileOrDie(dir_.Sub("auth/providers.json"), Stored("at-new", "rt-new", -60).dump());
  c = coordinator_->RefreshAndWait("openai-codex", Soon());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(coordinator_->StateOf("openai-codex").phase, RefreshPhase::kIdle);
}

TEST_F(RefreshCoordinatorTest, TransientFailuresBackOffWithoutCallingTheEndpoint) {
  refresher_.fail_with = absl::UnavailableError("token endpoint answered HTTP 503");
  const Json before = File();
  auto c = coordinator_->RefreshAndWait("openai-codex", Soon());
  EXPECT_TRUE(absl::IsUnavailable(c.status()));
  RefreshState state = coordinator_->StateOf("openai-codex");
  EXPECT_EQ(state.phase, RefreshPhase::kBackoff);
  EXPECT_EQ(state.consecutive_failures, 1);
  EXPECT_GT(state.retry_after, absl::Now());
  for (int i = 0; i < 5; ++i) {
    c = coordinator_->RefreshAndWait("openai-codex", Soon());
    EXPECT_TRUE(absl::IsUnavailable(c.status()));
    EXPECT_THAT(std::string(c.status().message()), HasSubstr("next attempt in"));
  }
  EXPECT_EQ(refresher_.calls.load(), 1);
  EXPECT_EQ(File(), before);
}

// A storage that cannot be locked now, as a fleet's cluster without quorum: each attempt would
// wait out its timeouts, so the coordinator backs off (briefly, to come back within seconds)
// instead of letting the background refresher ask again every second. No endpoint is called.
class UnlockableStorage : public InMemoryAuthStorage {
 public:
  using InMemoryAuthStorage::InMemoryAuthStorage;
  absl::StatusOr<LockHold> HoldLock() override {
    ++holds;
    return absl::UnavailableError("the fleet's etcd cluster cannot be written now");
  }
  std::atomic<int> holds{0};
};

TEST(RefreshCoordinatorStorage, AStorageThatCannotBeLockedIsBackedOffFromBriefly) {
  CredentialDocument document;
  document.Put("p", Credential::OAuth("at-expired", "rt-kept",
                                      absl::ToUnixMillis(absl::Now() - absl::Minutes(1))));
  UnlockableStorage storage(std::move(document));
  FakeRefresher refresher;
  RefreshCoordinator coordinator(storage, refresher, nullptr);
  const absl::Time valid_until = absl::Now() + kOAuthExpiryMargin;
  absl::StatusOr<Credential> first = coordinator.RefreshAndWait("p", valid_until);
  EXPECT_TRUE(absl::IsUnavailable(first.status()));
  RefreshState state = coordinator.StateOf("p");
  EXPECT_EQ(state.phase, RefreshPhase::kBackoff);
  EXPECT_GT(state.retry_after, absl::Now());
  EXPECT_LE(state.retry_after, absl::Now() + absl::Seconds(10) * 1.25);
  absl::StatusOr<Credential> second = coordinator.RefreshAndWait("p", valid_until);
  EXPECT_TRUE(absl::IsUnavailable(second.status()));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("next attempt in"));
  EXPECT_EQ(storage.holds.load(), 1) << "the second caller was answered from the back-off";
  EXPECT_EQ(refresher.calls.load(), 0);
}

TEST(RefreshBackoff, GrowsAndIsCapped) {
  TempDir dir;
  auto storage = FileAuthStorage::Open(dir.Sub("auth"));
  ASSERT_TRUE(storage.ok());
  WriteFileOrDie(dir.Sub("auth/providers.json"),
                 R"({"p": {"type": "oauth", "access": "a", "refresh": "r", "expires": 1}})");
  FakeRefresher refresher;
  refresher.fail_with = absl::UnavailableError("down");
  absl::Time now = absl::Now();
  RefreshCoordinator::Options options;
  options.initial_backoff = absl::Seconds(1);
  options.max_backoff = absl::Seconds(60);
  RefreshCoordinator coordinator(
      **storage, refresher, [&now] { return now; }, options);
  std::vector<absl::Duration> waits;
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(coordinator.RefreshAndWait("p", now).ok());
    RefreshState s = coordinator.StateOf("p");
    waits.push_back(s.retry_after - now);
    now = s.retry_after;  // jump to the next attempt
  }
  EXPECT_EQ(refresher.calls.load(), 10);
  // Jitter only adds (up to 25 %), so no retry comes before its base wait.
  EXPECT_GE(waits[0], absl::Seconds(1));
  EXPECT_LE(waits[0], absl::Milliseconds(1250));
  EXPECT_GE(waits[3], absl::Seconds(8));
  for (absl::Duration w : waits) EXPECT_LE(w, absl::Seconds(75));  // 60 s +25 %
  EXPECT_GE(waits[9], absl::Seconds(60));
}

// A token endpoint that does not answer held providers.lock for the whole timeout: the next
// attempt waits at least 30 s, not the 1 s a quick failure waits.
TEST(RefreshBackoff, ATimeoutBacksOffFromThirtySeconds) {
  TempDir dir;
  auto storage = FileAuthStorage::Open(dir.Sub("auth"));
  ASSERT_TRUE(storage.ok());
  WriteFileOrDie(dir.Sub("auth/providers.json"),
                 R"({"p": {"type": "oauth", "access": "a", "refresh": "r", "expires": 1}})");
  FakeRefresher refresher;
  refresher.fail_with = absl::DeadlineExceededError("token endpoint: timed out");
  absl::Time now = absl::Now();
  RefreshCoordinator coordinator(**storage, refresher, [&now] { return now; });
  std::vector<absl::Duration> waits;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(absl::IsDeadlineExceeded(coordinator.RefreshAndWait("p", now).status()));
    RefreshState s = coordinator.StateOf("p");
    waits.push_back(s.retry_after - now);
    now = s.retry_after;
  }
  EXPECT_GE(waits[0], absl::Seconds(30));
  EXPECT_LE(waits[0], absl::Milliseconds(37'500));
  EXPECT_GE(waits[1], absl::Seconds(60));
  EXPECT_GE(waits[2], absl::Seconds(120));
  // Until then callers get the reason without a network call.
  now -= absl::Seconds(1);
  EXPECT_TRUE(absl::IsUnavailable(coordinator.RefreshAndWait("p", now).status()));
  EXPECT_EQ(refresher.calls.load(), 3);
}

TEST_F(RefreshCoordinatorTest, ManagerRefreshesAnExpiredTokenOnGetApiKey) {
  ProviderAuthManager manager(*storage_, ProviderRegistry::BuiltIn(), nullptr, nullptr,
                              coordinator_.get());
  auto status = manager.GetStatus("openai-codex");
  EXPECT_TRUE(status->configured);  // expired, but refreshable
  auto key = manager.GetApiKey("openai-codex");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key.view(), "at-1");
  EXPECT_EQ(key->source, KeySource::kStored);
  EXPECT_EQ(manager.GetApiKey("openai-codex")->key.view(), "at-1");  // no second refresh
  EXPECT_EQ(refresher_.calls.load(), 1);
}

TEST_F(RefreshCoordinatorTest, FailedRefreshFallsBackToTheEnvironment) {
  refresher_.fail_with = absl::UnauthenticatedError("invalid_grant");
  ProviderAuthManager manager(
      *storage_, ProviderRegistry::BuiltIn(),
      [](const std::string& name) -> std::optional<std::string> {
        if (name == "OPENAI_CODEX_API_KEY") return "sk-env";
        return std::nullopt;
      },
      nullptr, coordinator_.get());
  auto key = manager.GetApiKey("openai-codex");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->source, KeySource::kEnv);
  auto status = manager.GetStatus("openai-codex");
  EXPECT_TRUE(status->needs_login);
  EXPECT_EQ(status->source, KeySource::kEnv);
}

}  // namespace
}  // namespace operator_auth

namespace operator_auth {
namespace {

TEST_F(RefreshCoordinatorTest, ProactiveRefresherRenewsTokensInsideTheWindowOnly) {
  const std::string path = dir_.Sub("auth/providers.json");
  Json file = Stored("at-soon", "rt-soon", 4 * 60);  // 4 min left: inside the 5 min window
  file["openai-codex"]["extra"] = Json::object();
  Json later = Stored("at-later", "rt-later", 3600)["openai-codex"];
  file["anthropic-claude-code"] = later;
  WriteFileOrDie(path, file.dump());

  ProactiveRefresher proactive(*storage_, *coordinator_, nullptr, ProactiveRefresher::Options());
  proactive.RunOnce();
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (coordinator_->StateOf("openai-codex").refreshes == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(refresher_.calls.load(), 1);
  EXPECT_EQ(File()["openai-codex"]["access"], "at-1");
  EXPECT_EQ(File()["anthropic-claude-code"]["access"], "at-later");  // an hour left: not yet
  // An hour-long token is due when max(5 min, 10 % of its life) + jitter (< 30 s) remains.
  const absl::Time expires = absl::FromUnixMillis(later["expires"].get<int64_t>());
  const absl::Time due = proactive.NextDue("anthropic-claude-code");
  EXPECT_LE(due, expires - absl::Minutes(6) + absl::Seconds(1));
  EXPECT_GE(due, expires - absl::Minutes(6) - absl::Seconds(31));
  EXPECT_EQ(coordinator_->StateOf("anthropic-claude-code").scheduled, due);
}

}  // namespace
}  // namespace operator_auth

namespace operator_auth {
namespace {

// The fake refresher issues hour-long tokens; make them short-lived for this test.
class ShortLivedRefresher : public FakeRefresher {
 public:
  absl::StatusOr<Credential> Refresh(const std::string& p, const Credential& c) override {
    absl::StatusOr<Credential> fresh = FakeRefresher::Refresh(p, c);
    if (fresh.ok()) fresh->expires_unix_ms = absl::ToUnixMillis(absl::Now() + absl::Minutes(2));
    return fresh;
  }
};

TEST(ProactiveRefresher, ShortLivedTokensAreRenewedAtHalfLifeNotBackToBack) {
  TempDir dir;
  auto storage = FileAuthStorage::Open(dir.Sub("auth"));
  ASSERT_TRUE(storage.ok());
  WriteFileOrDie(dir.Sub("auth/providers.json"),
                 Json{{"p",
                       {{"type", "oauth"},
                        {"access", "a"},
                        {"refresh", "r"},
                        {"expires", absl::ToUnixMillis(absl::Now() + absl::Seconds(60))}}}}
                     .dump());
  ShortLivedRefresher refresher;
  RefreshCoordinator coordinator(**storage, refresher, nullptr);
  ProactiveRefresher proactive(**storage, coordinator, nullptr, ProactiveRefresher::Options());
  proactive.RunOnce();  // 60 s left, inside the 5 min window: renewed
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (coordinator.StateOf("p").refreshes == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(refresher.calls.load(), 1);
  // The new token lives 2 minutes, shorter than the window: next renewal at half-life.
  for (int i = 0; i < 5; ++i) proactive.RunOnce();
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(refresher.calls.load(), 1);
  EXPECT_GT(proactive.NextDue("p"), absl::Now() + absl::Seconds(50));
}

// Writes a "p" entry whose token expires `in` from now, as another tool would (atomically).
void WriteShortLivedToken(const TempDir& dir, const std::string& access, absl::Duration in) {
  const std::string temp = dir.Sub("auth/providers.json.tmp");
  WriteFileOrDie(temp, Json{{"p",
                             {{"type", "oauth"},
                              {"access", access},
                              {"refresh", "r-" + access},
                              {"expires", absl::ToUnixMillis(absl::Now() + in)}}}}
                           .dump());
  ASSERT_EQ(std::rename(temp.c_str(), dir.Sub("auth/providers.json").c_str()), 0);
}

// The half-life rule is for tokens whose lifetime we know because we obtained them. A 2-minute
// token another process wrote after our renewal is inside the max(5 min, 10 %) window, so it is
// due at once (it used to be renewed only 60 s before expiry, at "half-life").
TEST(ProactiveRefresher, HalfLifeAppliesOnlyToTokensTheDaemonObtained) {
  TempDir dir;
  auto storage = FileAuthStorage::Open(dir.Sub("auth"));
  ASSERT_TRUE(storage.ok());
  WriteShortLivedToken(dir, "a", absl::Seconds(60));
  ShortLivedRefresher refresher;
  RefreshCoordinator coordinator(**storage, refresher, nullptr);
  ProactiveRefresher proactive(**storage, coordinator, nullptr, ProactiveRefresher::Options());
  proactive.RunOnce();
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (coordinator.StateOf("p").refreshes == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(refresher.calls.load(), 1);

  WriteShortLivedToken(dir, "written-by-another-tool", absl::Minutes(2));
  const absl::Time before = absl::Now();
  proactive.RunOnce();
  EXPECT_LE(proactive.NextDue("p"), before + absl::Seconds(1));
  deadline = absl::Now() + absl::Seconds(10);
  while (refresher.calls.load() < 2 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(refresher.calls.load(), 2);
}

// Another tool writes a token close to expiry: the running refresher renews it within seconds,
// not at its next regular look (here 10 minutes away).
TEST(ProactiveRefresher, AStorageChangeWakesTheRefresher) {
  TempDir dir;
  auto storage = FileAuthStorage::Open(dir.Sub("auth"));
  ASSERT_TRUE(storage.ok());
  ShortLivedRefresher refresher;
  RefreshCoordinator coordinator(**storage, refresher, nullptr);
  ProactiveRefresher::Options options;
  options.max_sleep = absl::Minutes(10);
  ProactiveRefresher proactive(**storage, coordinator, nullptr, options);
  proactive.Start();
  absl::SleepFor(absl::Milliseconds(100));  // its first look finds nothing
  WriteShortLivedToken(dir, "close-to-expiry", absl::Seconds(90));
  (*storage)->Snapshot();  // what the watch hub's thread does when inotify reports the edit
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (refresher.calls.load() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(refresher.calls.load(), 1);
}

TEST_F(RefreshCoordinatorTest, NeedsLoginClearsWhenAnotherToolStoresANewLogin) {
  refresher_.fail_with = absl::UnauthenticatedError("invalid_grant");
  ProviderAuthManager manager(*storage_, ProviderRegistry::BuiltIn(), nullptr, nullptr,
                              coordinator_.get());
  EXPECT_FALSE(manager.GetApiKey("openai-codex").ok());
  EXPECT_TRUE(manager.GetStatus("openai-codex")->needs_login);
  WriteFileOrDie(dir_.Sub("auth/providers.json"), Stored("at-new", "rt-new", 3600).dump());
  auto status = manager.GetStatus("openai-codex");
  EXPECT_FALSE(status->needs_login);
  EXPECT_TRUE(status->configured);
  EXPECT_EQ(manager.GetApiKey("openai-codex")->key.view(), "at-new");
}

}  // namespace
}  // namespace operator_auth
