// FleetStorage: several daemons' storages on one real 3-member etcd cluster (EtcdCluster), each
// with its own client, key copy and RefreshCoordinator, as N daemons on N hosts would have. A
// storm across them reaches the token endpoint once; the write of a rotated token is a
// compare-and-swap on the document, so a holder whose claim lapsed still saves its token; a
// daemon with another key serves and writes nothing; without quorum the stored credentials are
// still served and writes are refused.
#include "daemon/fleet/fleet_storage.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "daemon/core/refresh_coordinator.h"
#include "daemon/fleet/etcd_kv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/etcd_cluster_suite.h"
#include "tests/support/eventually.h"
#include "tests/unit/fake_token_service.h"

namespace operator_auth {
namespace {

using ::operator_auth::testing::EtcdCluster;
using ::operator_auth::testing::EtcdClusterOptions;
using ::operator_auth::testing::EtcdClusterSuite;
using ::operator_auth::testing::Eventually;
using ::operator_auth::testing::FakeRefresher;
using ::testing::HasSubstr;

constexpr char kSpentRefresh[] = "rt-fleet-spent-7f3a";

std::shared_ptr<FleetKv> Client(const EtcdCluster& cluster) {
  EtcdKvOptions options;
  options.endpoints = cluster.client_urls();
  options.call_timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<EtcdKv>> kv = EtcdKv::Create(options);
  EXPECT_TRUE(kv.ok()) << kv.status();
  return std::shared_ptr<FleetKv>(*std::move(kv));
}

CredentialDocument ExpiredOAuth(const std::string& provider) {
  Credential oauth;
  oauth.type = CredentialType::kOAuth;
  oauth.type_name = "oauth";
  oauth.access = SecretString("at-expired");
  oauth.refresh = SecretString(kSpentRefresh);
  oauth.expires_unix_ms = absl::ToUnixMillis(absl::Now() - absl::Minutes(1));
  CredentialDocument document;
  document.Put(provider, oauth);
  return document;
}

class FleetStorageTest : public EtcdClusterSuite<FleetStorageTest> {
 protected:

  // Daemon `holder` of the fleet named after the test.
  std::unique_ptr<FleetStorage> Daemon(const std::string& holder, const FleetKey& key,
                                       absl::Duration lock_timeout = absl::Seconds(10)) {
    FleetStorageOptions options;
    options.name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    options.holder = holder;
    options.lock_timeout = lock_timeout;
    options.claim_ttl_seconds = 3;
    return FleetStorage::Open(Client(*cluster_), key, options);
  }

