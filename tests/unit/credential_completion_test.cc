#include "daemon/core/credential_completion.h"

#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/synchronization/blocking_counter.h"
#include "daemon/core/in_memory_auth_storage.h"

namespace operator_auth {
namespace {

// A one-shot "it happened". std::promise rather than absl::Notification: the latter's fast path
// is an atomic inside Debian's uninstrumented abseil, which ThreadSanitizer cannot see, so it
// reports the data handed over with it as a race.
class Signal {
 public:
  void Notify() { promise_.set_value(); }
  bool WaitFor(absl::Duration timeout) {
    return future_.wait_for(absl::ToChronoMilliseconds(timeout)) == std::future_status::ready;
  }

 private:
  std::promise<void> promise_;
  std::future<void> future_ = promise_.get_future();
};

using ::testing::HasSubstr;
using Json = nlohmann::ordered_json;

constexpr char kProvider[] = "google-gemini-cli";

// The provider side of a completion in memory: counts calls, blocks each one until released, and
// answers with `project_id` = "proj-for-<the credential's refresh token>" or a set failure.
class FakeCompleter : public OAuthTokenService {
 public:
  bool CanRefresh(const std::string&) const override { return true; }
  absl::StatusOr<Credential> Refresh(const std::string&, const Credential&) override {
    return absl::UnimplementedError("not used");
  }
  absl::Status Revoke(const std::string&, const Credential&) override { return absl::OkStatus(); }

  absl::StatusOr<std::map<std::string, std::string>> Complete(const std::string&,
                                                              const Credential& current) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    refreshes_seen_.push_back(current.refresh.str());
    mu_.Await(absl::Condition(&released_));
    if (!fail_with_.ok()) return fail_with_;
    return std::map<std::string, std::string>{
        {kProjectIdAttribute, "proj-for-" + current.refresh.str()}};
  }

  // Lets the calls blocked now and all later ones through.
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }
  void Hold() {
    absl::MutexLock lock(&mu_);
    released_ = false;
  }
  void FailWith(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_with_ = std::move(status);
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // Until a call has started.
  void AwaitCall(int n) {
    absl::MutexLock lock(&mu_);
    auto started = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return calls_ >= n; };
    mu_.Await(absl::Condition(&started));
  }
  std::vector<std::string> refreshes_seen() {
    absl::MutexLock lock(&mu_);
    return refreshes_seen_;
  }

 private:
  absl::Mutex mu_;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status fail_with_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> refreshes_seen_ ABSL_GUARDED_BY(mu_);
};

class FakeClock {
 public:
  absl::Time Now() {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1'800'000'000);
};

CredentialDocument Document(const std::string& refresh) {
  absl::StatusOr<CredentialDocument> d = CredentialDocument::Parse(Json{
      {kProvider,
       {{"type", "oauth"},
        {"access", "at-of-" + refresh},
        {"refresh", refresh},
        {"expires", 1'900'000'000'000},
        {"email", "user@example.com"},
        {"extra", {{"keep", "me"}}}}}}.dump());
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *std::move(d) : CredentialDocument();
}

class CredentialCompletionTest : public ::testing::Test {
 protected:
  CredentialCompletionTest()
      : storage_(Document("rt-1")),
        completion_(std::make_unique<CredentialCompletion>(
            storage_, service_, [this] { return clock_.Now(); },
            CredentialCompletion::Options{absl::Seconds(30), absl::Minutes(10)})) {}

  ~CredentialCompletionTest() override {
    service_.Release();  // the completion's destructor waits for the call in flight
    completion_.reset();
  }

  Credential Stored() { return storage_.Snapshot()->credentials.at(kProvider); }
  Json StoredEntry() { return Json::parse(storage_.Serialized())[kProvider]; }

  // Stores another login's tokens as a new login does (CredentialDocument::Replace).
  void StoreNewLogin(const std::string& refresh) {
    Credential c = Credential::OAuth("at-of-" + refresh, refresh, 1'900'000'000'000);
    ASSERT_TRUE(storage_
                    .Update([&](CredentialDocument& d) -> absl::StatusOr<bool> {
                      d.Replace(kProvider, c);
                      return true;
                    })
                    .ok());
  }

