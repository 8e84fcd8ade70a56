// EtcdKv against a real 3-member cluster of Debian's etcd-server on 127.0.0.1 (EtcdCluster):
// compare-and-swap on mod_revision, leases, watches from a revision (and after compaction), and
// what one member down and the quorum lost look like to the client. Over TLS, against a member
// that asks clients for a certificate (etcd --client-cert-auth): a client with the CA and a
// certificate it signed reads and writes over https://; one without a certificate, or trusting
// another CA, gets UNAVAILABLE within its call timeout and an error that quotes no PEM; a key
// file others may write, or in a directory others may write, is refused by EtcdKv::Create
// (ReadTrustedFile) before any connection.
//
// The semantics relied on are etcd's own: a Txn's Compare on MOD against 0 means "absent"
// (etcd server/mvcc: an absent key has mod_revision 0), keys put under a lease go with it, and a
// watch whose start revision was compacted is answered with compact_revision set and cancelled
// (etcd api/v3rpc/watch.go). `hasleader` metadata is what clientv3.WithRequireLeader sends
// (etcd clientv3/client.go WithRequireLeader; the server checks it in
// etcdserver/api/v3rpc/interceptor.go and ends the stream with ErrGRPCNoLeader).
#include "daemon/fleet/etcd_kv.h"

#include <sys/stat.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/etcd_cluster_suite.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certificates.h"

namespace operator_auth {
namespace {

using ::operator_auth::testing::CertificateFiles;
using ::operator_auth::testing::EtcdCluster;
using ::operator_auth::testing::EtcdClusterOptions;
using ::operator_auth::testing::EtcdClusterSuite;
using ::operator_auth::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<EtcdKv> Connect(const std::vector<std::string>& endpoints,
                                absl::Duration timeout = absl::Seconds(2)) {
  EtcdKvOptions options;
  options.endpoints = endpoints;
  options.call_timeout = timeout;
  absl::StatusOr<std::unique_ptr<EtcdKv>> kv = EtcdKv::Create(options);
  EXPECT_TRUE(kv.ok()) << kv.status();
  return kv.ok() ? *std::move(kv) : nullptr;
}

// Collects what a watch delivers.
struct WatchLog {
  absl::Mutex mu;
  std::vector<KvEvent> events ABSL_GUARDED_BY(mu);
  absl::Status ended ABSL_GUARDED_BY(mu);

  FleetKv::WatchCallback Callback() {
    return [this](absl::StatusOr<std::vector<KvEvent>> batch) {
      absl::MutexLock lock(&mu);
      if (!batch.ok()) {
        ended = batch.status();
        return;
      }
      for (KvEvent& event : *batch) events.push_back(std::move(event));
    };
  }
  // Waits (bounded) until `count` events arrived or the watch ended.
  bool WaitFor(size_t count, absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu);
    auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) {
      return events.size() >= count || !ended.ok();
    };
    mu.AwaitWithTimeout(absl::Condition(&done), timeout);
    return events.size() >= count;
  }
  bool WaitForEnd(absl::Duration timeout = absl::Seconds(15)) {
    absl::MutexLock lock(&mu);
    auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return !ended.ok(); };
    return mu.AwaitWithTimeout(absl::Condition(&done), timeout);
  }
};

class EtcdKvTest : public EtcdClusterSuite<EtcdKvTest> {
 protected:
  void SetUp() override {
    EtcdClusterSuite::SetUp();
    if (HasFatalFailure()) return;
    kv_ = Connect(cluster_->client_urls());
    ASSERT_NE(kv_, nullptr);
    prefix_ = "/authd-test/" +
              std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "/";
  }

  std::unique_ptr<EtcdKv> kv_;
  std::string prefix_;
};