  const FleetKey key_ = FleetKey::Generate();
};

TEST_F(FleetStorageTest, TheFirstDaemonSeedsAndEveryWriteReachesTheOthersThroughTheWatch) {
  std::unique_ptr<FleetStorage> a = Daemon("daemon-a", key_);
  std::unique_ptr<FleetStorage> b = Daemon("daemon-b", key_);
  std::atomic<int> b_changes{0};
  b->AddChangeListener([&] { ++b_changes; });

  CredentialDocument initial;
  initial.Put("openai", Credential::ApiKey("sk-fleet-seed-0001"));
  absl::StatusOr<bool> seeded_a = a->SeedIfEmpty(initial);
  ASSERT_TRUE(seeded_a.ok()) << seeded_a.status();
  EXPECT_TRUE(*seeded_a);
  CredentialDocument other;
  other.Put("openai", Credential::ApiKey("sk-fleet-loser-0002"));
  absl::StatusOr<bool> seeded_b = b->SeedIfEmpty(other);
  ASSERT_TRUE(seeded_b.ok());
  EXPECT_FALSE(*seeded_b) << "two first daemons both seeded the fleet";

  ASSERT_TRUE(Eventually([&] { return b->Snapshot()->credentials.count("openai") == 1; }));
  EXPECT_EQ(b->Snapshot()->credentials.at("openai").key.view(), "sk-fleet-seed-0001");

  ASSERT_TRUE(a->Update([](CredentialDocument& document) -> absl::StatusOr<bool> {
                 document.Put("anthropic", Credential::ApiKey("sk-ant-fleet-0003"));
                 return true;
               }).ok());
  ASSERT_TRUE(Eventually([&] { return b->Snapshot()->credentials.count("anthropic") == 1; }));
  EXPECT_GE(b_changes.load(), 2);
  EXPECT_TRUE(b->Status().reachable);
  EXPECT_EQ(b->Status().revision, a->Status().revision);
}

TEST_F(FleetStorageTest, AStormAcrossThreeDaemonsCallsTheTokenEndpointOnce) {
  constexpr int kDaemons = 3;
  constexpr int kCallersEach = 30;
  std::vector<std::unique_ptr<FleetStorage>> storages;
  std::vector<std::unique_ptr<FakeRefresher>> endpoints;
  std::vector<std::unique_ptr<RefreshCoordinator>> coordinators;
  for (int i = 0; i < kDaemons; ++i) {
    storages.push_back(Daemon("daemon-" + std::to_string(i), key_));
    endpoints.push_back(std::make_unique<FakeRefresher>());
    endpoints.back()->delay = absl::Milliseconds(300);  // the provider takes its time
    coordinators.push_back(std::make_unique<RefreshCoordinator>(*storages.back(), *endpoints.back(),
                                                                [] { return absl::Now(); }));
  }
  ASSERT_TRUE(*storages[0]->SeedIfEmpty(ExpiredOAuth("anthropic")));
  for (auto& storage : storages) {
    ASSERT_TRUE(Eventually([&] { return storage->Snapshot()->credentials.count("anthropic"); }));
  }

  std::atomic<int> ok{0};
  std::vector<std::string> tokens(kDaemons * kCallersEach);
  std::vector<std::thread> callers;
  for (int i = 0; i < kDaemons * kCallersEach; ++i) {
    callers.emplace_back([&, i] {
      absl::StatusOr<Credential> fresh =
          coordinators[static_cast<size_t>(i % kDaemons)]->RefreshAndWait(
              "anthropic", absl::Now() + absl::Minutes(5));
      if (fresh.ok()) {
        ++ok;
        tokens[static_cast<size_t>(i)] = std::string(fresh->access.view());
      }
    });
  }
  for (std::thread& t : callers) t.join();
  int calls = 0;
  for (auto& endpoint : endpoints) calls += endpoint->calls.load();
  ::testing::Test::RecordProperty("fleet_storm_token_endpoint_calls", calls);
  EXPECT_EQ(calls, 1) << "the token endpoint was called more than once fleet-wide";
  EXPECT_EQ(ok.load(), kDaemons * kCallersEach);
  for (const std::string& token : tokens) EXPECT_EQ(token, "at-1");
  // Every daemon's snapshot holds the rotated refresh token, none the spent one.
  for (auto& storage : storages) {
    ASSERT_TRUE(Eventually(
        [&] { return storage->Snapshot()->credentials.at("anthropic").refresh.view() == "rt-1"; }));
  }
}

TEST_F(FleetStorageTest, AHolderWhoseClaimLapsedStillSavesItsTokenByCompareAndSwap) {
  std::unique_ptr<FleetStorage> a = Daemon("daemon-a", key_);
  std::unique_ptr<FleetStorage> b = Daemon("daemon-b", key_, absl::Seconds(5));
  ASSERT_TRUE(*a->SeedIfEmpty(ExpiredOAuth("anthropic")));
  absl::StatusOr<AuthStorage::LockHold> a_hold = a->HoldLock();
  ASSERT_TRUE(a_hold.ok()) << a_hold.status();

  // A's lease lapses while its HTTP call is in flight (as under SIGSTOP): here, revoked.
  std::shared_ptr<FleetKv> kv = Client(*cluster_);
  absl::StatusOr<KvRead> claim = kv->Get(a->claim_key());
  ASSERT_TRUE(claim.ok() && claim->entry.has_value());
  EXPECT_EQ(claim->entry->value, "daemon-a");
  ASSERT_TRUE(kv->RevokeLease(claim->entry->lease).ok());

  // B takes the claim now...
  absl::StatusOr<AuthStorage::LockHold> b_hold = b->HoldLock();
  ASSERT_TRUE(b_hold.ok()) << b_hold.status();
  // ...and A's write of the token the provider gave it still lands: the document did not
  // change since A read it, and that is all the compare-and-swap asks.
  absl::Status written = a->Update([](CredentialDocument& document) -> absl::StatusOr<bool> {
    Credential fresh = document.Credentials().at("anthropic");
    fresh.access = SecretString("at-from-a");
    fresh.refresh = SecretString("rt-from-a");
    fresh.expires_unix_ms = absl::ToUnixMillis(absl::Now() + absl::Hours(1));
    document.Put("anthropic", fresh);
    return true;
  });
  ASSERT_TRUE(written.ok()) << written;
  // B, re-reading under its claim, finds A's token and has nothing to refresh.
  ASSERT_TRUE(Eventually(
      [&] { return b->Snapshot()->credentials.at("anthropic").refresh.view() == "rt-from-a"; }));
}

TEST_F(FleetStorageTest, AClaimIsWaitedForAndTimesOutNamingItsHolder) {
  std::unique_ptr<FleetStorage> a = Daemon("daemon-a", key_);
  std::unique_ptr<FleetStorage> b = Daemon("daemon-b", key_, absl::Milliseconds(500));
  std::unique_ptr<FleetStorage> c = Daemon("daemon-c", key_, absl::Seconds(10));
  absl::StatusOr<AuthStorage::LockHold> a_hold = a->HoldLock();
  ASSERT_TRUE(a_hold.ok()) << a_hold.status();
  // Within this daemon the claim is shared, not taken twice.
  absl::StatusOr<AuthStorage::LockHold> a_again = a->HoldLock();
  ASSERT_TRUE(a_again.ok());
  EXPECT_EQ(a_hold->get(), a_again->get());
  a_again->reset();

  absl::StatusOr<AuthStorage::LockHold> b_hold = b->HoldLock();
  EXPECT_EQ(b_hold.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(b_hold.status().message()), HasSubstr("daemon-a"));

  std::thread release([&] {
    absl::SleepFor(absl::Milliseconds(300));
    a_hold->reset();
  });
  const absl::Time start = absl::Now();
  absl::StatusOr<AuthStorage::LockHold> c_hold = c->HoldLock();
  const absl::Duration waited = absl::Now() - start;
  release.join();
  ASSERT_TRUE(c_hold.ok()) << c_hold.status();
  // Woken by the watch when A let go, not by a poll or the lease (3 s).
  EXPECT_LT(waited, absl::Seconds(2));
}

TEST_F(FleetStorageTest, ADaemonWithAnotherKeyServesNothingAndWritesNothing) {
  std::unique_ptr<FleetStorage> a = Daemon("daemon-a", key_);
  CredentialDocument initial;
  initial.Put("openai", Credential::ApiKey("sk-fleet-keyed-0004"));
  ASSERT_TRUE(*a->SeedIfEmpty(initial));
  const int64_t revision = a->Status().revision;

  std::unique_ptr<FleetStorage> wrong = Daemon("daemon-wrong", FleetKey::Generate());
  std::shared_ptr<const CredentialSnapshot> snapshot = wrong->Snapshot();
  EXPECT_TRUE(snapshot->credentials.empty());
  EXPECT_THAT(snapshot->load_error, HasSubstr("does not open with this daemon's fleet key"));
  EXPECT_FALSE(wrong->Status().reachable);
  absl::Status refused = wrong->Update([](CredentialDocument& document) -> absl::StatusOr<bool> {
    document.Put("openai", Credential::ApiKey("sk-overwritten"));
    return true;
  });
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_FALSE(*wrong->SeedIfEmpty(CredentialDocument()));
  // The fleet's document is as A wrote it.
  absl::StatusOr<KvRead> read = Client(*cluster_)->Get(a->document_key());
  ASSERT_TRUE(read.ok() && read->entry.has_value());
  EXPECT_EQ(read->entry->mod_revision, revision);
  EXPECT_EQ(a->Snapshot()->credentials.at("openai").key.view(), "sk-fleet-keyed-0004");
}

TEST_F(FleetStorageTest, NoSecretIsReadableInEtcdOrItsDataDirectory) {
  std::unique_ptr<FleetStorage> a = Daemon("daemon-a", key_);
  ASSERT_TRUE(*a->SeedIfEmpty(ExpiredOAuth("anthropic")));
  absl::StatusOr<KvRead> read = Client(*cluster_)->Get(a->document_key());
  ASSERT_TRUE(read.ok() && read->entry.has_value());
  EXPECT_THAT(read->entry->value, ::testing::Not(HasSubstr(kSpentRefresh)));
  EXPECT_THAT(read->entry->value, ::testing::Not(HasSubstr("anthropic")));
  // etcd's WAL and snapshots hold what was put, byte for byte: none of it may be plaintext.
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(cluster_->data_dir())) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(kSpentRefresh), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find("at-expired"), std::string::npos) << entry.path();
  }
  EXPECT_GT(files, 3u);
}

