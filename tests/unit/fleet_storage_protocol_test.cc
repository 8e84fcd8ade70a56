// FleetStorage's protocol on InMemoryKv (etcd's semantics in memory): a compare-and-swap that
// loses to another daemon's write applies the change again to what that daemon wrote; a watch
// that ends is replaced by a fresh read; without quorum the last snapshot is served and writes
// are refused; the claim's lease is renewed while it is held and released after.
#include "daemon/fleet/fleet_storage.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/in_memory_kv.h"

namespace operator_auth {
namespace {

using ::operator_auth::testing::Eventually;
using ::operator_auth::testing::FileMode;
using ::operator_auth::testing::InMemoryKv;
using ::operator_auth::testing::TempDir;
using ::testing::HasSubstr;

AuthStorage::Mutation PutKey(const std::string& provider, const std::string& key,
                             std::atomic<int>* calls = nullptr) {
  return [=](CredentialDocument& document) -> absl::StatusOr<bool> {
    if (calls != nullptr) ++*calls;
    document.Put(provider, Credential::ApiKey(key));
    return true;
  };
}

class FleetStorageProtocolTest : public ::testing::Test {
 protected:
  std::unique_ptr<FleetStorage> Daemon(const std::string& holder, int64_t claim_ttl = 10,
                                       const std::string& journal_directory = "") {
    FleetStorageOptions options;
    options.journal_directory = journal_directory;
    options.journal_boundary = TrustBoundary{geteuid(), "/"};
    options.name = "unit";
    options.holder = holder;
    options.claim_ttl_seconds = claim_ttl;
    options.resync_pause = absl::Milliseconds(20);
    options.lock_timeout = absl::Seconds(2);
    return FleetStorage::Open(kv_, key_, options);
  }

  // The files in the refresh journal directory.
  static int JournalEntries(const std::string& directory) {
    std::error_code error;
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
      if (entry.path().extension() == ".sealed") ++count;
    }
    return count;
  }