TEST_F(EtcdKvTest, PutIfIsACompareAndSwapOnTheKeysModRevision) {
  const std::string key = prefix_ + "providers";
  absl::StatusOr<KvRead> absent = kv_->Get(key);
  ASSERT_TRUE(absent.ok()) << absent.status();
  EXPECT_FALSE(absent->entry.has_value());
  EXPECT_GT(absent->revision, 0);

  // 0 means "only if absent": the first of two creators wins, the second sees what it wrote.
  absl::StatusOr<KvSwap> created = kv_->PutIf(key, 0, "first");
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->succeeded);
  absl::StatusOr<KvSwap> second = kv_->PutIf(key, 0, "second");
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->succeeded);
  ASSERT_TRUE(second->current.has_value());
  EXPECT_EQ(second->current->value, "first");
  EXPECT_EQ(second->current->mod_revision, created->revision);

  // A swap on the revision read succeeds once; the same revision again is stale.
  absl::StatusOr<KvSwap> swapped = kv_->PutIf(key, created->revision, "rotated");
  ASSERT_TRUE(swapped.ok());
  EXPECT_TRUE(swapped->succeeded);
  EXPECT_GT(swapped->revision, created->revision);
  absl::StatusOr<KvSwap> stale = kv_->PutIf(key, created->revision, "lost update");
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(stale->succeeded);
  EXPECT_EQ(stale->current->value, "rotated");

  absl::StatusOr<KvRead> read = kv_->Get(key);
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read->entry.has_value());
  EXPECT_EQ(read->entry->value, "rotated");
  EXPECT_EQ(read->entry->mod_revision, swapped->revision);
  EXPECT_EQ(read->entry->create_revision, created->revision);

  absl::StatusOr<KvSwap> stale_delete = kv_->DeleteIf(key, created->revision);
  ASSERT_TRUE(stale_delete.ok());
  EXPECT_FALSE(stale_delete->succeeded);
  absl::StatusOr<KvSwap> deleted = kv_->DeleteIf(key, swapped->revision);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->succeeded);
  EXPECT_FALSE(kv_->Get(key)->entry.has_value());
}

TEST_F(EtcdKvTest, ListReadsEveryKeyUnderAPrefixAndNothingBeside) {
  ASSERT_TRUE(kv_->PutIf(prefix_ + "a", 0, "1").ok());
  ASSERT_TRUE(kv_->PutIf(prefix_ + "b", 0, "2").ok());
  ASSERT_TRUE(kv_->PutIf(prefix_.substr(0, prefix_.size() - 1) + "x", 0, "beside").ok());
  int64_t revision = 0;
  absl::StatusOr<std::vector<KvEntry>> entries = kv_->List(prefix_, &revision);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].value, "1");
  EXPECT_EQ((*entries)[1].value, "2");
  EXPECT_GT(revision, 0);
  EXPECT_EQ(PrefixEnd("a/"), "a0");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
}

TEST_F(EtcdKvTest, AKeyUnderALeaseGoesWithTheLease) {
  absl::StatusOr<int64_t> lease = kv_->GrantLease(5);
  ASSERT_TRUE(lease.ok()) << lease.status();
  const std::string key = prefix_ + "claim";
  absl::StatusOr<KvSwap> claimed = kv_->PutIf(key, 0, "holder-a", *lease);
  ASSERT_TRUE(claimed.ok());
  ASSERT_TRUE(claimed->succeeded);
  EXPECT_EQ(kv_->Get(key)->entry->lease, *lease);
  absl::StatusOr<int64_t> ttl = kv_->KeepAlive(*lease);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(*ttl, 0);
  EXPECT_LE(*ttl, 5);

  ASSERT_TRUE(kv_->RevokeLease(*lease).ok());
  EXPECT_FALSE(kv_->Get(key)->entry.has_value());
  EXPECT_EQ(kv_->KeepAlive(*lease).status().code(), absl::StatusCode::kNotFound);

  // A short lease that nobody renews lapses by itself (etcd's minimum TTL is a few seconds).
  absl::StatusOr<int64_t> lapsing = kv_->GrantLease(1);
  ASSERT_TRUE(lapsing.ok());
  ASSERT_TRUE(kv_->PutIf(key, 0, "holder-b", *lapsing).ok());
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {  // bounded: 10 s
    gone = !kv_->Get(key)->entry.has_value();
    if (!gone) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(gone) << "a lapsed lease's key is still there";
}

TEST_F(EtcdKvTest, AWatchDeliversEveryChangeFromItsRevisionInOrder) {
  const std::string key = prefix_ + "providers";
  absl::StatusOr<KvSwap> first = kv_->PutIf(key, 0, "v1");
  ASSERT_TRUE(first.ok());
  absl::StatusOr<KvSwap> second = kv_->PutIf(key, first->revision, "v2");
  ASSERT_TRUE(second.ok());

  // From the first write's revision: the history first, then what happens while it watches.
  WatchLog log;
  absl::StatusOr<std::unique_ptr<KvWatch>> watch =
      kv_->Watch(prefix_, first->revision, log.Callback());
  ASSERT_TRUE(watch.ok()) << watch.status();
  ASSERT_TRUE(log.WaitFor(2));
  absl::StatusOr<KvSwap> deleted = kv_->DeleteIf(key, second->revision);
  ASSERT_TRUE(deleted.ok());
  ASSERT_TRUE(log.WaitFor(3));
  absl::MutexLock lock(&log.mu);
  ASSERT_EQ(log.events.size(), 3u);
  EXPECT_EQ(log.events[0].entry.value, "v1");
  EXPECT_EQ(log.events[1].entry.value, "v2");
  EXPECT_EQ(log.events[1].entry.mod_revision, second->revision);
  EXPECT_EQ(log.events[2].type, KvEvent::Type::kDelete);
  EXPECT_EQ(log.events[2].entry.key, key);
  EXPECT_TRUE(log.ended.ok()) << log.ended;
}

TEST_F(EtcdKvTest, AWatchFromACompactedRevisionSaysSo) {
  const std::string key = prefix_ + "providers";
  absl::StatusOr<KvSwap> first = kv_->PutIf(key, 0, "v1");
  ASSERT_TRUE(first.ok());
  absl::StatusOr<KvSwap> second = kv_->PutIf(key, first->revision, "v2");
  ASSERT_TRUE(second.ok());
  testing::ProcessOptions options;
  options.env["ETCDCTL_API"] = "3";
  testing::ProcessResult compact =
      testing::RunProcess({"/usr/bin/etcdctl", "--endpoints=" + cluster_->client_url(0), "compact",
                           std::to_string(second->revision)},
                          options);
  ASSERT_EQ(compact.exit_code, 0) << compact.err;

  WatchLog log;
  absl::StatusOr<std::unique_ptr<KvWatch>> watch =
      kv_->Watch(prefix_, first->revision, log.Callback());
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE(log.WaitForEnd());
  absl::MutexLock lock(&log.mu);
  EXPECT_EQ(log.ended.code(), absl::StatusCode::kOutOfRange) << log.ended;
  EXPECT_TRUE(log.events.empty());
}

// Members are killed here, so these get a cluster of their own.
class EtcdKvAvailabilityTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cluster_.ok()) << cluster_.status(); }
  EtcdCluster cluster_{3};
};