  absl::StatusOr<Credential> CompleteAndWait(const Credential& current) {
    Signal done;
    absl::StatusOr<Credential> result = absl::UnknownError("not called");
    completion_->Complete(kProvider, current, [&](absl::StatusOr<Credential> r) {
      result = std::move(r);
      done.Notify();
    });
    EXPECT_TRUE(done.WaitFor(absl::Seconds(10)));
    return result;
  }

  FakeClock clock_;
  FakeCompleter service_;
  InMemoryAuthStorage storage_;
  std::unique_ptr<CredentialCompletion> completion_;
};

TEST_F(CredentialCompletionTest, ConcurrentCallersShareOneCompletion) {
  constexpr int kCallers = 32;
  const Credential current = Stored();
  absl::BlockingCounter answered(kCallers);
  std::atomic<int> right{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&] {
      completion_->Complete(kProvider, current, [&](absl::StatusOr<Credential> c) {
        if (c.ok() && c->Attribute(kProjectIdAttribute, kProjectIdAttributePi) == "proj-for-rt-1" &&
            c->access.view() == "at-of-rt-1") {
          ++right;
        }
        answered.DecrementCount();
      });
    });
  }
  for (std::thread& t : callers) t.join();
  service_.AwaitCall(1);
  service_.Release();
  answered.Wait();
  EXPECT_EQ(right.load(), kCallers);
  EXPECT_EQ(service_.calls(), 1);
}

TEST_F(CredentialCompletionTest, TheAttributeIsWrittenToTheStoredEntryKeepingTheRest) {
  service_.Release();
  absl::StatusOr<Credential> c = CompleteAndWait(Stored());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->attributes.at(kProjectIdAttribute), "proj-for-rt-1");
  const Json entry = StoredEntry();
  EXPECT_EQ(entry["project_id"], "proj-for-rt-1");
  EXPECT_EQ(entry["access"], "at-of-rt-1");
  EXPECT_EQ(entry["refresh"], "rt-1");
  EXPECT_EQ(entry["expires"], 1'900'000'000'000);
  EXPECT_EQ(entry["email"], "user@example.com");
  EXPECT_EQ(entry["extra"], Json({{"keep", "me"}}));
  // Remembered: the next caller is answered without asking the provider again.
  c = CompleteAndWait(Stored());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->attributes.at(kProjectIdAttribute), "proj-for-rt-1");
  EXPECT_EQ(service_.calls(), 1);
}

TEST_F(CredentialCompletionTest, ACredentialReplacedMeanwhileIsNotWrittenButCallersGetTheResult) {
  Signal done;
  absl::StatusOr<Credential> result = absl::UnknownError("not called");
  completion_->Complete(kProvider, Stored(), [&](absl::StatusOr<Credential> r) {
    result = std::move(r);
    done.Notify();
  });
  service_.AwaitCall(1);
  StoreNewLogin("rt-2");  // while the provider is being asked
  service_.Release();
  ASSERT_TRUE(done.WaitFor(absl::Seconds(10)));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->attributes.at(kProjectIdAttribute), "proj-for-rt-1");
  EXPECT_EQ(result->refresh.view(), "rt-1");
  const Json entry = StoredEntry();
  EXPECT_EQ(entry["refresh"], "rt-2");
  EXPECT_FALSE(entry.contains("project_id")) << entry;
}

TEST_F(CredentialCompletionTest, AFailureThatNeedsTheUserIsRememberedUntilForgetOrANewCredential) {
  service_.Release();
  int login = 0;
  for (const absl::Status& failure :
       {absl::FailedPreconditionError("set GOOGLE_CLOUD_PROJECT"),
        absl::PermissionDeniedError("Google Code Assist refused this account")}) {
    StoreNewLogin("rt-login-" + std::to_string(++login));
    service_.FailWith(failure);
    const int before = service_.calls();
    absl::StatusOr<Credential> c = CompleteAndWait(Stored());
    EXPECT_EQ(c.status(), failure);
    EXPECT_EQ(service_.calls(), before + 1);
    // However much time passes, the provider is not asked again...
    clock_.Advance(absl::Hours(24));
    c = CompleteAndWait(Stored());
    EXPECT_EQ(c.status(), failure);
    EXPECT_EQ(service_.calls(), before + 1);
    EXPECT_FALSE(StoredEntry().contains("project_id"));
    // ...until Forget() (a reloaded configuration, a new login),
    completion_->Forget(kProvider);
    c = CompleteAndWait(Stored());
    EXPECT_EQ(c.status(), failure);
    EXPECT_EQ(service_.calls(), before + 2);
    // or until the credential changes.
    StoreNewLogin("rt-new-" + std::to_string(before));
    service_.FailWith(absl::OkStatus());
    c = CompleteAndWait(Stored());
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(service_.calls(), before + 3);
    EXPECT_EQ(c->attributes.at(kProjectIdAttribute), "proj-for-rt-new-" + std::to_string(before));
  }
}