  std::shared_ptr<InMemoryKv> kv_ = std::make_shared<InMemoryKv>();
  const FleetKey key_ = FleetKey::Generate();
  TempDir dir_;
};

AuthStorage::Mutation PutOAuth(const std::string& provider, const std::string& access,
                               const std::string& refresh) {
  return [=](CredentialDocument& document) -> absl::StatusOr<bool> {
    document.Put(provider, Credential::OAuth(access, refresh, 4102444800000));
    return true;
  };
}

// A daemon that crashed between the token endpoint's answer and its write: the next daemon
// started on that host finds the answer in the journal and stores it, since the refresh token
// it spent is still the stored one.
TEST_F(FleetStorageProtocolTest, ARefreshAnswerLeftInTheJournalIsStoredAtTheNextStart) {
  const std::string journal = dir_.Sub("fleet-journal");
  std::unique_ptr<FleetStorage> a = Daemon("a", 10, journal);
  ASSERT_TRUE(a->Update(PutOAuth("anthropic", "at-unit-old", "rt-unit-spent")).ok());
  a->JournalRefresh("anthropic", SecretString("rt-unit-spent"),
                    Credential::OAuth("at-unit-fresh", "rt-unit-fresh", 4102444800000));
  EXPECT_EQ(JournalEntries(journal), 1);
  EXPECT_EQ(FileMode(journal), 0700);
  a.reset();  // the crash: no write, no RefreshSettled

  std::unique_ptr<FleetStorage> again = Daemon("a2", 10, journal);
  const Credential& stored = again->Snapshot()->credentials.at("anthropic");
  EXPECT_EQ(stored.access.view(), "at-unit-fresh");
  EXPECT_EQ(stored.refresh.view(), "rt-unit-fresh");
  EXPECT_EQ(JournalEntries(journal), 0);
}

// Another daemon stored a successor meanwhile (or the user logged in again): the answer in the
// journal is dropped, never written over the newer credential.
TEST_F(FleetStorageProtocolTest, AJournalledAnswerTheFleetHasMovedPastIsDropped) {
  const std::string journal = dir_.Sub("fleet-journal");
  std::unique_ptr<FleetStorage> a = Daemon("a", 10, journal);
  ASSERT_TRUE(a->Update(PutOAuth("anthropic", "at-unit-old", "rt-unit-spent")).ok());
  a->JournalRefresh("anthropic", SecretString("rt-unit-spent"),
                    Credential::OAuth("at-unit-mine", "rt-unit-mine", 4102444800000));
  a.reset();
  std::unique_ptr<FleetStorage> b = Daemon("b");
  ASSERT_TRUE(b->Update(PutOAuth("anthropic", "at-unit-newer", "rt-unit-newer")).ok());

  std::unique_ptr<FleetStorage> again = Daemon("a2", 10, journal);
  EXPECT_EQ(again->Snapshot()->credentials.at("anthropic").refresh.view(), "rt-unit-newer");
  EXPECT_EQ(JournalEntries(journal), 0);
}

// Quorum lost between the answer and the write: the write fails UNAVAILABLE, the answer stays in
// the journal, and it is stored as soon as the fleet can be read again.
TEST_F(FleetStorageProtocolTest, AnAnswerWhoseWriteFoundNoQuorumIsStoredWhenTheClusterReturns) {
  const std::string journal = dir_.Sub("fleet-journal");
  std::unique_ptr<FleetStorage> a = Daemon("a", 10, journal);
  std::unique_ptr<FleetStorage> b = Daemon("b");
  ASSERT_TRUE(a->Update(PutOAuth("anthropic", "at-unit-old", "rt-unit-spent")).ok());
  a->JournalRefresh("anthropic", SecretString("rt-unit-spent"),
                    Credential::OAuth("at-unit-fresh", "rt-unit-fresh", 4102444800000));
  kv_->SetAvailable(false);
  EXPECT_EQ(a->Update(PutOAuth("anthropic", "at-unit-fresh", "rt-unit-fresh")).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(JournalEntries(journal), 1);
  kv_->SetAvailable(true);
  EXPECT_TRUE(Eventually([&] {
    return b->Snapshot()->credentials.at("anthropic").refresh.view() == "rt-unit-fresh";
  }));
  EXPECT_TRUE(Eventually([&] { return JournalEntries(journal) == 0; }));
}

TEST_F(FleetStorageProtocolTest, ALostSwapAppliesTheChangeAgainToWhatTheOtherDaemonWrote) {
  std::unique_ptr<FleetStorage> a = Daemon("a");
  std::unique_ptr<FleetStorage> b = Daemon("b");
  ASSERT_TRUE(a->Update(PutKey("openai", "sk-unit-0001")).ok());
  // B's write lands between A's read and A's compare-and-swap.
  kv_->BeforeNextPut([&] { ASSERT_TRUE(b->Update(PutKey("anthropic", "sk-unit-0002")).ok()); });
  std::atomic<int> a_calls{0};
  ASSERT_TRUE(a->Update(PutKey("google", "sk-unit-0003", &a_calls)).ok());
  EXPECT_EQ(a_calls.load(), 2) << "A's change was applied once, on the document B replaced";
  const auto& credentials = a->Snapshot()->credentials;
  EXPECT_EQ(credentials.size(), 3u);
  EXPECT_EQ(credentials.at("anthropic").key.view(), "sk-unit-0002");
  kv_->Drain();
  EXPECT_EQ(b->Snapshot()->credentials.size(), 3u);
  EXPECT_EQ(b->Status().revision, a->Status().revision);
}

TEST_F(FleetStorageProtocolTest, AnUpdateThatChangesNothingWritesNothing) {
  std::unique_ptr<FleetStorage> a = Daemon("a");
  ASSERT_TRUE(a->Update(PutKey("openai", "sk-unit-0001")).ok());
  const int64_t revision = kv_->revision();
  ASSERT_TRUE(a->Update([](CredentialDocument&) -> absl::StatusOr<bool> { return false; }).ok());
  absl::Status refused = a->Update(
      [](CredentialDocument&) -> absl::StatusOr<bool> { return absl::NotFoundError("nothing"); });
  EXPECT_EQ(refused.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(kv_->revision(), revision);
}

TEST_F(FleetStorageProtocolTest, WithoutQuorumTheLastSnapshotIsServedAndWritesAreRefused) {
  std::unique_ptr<FleetStorage> a = Daemon("a");
  std::unique_ptr<FleetStorage> b = Daemon("b");
  ASSERT_TRUE(a->Update(PutKey("openai", "sk-unit-0001")).ok());
  kv_->Drain();
  kv_->SetAvailable(false);
  EXPECT_EQ(a->Update(PutKey("openai", "sk-unit-lost")).code(), absl::StatusCode::kUnavailable);
  absl::StatusOr<AuthStorage::LockHold> hold = a->HoldLock();
  EXPECT_EQ(hold.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(hold.status().message()), HasSubstr("still served"));
  ASSERT_TRUE(Eventually([&] { return !b->Status().reachable; }));
  EXPECT_EQ(b->Snapshot()->credentials.at("openai").key.view(), "sk-unit-0001");
  EXPECT_FALSE(b->DrainErrors().empty());

  // Back: B reads again and watches again, so A's next write reaches it.
  kv_->SetAvailable(true);
  ASSERT_TRUE(Eventually([&] { return b->Status().reachable; }));
  ASSERT_TRUE(a->Update(PutKey("openai", "sk-unit-0004")).ok());
  EXPECT_TRUE(Eventually(
      [&] { return b->Snapshot()->credentials.at("openai").key.view() == "sk-unit-0004"; }));
}

TEST_F(FleetStorageProtocolTest, WritesMissedWhileTheWatchWasDownArriveWithTheFreshRead) {
  std::unique_ptr<FleetStorage> a = Daemon("a");
  std::unique_ptr<FleetStorage> b = Daemon("b");
  ASSERT_TRUE(a->Update(PutKey("openai", "sk-unit-0001")).ok());
  kv_->Drain();
  kv_->SetAvailable(false);
  ASSERT_TRUE(Eventually([&] { return !b->Status().reachable; }));
  kv_->SetAvailable(true);
  // Written and the history compacted before B looks again: B must not rely on replay.
  ASSERT_TRUE(a->Update(PutKey("openai", "sk-unit-0005")).ok());
  kv_->Compact(kv_->revision());
  EXPECT_TRUE(Eventually(
      [&] { return b->Snapshot()->credentials.at("openai").key.view() == "sk-unit-0005"; }));
  EXPECT_TRUE(Eventually([&] { return b->Status().reachable; }));
}

TEST_F(FleetStorageProtocolTest, TheClaimIsRenewedWhileHeldAndReleasedAfter) {
  std::unique_ptr<FleetStorage> a = Daemon("a", /*claim_ttl=*/1);
  std::unique_ptr<FleetStorage> b = Daemon("b");
  absl::StatusOr<AuthStorage::LockHold> hold = a->HoldLock();
  ASSERT_TRUE(hold.ok()) << hold.status();
  absl::StatusOr<KvRead> claim = kv_->Get(a->claim_key());
  ASSERT_TRUE(claim.ok() && claim->entry.has_value());
  EXPECT_EQ(claim->entry->value, "a");
  EXPECT_NE(claim->entry->lease, 0);
  EXPECT_TRUE(Eventually([&] { return kv_->keep_alives() >= 2; }))
      << "a 1 s claim is renewed every third of a second";
  hold->reset();
  EXPECT_FALSE(kv_->Get(a->claim_key())->entry.has_value());
  EXPECT_EQ(kv_->KeepAlive(claim->entry->lease).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(b->HoldLock().ok());
}

TEST_F(FleetStorageProtocolTest, ALapsedClaimIsTakenOverAndItsHolderStillWritesByRevision) {
  std::unique_ptr<FleetStorage> a = Daemon("a");
  std::unique_ptr<FleetStorage> b = Daemon("b");
  ASSERT_TRUE(a->Update(PutKey("openai", "sk-unit-0001")).ok());
  absl::StatusOr<AuthStorage::LockHold> a_hold = a->HoldLock();
  ASSERT_TRUE(a_hold.ok());
  // B waits on the claim; A's lease lapses (A paused): B is woken by the deletion.
  std::atomic<bool> b_has_it{false};
  std::thread b_waits([&] {
    absl::StatusOr<AuthStorage::LockHold> b_hold = b->HoldLock();
    b_has_it = b_hold.ok();
  });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(b_has_it.load());
  kv_->LapseLease(kv_->Get(a->claim_key())->entry->lease);
  b_waits.join();
  EXPECT_TRUE(b_has_it.load());
  // A's write was computed on the current revision: it lands, claim or no claim.
  EXPECT_TRUE(a->Update(PutKey("openai", "sk-unit-from-a")).ok());
}

TEST_F(FleetStorageProtocolTest, ADocumentThatDoesNotParseServesNothing) {
  const std::string document_key = "/operator-authd/unit/providers";
  ASSERT_TRUE(kv_->PutIf(document_key, 0, key_.Seal("{not json", document_key)).ok());
  std::unique_ptr<FleetStorage> a = Daemon("a");
  EXPECT_TRUE(a->Snapshot()->credentials.empty());
  EXPECT_THAT(a->Snapshot()->load_error, HasSubstr("does not parse"));
  EXPECT_EQ(a->Update(PutKey("openai", "sk-unit-0001")).code(),
            absl::StatusCode::kFailedPrecondition);
  // Fixed by someone with the key: served again.
  ASSERT_TRUE(
      kv_->PutIf(document_key, kv_->Get(document_key)->entry->mod_revision,
                 key_.Seal(R"({"openai":{"type":"api_key","key":"sk-unit-0006"}})", document_key))
          .ok());
  EXPECT_TRUE(Eventually([&] { return a->Snapshot()->credentials.count("openai") == 1; }));
  EXPECT_TRUE(a->Snapshot()->load_error.empty());
}

}  // namespace
}  // namespace operator_auth