// Members are killed here, so this gets a cluster of its own.
TEST(FleetStorageQuorumTest, WithoutQuorumTheStoredKeysAreServedAndWritesRefused) {
  EtcdCluster cluster(3);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  FleetStorageOptions options;
  options.name = "quorum";
  options.holder = "daemon-a";
  options.resync_pause = absl::Milliseconds(200);
  const FleetKey key = FleetKey::Generate();
  std::unique_ptr<FleetStorage> a = FleetStorage::Open(Client(cluster), key, options);
  CredentialDocument initial;
  initial.Put("openai", Credential::ApiKey("sk-fleet-quorum-0005"));
  ASSERT_TRUE(*a->SeedIfEmpty(initial));

  cluster.Kill(1);
  cluster.Kill(2);
  EXPECT_EQ(a->Snapshot()->credentials.at("openai").key.view(), "sk-fleet-quorum-0005");
  absl::Status write = a->Update([](CredentialDocument& document) -> absl::StatusOr<bool> {
    document.Put("openai", Credential::ApiKey("sk-not-written"));
    return true;
  });
  EXPECT_EQ(write.code(), absl::StatusCode::kUnavailable) << write;
  EXPECT_THAT(std::string(write.message()), HasSubstr("still served"));
  EXPECT_EQ(a->HoldLock().status().code(), absl::StatusCode::kUnavailable);
  // The watch ends once the last member notices it has no leader; status says so.
  EXPECT_TRUE(Eventually([&] { return !a->Status().reachable; }, absl::Seconds(20)));
  EXPECT_EQ(a->Snapshot()->credentials.at("openai").key.view(), "sk-fleet-quorum-0005");

  cluster.Restart(1);
  EXPECT_TRUE(Eventually([&] { return a->Status().reachable; }, absl::Seconds(20)))
      << a->Status().problem;
  EXPECT_TRUE(a->Update([](CredentialDocument& document) -> absl::StatusOr<bool> {
                 document.Put("openai", Credential::ApiKey("sk-fleet-quorum-0006"));
                 return true;
               }).ok());
}

}  // namespace
}  // namespace operator_auth