TEST_F(EtcdKvAvailabilityTest, OneMemberOfThreeDownCostsOneTimeoutAtMost) {
  // The client starts at member 0; kill it.
  std::unique_ptr<EtcdKv> kv = Connect(cluster_.client_urls());
  ASSERT_NE(kv, nullptr);
  ASSERT_TRUE(kv->PutIf("/authd-test/one-down", 0, "before").ok());
  cluster_.Kill(0);

  const absl::Time start = absl::Now();
  absl::StatusOr<KvRead> read = kv->Get("/authd-test/one-down");
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(read.ok()) << read.status() << "\n" << cluster_.Logs();
  ASSERT_TRUE(read->entry.has_value());
  EXPECT_EQ(read->entry->value, "before");
  EXPECT_NE(kv->CurrentEndpoint(), cluster_.client_url(0));
  ::testing::Test::RecordProperty("one_member_down_first_read_ms",
                                  std::to_string(absl::ToInt64Milliseconds(took)));
  // Writes go on, on the member that answered.
  absl::StatusOr<KvSwap> swapped =
      kv->PutIf("/authd-test/one-down", read->entry->mod_revision, "after");
  ASSERT_TRUE(swapped.ok()) << swapped.status();
  EXPECT_TRUE(swapped->succeeded);

  // Back with its data, it catches up, and a client on it alone gets the latest value: a
  // linearizable read waits for the leader's commit index.
  // The client is made while the member is down: it must reconnect by itself (bounded backoff).
  std::unique_ptr<EtcdKv> only_member_0 = Connect({cluster_.client_url(0)});
  EXPECT_EQ(only_member_0->Get("/authd-test/one-down").status().code(),
            absl::StatusCode::kUnavailable);
  cluster_.Restart(0);
  bool caught_up = false;
  std::string last;
  // Bounded by a deadline: each Get may take its whole 2 s timeout while member 0 is not back.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline && !caught_up) {
    absl::StatusOr<KvRead> again = only_member_0->Get("/authd-test/one-down");
    caught_up = again.ok() && again->entry.has_value() && again->entry->value == "after";
    last = !again.ok()                ? again.status().ToString()
           : again->entry.has_value() ? again->entry->value
                                      : "(absent)";
    if (!caught_up) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(caught_up) << "member 0 last said: " << last << "\n" << cluster_.Logs();
}