TEST_F(CredentialCompletionTest, ATransientFailureIsRememberedOnlyUntilTheBackOffPasses) {
  service_.Release();
  service_.FailWith(absl::UnavailableError("loadCodeAssist answered HTTP 503"));
  absl::StatusOr<Credential> c = CompleteAndWait(Stored());
  EXPECT_TRUE(absl::IsUnavailable(c.status())) << c.status();
  EXPECT_EQ(service_.calls(), 1);

  clock_.Advance(absl::Seconds(29));  // inside the first back-off (30 s)
  c = CompleteAndWait(Stored());
  EXPECT_TRUE(absl::IsUnavailable(c.status())) << c.status();
  EXPECT_EQ(service_.calls(), 1);

  clock_.Advance(absl::Seconds(2));
  c = CompleteAndWait(Stored());
  EXPECT_TRUE(absl::IsUnavailable(c.status())) << c.status();
  EXPECT_EQ(service_.calls(), 2);

  clock_.Advance(absl::Seconds(59));  // the second back-off doubles to 60 s
  c = CompleteAndWait(Stored());
  EXPECT_EQ(service_.calls(), 2);
  clock_.Advance(absl::Seconds(2));
  service_.FailWith(absl::OkStatus());
  c = CompleteAndWait(Stored());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(service_.calls(), 3);
  EXPECT_EQ(StoredEntry()["project_id"], "proj-for-rt-1");
}

TEST_F(CredentialCompletionTest, TheBackOffStopsGrowingAtItsMaximum) {
  service_.Release();
  service_.FailWith(absl::DeadlineExceededError("timed out"));
  for (int i = 0; i < 8; ++i) {  // 30 s, 1, 2, 4, 8, 10, 10, 10 min
    ASSERT_FALSE(CompleteAndWait(Stored()).ok());
    clock_.Advance(absl::Minutes(10) + absl::Seconds(1));
  }
  EXPECT_EQ(service_.calls(), 8);
  ASSERT_FALSE(CompleteAndWait(Stored()).ok());
  EXPECT_EQ(service_.calls(), 9);
}

TEST_F(CredentialCompletionTest, ANewCredentialIsNotAnsweredFromAnotherCredentialsSuccess) {
  service_.Release();
  ASSERT_TRUE(CompleteAndWait(Stored()).ok());
  StoreNewLogin("rt-2");
  absl::StatusOr<Credential> c = CompleteAndWait(Stored());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->attributes.at(kProjectIdAttribute), "proj-for-rt-2");
  EXPECT_EQ(service_.calls(), 2);
}

// Regression: a caller with another credential (a new login) that arrived while a completion of
// the old credential ran used to join it and be answered with the OLD credential (its access and
// refresh tokens) plus the old account's attributes. It now gets a flight of its own.
TEST_F(CredentialCompletionTest, ACallerWithANewCredentialIsNotAnsweredWithTheOldOne) {
  const Credential old_credential = Stored();
  Signal old_done;
  completion_->Complete(kProvider, old_credential,
                        [&](absl::StatusOr<Credential>) { old_done.Notify(); });
  service_.AwaitCall(1);
  StoreNewLogin("rt-2");
  const Credential new_credential = Stored();
  Signal new_done;
  absl::StatusOr<Credential> result = absl::UnknownError("not called");
  completion_->Complete(kProvider, new_credential, [&](absl::StatusOr<Credential> r) {
    result = std::move(r);
    new_done.Notify();
  });
  service_.Release();
  ASSERT_TRUE(old_done.WaitFor(absl::Seconds(10)));
  ASSERT_TRUE(new_done.WaitFor(absl::Seconds(10)));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->access.view(), "at-of-rt-2");
  EXPECT_EQ(result->refresh.view(), "rt-2");
  EXPECT_EQ(result->attributes.at(kProjectIdAttribute), "proj-for-rt-2");
}

}  // namespace
}  // namespace operator_auth