TEST_F(EtcdKvAvailabilityTest, WithoutQuorumReadsAndWritesAreUnavailableNotStale) {
  std::unique_ptr<EtcdKv> kv = Connect(cluster_.client_urls(), absl::Seconds(1));
  ASSERT_NE(kv, nullptr);
  ASSERT_TRUE(kv->PutIf("/authd-test/quorum", 0, "v1").ok());
  cluster_.Kill(1);
  cluster_.Kill(2);

  const absl::Time start = absl::Now();
  absl::StatusOr<KvRead> read = kv->Get("/authd-test/quorum");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable) << read.status();
  absl::StatusOr<KvSwap> write = kv->PutIf("/authd-test/quorum", 0, "v2");
  EXPECT_EQ(write.status().code(), absl::StatusCode::kUnavailable) << write.status();
  // Each call tries three members for at most 1 s each: 6 s for the two, and slack.
  EXPECT_LT(absl::Now() - start, absl::Seconds(12));
  EXPECT_THAT(std::string(read.status().message()), ::testing::HasSubstr("no etcd member"));

  cluster_.Restart(1);
  bool back = false;
  for (int i = 0; i < 100 && !back; ++i) {  // bounded: about 10 s plus the calls
    absl::StatusOr<KvRead> again = kv->Get("/authd-test/quorum");
    back = again.ok() && again->entry.has_value() && again->entry->value == "v1";
    if (!back) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(back) << cluster_.Logs();
}

TEST_F(EtcdKvAvailabilityTest, AWatchEndsWhenItsMemberLosesTheLeader) {
  std::unique_ptr<EtcdKv> kv = Connect({cluster_.client_url(0)});
  ASSERT_NE(kv, nullptr);
  absl::StatusOr<KvRead> read = kv->Get("/authd-test/watched");
  ASSERT_TRUE(read.ok());
  WatchLog log;
  absl::StatusOr<std::unique_ptr<KvWatch>> watch =
      kv->Watch("/authd-test/", read->revision + 1, log.Callback());
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE(kv->PutIf("/authd-test/watched", 0, "v1").ok());
  ASSERT_TRUE(log.WaitFor(1));
  // Member 0 alone has no leader: the watch must end, not sit silent while others write.
  cluster_.Kill(1);
  cluster_.Kill(2);
  EXPECT_TRUE(log.WaitForEnd(absl::Seconds(20)));
  absl::MutexLock lock(&log.mu);
  EXPECT_EQ(log.ended.code(), absl::StatusCode::kUnavailable) << log.ended;
}

// One member serving clients on https:// only, with --client-cert-auth (EtcdCluster's
// client_tls): gRPC checks the member's certificate against ca_file (its subjectAltName is
// IP:127.0.0.1), and the member checks the client's cert_file/key_file against its CA.
class EtcdKvTlsTest : public EtcdClusterSuite<EtcdKvTlsTest> {
 public:
  static EtcdClusterOptions ClusterOptions() {
    EtcdClusterOptions options;
    options.members = 1;
    options.client_tls = true;
    return options;
  }

 protected:

  // The cluster's CA and its client certificate: what a daemon of the fleet is configured with.
  static EtcdTls ClientTls() {
    EtcdTls tls;
    tls.ca_file = cluster_->ca_file();
    tls.cert_file = cluster_->client_cert_file();
    tls.key_file = cluster_->client_key_file();
    return tls;
  }
  // The TLS files are under a TempDir: the default boundary (this process's uid and home)
  // trusts them like the daemon would trust its own.
  static absl::StatusOr<std::unique_ptr<EtcdKv>> Create(const EtcdTls& tls,
                                                        absl::Duration timeout = absl::Seconds(2)) {
    EtcdKvOptions options;
    options.endpoints = cluster_->client_urls();
    options.tls = tls;
    options.call_timeout = timeout;
    return EtcdKv::Create(options);
  }
  // A client refused by the TLS handshake: each call waits out its one member's call timeout
  // (gRPC's wait_for_ready), then reports it as UNAVAILABLE, without quoting a PEM file.
  static void ExpectRefused(EtcdKv& kv) {
    const absl::Time start = absl::Now();
    absl::StatusOr<KvRead> read = kv.Get("/authd-test/tls/refused");
    EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable) << read.status();
    EXPECT_THAT(std::string(read.status().message()), HasSubstr("no etcd member"));
    EXPECT_THAT(std::string(read.status().message()), Not(HasSubstr("BEGIN")));
    absl::StatusOr<KvSwap> write = kv.PutIf("/authd-test/tls/refused", 0, "must not land");
    EXPECT_EQ(write.status().code(), absl::StatusCode::kUnavailable) << write.status();
    EXPECT_THAT(std::string(write.status().message()), Not(HasSubstr("BEGIN")));
    // One member, 1 s for each of the two calls, and slack.
    EXPECT_LT(absl::Now() - start, absl::Seconds(6));

    // Nothing got through: a client the cluster trusts finds no key.
    absl::StatusOr<std::unique_ptr<EtcdKv>> trusted = Create(ClientTls());
    ASSERT_TRUE(trusted.ok()) << trusted.status();
    absl::StatusOr<KvRead> check = (*trusted)->Get("/authd-test/tls/refused");
    ASSERT_TRUE(check.ok()) << check.status();
    EXPECT_FALSE(check->entry.has_value());
  }
};

TEST_F(EtcdKvTlsTest, ACertificateTheClusterTrustsReadsAndWritesOverHttps) {
  ASSERT_THAT(cluster_->client_url(0), ::testing::StartsWith("https://127.0.0.1:"));
  absl::StatusOr<std::unique_ptr<EtcdKv>> kv = Create(ClientTls());
  ASSERT_TRUE(kv.ok()) << kv.status();
  const std::string key = "/authd-test/tls/providers";
  absl::StatusOr<KvSwap> created = (*kv)->PutIf(key, 0, "over tls");
  ASSERT_TRUE(created.ok()) << created.status() << "\n" << cluster_->Logs();
  EXPECT_TRUE(created->succeeded);
  absl::StatusOr<KvRead> read = (*kv)->Get(key);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->entry.has_value());
  EXPECT_EQ(read->entry->value, "over tls");
  EXPECT_EQ(read->entry->mod_revision, created->revision);
  // Maintenance.Status on the same channel: the member answers, and leads its cluster of one.
  std::vector<KvMember> members = (*kv)->ProbeMembers(absl::Seconds(2));
  ASSERT_EQ(members.size(), 1u);
  EXPECT_TRUE(members[0].reachable) << members[0].problem;
  EXPECT_TRUE(members[0].leader);
}

TEST_F(EtcdKvTlsTest, WithoutAClientCertificateCallsFailInTime) {
  EtcdTls tls;
  tls.ca_file = cluster_->ca_file();
  // Connects lazily: the missing certificate shows at the first call, not here.
  absl::StatusOr<std::unique_ptr<EtcdKv>> kv = Create(tls, absl::Seconds(1));
  ASSERT_TRUE(kv.ok()) << kv.status();
  ExpectRefused(**kv);
}

TEST_F(EtcdKvTlsTest, ACaThatDidNotSignTheMemberIsNotTrusted) {
  TempDir other;
  absl::StatusOr<CertificateFiles> other_ca = testing::MakeTestCa(other.path(), "other-ca");
  ASSERT_TRUE(other_ca.ok()) << other_ca.status();
  EtcdTls tls = ClientTls();
  tls.ca_file = other_ca->cert_file;
  absl::StatusOr<std::unique_ptr<EtcdKv>> kv = Create(tls, absl::Seconds(1));
  ASSERT_TRUE(kv.ok()) << kv.status();
  ExpectRefused(**kv);
}

TEST_F(EtcdKvTlsTest, AKeyFileOthersCanWriteIsRefusedBeforeAnyConnection) {
  // A copy of the client's key, writable by everyone.
  TempDir dir;
  const std::string key = dir.Sub("client.key");
  testing::WriteFileOrDie(key, testing::ReadFileOrDie(cluster_->client_key_file()));
  ASSERT_EQ(chmod(key.c_str(), 0666), 0);
  EtcdTls tls = ClientTls();
  tls.key_file = key;
  absl::StatusOr<std::unique_ptr<EtcdKv>> kv = Create(tls);
  EXPECT_EQ(kv.status().code(), absl::StatusCode::kInvalidArgument) << kv.status();
  EXPECT_THAT(std::string(kv.status().message()), HasSubstr("key_file"));
  EXPECT_THAT(std::string(kv.status().message()), HasSubstr(key));
  EXPECT_THAT(std::string(kv.status().message()), Not(HasSubstr("BEGIN")));

  // The file made private again, in a directory everyone may write (someone could swap it).
  ASSERT_EQ(chmod(key.c_str(), 0600), 0);
  ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
  kv = Create(tls);
  EXPECT_EQ(kv.status().code(), absl::StatusCode::kInvalidArgument) << kv.status();
  EXPECT_THAT(std::string(kv.status().message()), HasSubstr("key_file"));
  EXPECT_THAT(std::string(kv.status().message()), HasSubstr("0777"));
  EXPECT_THAT(std::string(kv.status().message()), Not(HasSubstr("BEGIN")));
  ASSERT_EQ(chmod(dir.path().c_str(), 0700), 0);

  // The same file in a private directory is accepted: the refusals were about modes alone.
  kv = Create(tls);
  EXPECT_TRUE(kv.ok()) << kv.status();
}

}  // namespace
}  // namespace operator_auth
