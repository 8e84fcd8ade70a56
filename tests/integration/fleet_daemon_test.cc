// Fleet mode end to end (issue #14): N real operator-authd processes, each on its own home and
// socket as on N hosts, sharing one credential set through a real 3-member etcd cluster
// (EtcdCluster) under one fleet key, with the fake OAuth server as every provider's token
// endpoint. What a user of several hosts relies on:
//   - the first daemon brings its providers.json into the fleet and empties it; later ones add
//     only what the fleet lacks;
//   - a storm of callers across daemons reaches the token endpoint once;
//   - a write on one daemon reaches the others;
//   - a daemon killed holding the claim before its call is outlasted (its lease lapses); one
//     killed between the provider's answer and its write loses nothing (the journal);
//   - losing the etcd leader mid-refresh costs no second call; without quorum stored keys are
//     still served and writes are refused;
//   - a claim holder paused past its lease still stores the token it was given (compare-and-swap
//     on the document, not on the claim), and nobody ends up logged out;
//   - a daemon with another key serves and writes nothing, and says so in its status;
//   - a tool that writes the local providers.json after start still gets its credentials into
//     the fleet.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "daemon/fleet/fleet_key.h"
#include "operator_auth/auth_client.h"
#include "tests/fake_oauth/fake_oauth_server.h"
#include "tests/support/child_process.h"
#include "tests/support/daemon_process.h"
#include "tests/support/etcd_cluster_suite.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::testing {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCodex[] = "openai-codex";
constexpr bool kFailpointsBuilt = AUTHD_FAILPOINTS_BUILT;

Json ExpiredCodex(const std::string& access, const std::string& refresh) {
  return Json{{kCodex,
               {{"type", "oauth"},
                {"access", access},
                {"refresh", refresh},
                {"expires", absl::ToUnixMillis(absl::Now() - absl::Minutes(1))}}}};
}

bool IsEmptiedFile(const std::string& path) {
  Json parsed = Json::parse(ReadFileOrDie(path), nullptr, /*allow_exceptions=*/false);
  return parsed.is_object() && parsed.empty();
}

class FleetDaemonTest : public EtcdClusterSuite<FleetDaemonTest> {
 protected:
  void SetUp() override {
    EtcdClusterSuite::SetUp();
    if (HasFatalFailure()) return;
    fake_.Start();
    key_path_ = WriteKey(dir_.Sub("fleet.key"));
  }

  void TearDown() override {
    for (auto& daemon : daemons_) {
      if (daemon->running()) daemon->Stop();
    }
  }

  static std::string WriteKey(const std::string& path) {
    WriteFileOrDie(path, std::string(FleetKey::Generate().Text().view()));
    EXPECT_EQ(chmod(path.c_str(), 0600), 0);
    return path;
  }

  // The fleet of this test: its own keys in the shared cluster.
  static std::string FleetName() {
    std::string name =
        absl::AsciiStrToLower(::testing::UnitTest::GetInstance()->current_test_info()->name());
    return name.substr(0, 60);
  }

  std::string Config(const std::string& key_path) const {
    Json config = Json::parse(LoopbackOnlyConfig(fake_.base_url()));
    config["fleet"] = {{"etcd_endpoints", cluster_->client_urls()},
                       {"name", FleetName()},
                       {"key_file", key_path}};
    return config.dump(2);
  }

  // A daemon of the fleet on a home of its own; `local` (if any) is its providers.json before it
  // starts. Not started.
  DaemonProcess& NewDaemon(const Json& local = Json(), const std::string& key_path = "") {
    roots_.push_back(std::make_unique<TempDir>());
    daemons_.push_back(std::make_unique<DaemonProcess>(roots_.back()->path()));
    DaemonProcess& daemon = *daemons_.back();
    daemon.SetConfig(Config(key_path.empty() ? key_path_ : key_path));
    if (!local.is_null()) {
      EXPECT_EQ(mkdir(daemon.home().c_str(), 0700), 0);
      EXPECT_EQ(mkdir(daemon.auth_dir().c_str(), 0700), 0);
      WriteFileOrDie(daemon.providers_path(), local.dump());
      EXPECT_EQ(chmod(daemon.providers_path().c_str(), 0600), 0);
    }
    return daemon;
  }
  DaemonProcess& StartDaemon(const Json& local = Json(), const std::string& key_path = "") {
    DaemonProcess& daemon = NewDaemon(local, key_path);
    absl::Status started = daemon.Start();
    EXPECT_TRUE(started.ok()) << started << daemon.Log();
    return daemon;
  }

  static std::unique_ptr<AuthClient> ClientOf(const DaemonProcess& daemon,
                                              absl::Duration deadline = absl::Seconds(5)) {
    AuthClientOptions options;
    options.socket_path = daemon.socket_path();
    options.env_fallback = false;
    options.deadline = std::chrono::milliseconds(absl::ToInt64Milliseconds(deadline));
    return std::make_unique<AuthClient>(options);
  }

  static std::string KeyOn(const DaemonProcess& daemon, const std::string& provider) {
    absl::StatusOr<ApiKey> key = ClientOf(daemon)->GetApiKey(provider);
    return key.ok() ? key->key : absl::StrCat("<", key.status().ToString(), ">");
  }

  // Restarts every killed etcd member, so a test that takes the quorum away leaves the cluster
  // whole for the next one, also when it fails half-way.
  struct WholeClusterAfter {
    std::vector<int> killed;
    ~WholeClusterAfter() {
      for (int member : killed) cluster_->Restart(member);
    }
  };

  TempDir dir_;
  FakeOAuthServer fake_;
  std::string key_path_;
  std::vector<std::unique_ptr<TempDir>> roots_;
  std::vector<std::unique_ptr<DaemonProcess>> daemons_;
};

TEST_F(FleetDaemonTest, TheFirstDaemonSeedsTheFleetAndEveryDaemonSeesEveryWrite) {
  DaemonProcess& a = StartDaemon(Json{{"openai", {{"type", "api_key"}, {"key", "sk-fleet-a1"}}},
                                      {"groq", {{"type", "api_key"}, {"key", "sk-fleet-a2"}}}});
  // A's file was brought into the fleet, then emptied (still a valid document, still 0600).
  EXPECT_TRUE(IsEmptiedFile(a.providers_path()));
  EXPECT_EQ(FileMode(a.providers_path()), 0600);
  EXPECT_EQ(KeyOn(a, "openai"), "sk-fleet-a1");

  // B joins with a stale copy of openai and a key the fleet lacks: the fleet's copy wins.
  DaemonProcess& b = StartDaemon(Json{{"openai", {{"type", "api_key"}, {"key", "sk-fleet-old"}}},
                                      {"anthropic", {{"type", "api_key"}, {"key", "sk-fleet-b1"}}}});
  EXPECT_TRUE(IsEmptiedFile(b.providers_path()));
  EXPECT_EQ(KeyOn(b, "openai"), "sk-fleet-a1");
  EXPECT_EQ(KeyOn(b, "groq"), "sk-fleet-a2");
  EXPECT_TRUE(Eventually([&] { return KeyOn(a, "anthropic") == "sk-fleet-b1"; }));

  // A write on one daemon reaches the other through its watch.
  ASSERT_TRUE(ClientOf(b)->SetApiKey("openai", "sk-fleet-b2").ok());
  EXPECT_TRUE(Eventually([&] { return KeyOn(a, "openai") == "sk-fleet-b2"; }));
  ASSERT_TRUE(ClientOf(a)->Logout("groq").ok());
  EXPECT_TRUE(Eventually([&] {
    return ClientOf(b)->GetApiKey("groq").status().code() == absl::StatusCode::kNotFound;
  }));
  // Nothing came back to the local files.
  EXPECT_TRUE(IsEmptiedFile(a.providers_path()));
  EXPECT_TRUE(IsEmptiedFile(b.providers_path()));

  // Status: the fleet, healthy, every member probed, one leader.
  v1::DaemonStatus status;
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<v1::DaemonStatus> s = ClientOf(a)->GetDaemonStatus();
    if (!s.ok()) return false;
    status = *s;
    return status.fleet().members_size() == 3;
  }));
  EXPECT_TRUE(status.healthy()) << status.DebugString();
  EXPECT_EQ(status.storage(), "fleet");
  EXPECT_EQ(status.fleet().name(), FleetName());
  EXPECT_TRUE(status.fleet().healthy());
  EXPECT_GT(status.fleet().revision(), 0);
  int leaders = 0;
  for (const v1::FleetMember& member : status.fleet().members()) {
    EXPECT_TRUE(member.reachable()) << member.endpoint() << ": " << member.problem();
    EXPECT_FALSE(member.version().empty());
    leaders += member.leader() ? 1 : 0;
  }
  EXPECT_EQ(leaders, 1);
  for (const v1::CredentialsFileStatus& file : status.files()) {
    EXPECT_THAT(file.path(), Not(HasSubstr("providers.json"))) << "the fleet replaces the file";
  }
  ProcessResult text = RunProcess({AUTHD_CTL_PATH, "--socket", a.socket_path(), "daemon", "status"});
  EXPECT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_THAT(text.out, HasSubstr(absl::StrCat("fleet       ", FleetName(), " via http://")));
  EXPECT_THAT(text.out, HasSubstr("leader, etcd "));
}

TEST_F(FleetDaemonTest, AStormAcrossThreeDaemonsCallsTheTokenEndpointOnce) {
  constexpr int kCallersPerDaemon = 30;
  fake_.AddRefreshToken("rt-fleet-storm");
  DaemonProcess& a = StartDaemon(ExpiredCodex("at-fleet-storm", "rt-fleet-storm"));
  DaemonProcess& b = StartDaemon();
  DaemonProcess& c = StartDaemon();
  absl::Mutex mu;
  std::set<std::string> seen;
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (DaemonProcess* daemon : {&a, &b, &c}) {
    for (int i = 0; i < kCallersPerDaemon; ++i) {
      callers.emplace_back([&, daemon] {
        absl::StatusOr<ApiKey> key = ClientOf(*daemon, absl::Seconds(20))->GetApiKey(kCodex);
        if (!key.ok()) {
          ++failures;
          return;
        }
        absl::MutexLock lock(&mu);
        seen.insert(key->key);
      });
    }
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(fake_.GrantCount("refresh_token"), 1) << "one call for the whole fleet";
  EXPECT_EQ(fake_.InvalidGrantCount(), 0);
  EXPECT_EQ(seen.size(), 1u) << "every caller on every daemon got the one fresh token";
  EXPECT_EQ(seen.count("at-fleet-storm"), 0u);
  std::printf("fleet storm: 3 daemons x %d callers, %d token-endpoint call(s)\n", kCallersPerDaemon,
              fake_.GrantCount("refresh_token"));
}

// The daemon dies right after the provider answered, before the write (failpoint
// refresh.token_received: SIGKILL). The provider has rotated the refresh token, so without the
// journal the fleet would be left with a spent one and every host logged out.
TEST_F(FleetDaemonTest, ADaemonKilledAfterTheProviderAnsweredLosesNoToken) {
  ASSERT_TRUE(kFailpointsBuilt) << "the test build has crash failpoints (-DAUTHD_FAILPOINTS=ON)";
  fake_.AddRefreshToken("rt-fleet-crash");
  DaemonProcess& a = NewDaemon(ExpiredCodex("at-fleet-crash", "rt-fleet-crash"));
  a.SetEnv("AUTHD_FAILPOINTS", "refresh.token_received=crash");
  // Launched, not Start()ed: the background refresher renews the expired token at once and the
  // daemon dies with the answer, which can be before Start() has seen its socket accept (CI, 1
  // run: "a.Start().ok()" false after 69 ms).
  a.Launch();
  ProcessResult crashed = a.WaitForExit(absl::Seconds(20));
  ASSERT_EQ(crashed.signal, SIGKILL) << a.Log();
  EXPECT_EQ(fake_.GrantCount("refresh_token"), 1);
  EXPECT_FALSE(std::filesystem::is_empty(a.auth_dir() + "/fleet-journal"));
  EXPECT_EQ(FileMode(a.auth_dir() + "/fleet-journal"), 0700);

  // Restarted (systemd's Restart=on-failure): the journal is stored before anything else.
  a.SetEnv("AUTHD_FAILPOINTS", "");
  ASSERT_TRUE(a.Start().ok()) << a.Log();
  EXPECT_THAT(a.Log(), HasSubstr("a refresh left in the journal"));
  DaemonProcess& b = StartDaemon();
  absl::StatusOr<ApiKey> on_b = ClientOf(b)->GetApiKey(kCodex);
  ASSERT_TRUE(on_b.ok()) << on_b.status();
  EXPECT_NE(on_b->key, "at-fleet-crash");
  EXPECT_EQ(KeyOn(a, kCodex), on_b->key);
  EXPECT_EQ(fake_.GrantCount("refresh_token"), 1) << "the answer was stored, not asked again";
  EXPECT_EQ(fake_.InvalidGrantCount(), 0);
  std::error_code error;
  EXPECT_TRUE(std::filesystem::is_empty(a.auth_dir() + "/fleet-journal", error));
}

// The daemon dies holding the claim, before it calls the endpoint (failpoint refresh.locked):
// its lease lapses within the claim's TTL, another daemon takes the claim, and the endpoint is
// called once, by that daemon.
TEST_F(FleetDaemonTest, ADaemonKilledHoldingTheClaimBeforeTheCallIsOutlasted) {
  ASSERT_TRUE(kFailpointsBuilt) << "the test build has crash failpoints (-DAUTHD_FAILPOINTS=ON)";
  fake_.AddRefreshToken("rt-fleet-before");
  DaemonProcess& a = NewDaemon(ExpiredCodex("at-fleet-before", "rt-fleet-before"));
  a.SetEnv("AUTHD_FAILPOINTS", "refresh.locked=crash");
  a.Launch();  // it may die before its socket accepts (see above)
  ProcessResult crashed = a.WaitForExit(absl::Seconds(20));
  ASSERT_EQ(crashed.signal, SIGKILL) << a.Log();
  EXPECT_EQ(fake_.RequestCount("/token"), 0);
  DaemonProcess& b = StartDaemon();
  const absl::Time asked = absl::Now();
  absl::StatusOr<ApiKey> key = ClientOf(b, absl::Seconds(30))->GetApiKey(kCodex);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_NE(key->key, "at-fleet-before");
  EXPECT_LT(absl::Now() - asked, absl::Seconds(15)) << "within the claim's 10 s lease, and a bit";
  EXPECT_EQ(fake_.GrantCount("refresh_token"), 1);
  EXPECT_EQ(fake_.InvalidGrantCount(), 0);
}

// The etcd leader dies while a refresh holds the claim and waits for the provider: the claim's
// lease and the compare-and-swap go on through the new leader, and the endpoint is called once.
TEST_F(FleetDaemonTest, KillingTheEtcdLeaderMidRefreshCostsNoSecondCall) {
  fake_.AddRefreshToken("rt-fleet-leader");
  // A's background refresher renews the expired token as soon as A starts; the endpoint takes
  // 4 s to answer, and the leader is killed meanwhile.
  fake_.SetFault("/token", FaultSpec{Fault::kDelay, 4000, 1});
  DaemonProcess& a = StartDaemon(ExpiredCodex("at-fleet-leader", "rt-fleet-leader"));
  DaemonProcess& b = StartDaemon();
  WholeClusterAfter restore;
  ASSERT_TRUE(Eventually([&] { return fake_.RequestCount("/token") >= 1; }));
  const int leader = cluster_->Leader();
  ASSERT_GE(leader, 0);
  cluster_->Kill(leader);
  restore.killed.push_back(leader);
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (DaemonProcess* daemon : {&a, &b}) {
    for (int i = 0; i < 10; ++i) {
      callers.emplace_back([&, daemon] {
        absl::StatusOr<ApiKey> key = ClientOf(*daemon, absl::Seconds(20))->GetApiKey(kCodex);
        if (!key.ok() || key->key == "at-fleet-leader") ++failures;
      });
    }
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(fake_.GrantCount("refresh_token"), 1);
  EXPECT_EQ(fake_.InvalidGrantCount(), 0);
}

// The claim holder is paused (SIGSTOP) past its lease while the provider answers: the case no
// protocol can fix (fleet_storage.h). Another daemon takes the lapsed claim and spends the same
// refresh token, which the provider refuses. When the holder resumes, its compare-and-swap on the
// unchanged document still stores the rotated token, and every daemon serves it: one refused call,
// nobody logged out.
TEST_F(FleetDaemonTest, AClaimHolderPausedPastItsLeaseStillStoresItsTokenAndNobodyIsLoggedOut) {
  fake_.AddRefreshToken("rt-fleet-pause");
  fake_.SetFault("/token", FaultSpec{Fault::kDelay, 1000, 1});
  DaemonProcess& a = StartDaemon(ExpiredCodex("at-fleet-pause", "rt-fleet-pause"));
  ASSERT_TRUE(Eventually([&] { return fake_.RequestCount("/token") >= 1; }));
  a.Signal(SIGSTOP);
  DaemonProcess& b = StartDaemon();
  // B waits for the claim until A's 10 s lease lapses, then tries the spent refresh token itself.
  absl::StatusOr<ApiKey> during = ClientOf(b, absl::Seconds(30))->GetApiKey(kCodex);
  EXPECT_FALSE(during.ok()) << "B has no usable token while A holds the only answer";
  std::printf("while paused, B answered: %s\n", during.status().ToString().c_str());
  a.Signal(SIGCONT);
  EXPECT_TRUE(Eventually(
      [&] {
        absl::StatusOr<ApiKey> key = ClientOf(b)->GetApiKey(kCodex);
        return key.ok() && key->key != "at-fleet-pause";
      },
      absl::Seconds(30)))
      << b.Log();
  EXPECT_EQ(KeyOn(a, kCodex), KeyOn(b, kCodex));
  for (DaemonProcess* daemon : {&a, &b}) {
    absl::StatusOr<v1::AuthStatus> status = ClientOf(*daemon)->GetAuthStatus(kCodex);
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_FALSE(status->needs_login());
  }
  EXPECT_LE(fake_.InvalidGrantCount(), 1) << "at most B's one attempt with the spent token";
  std::printf("paused holder: %d refresh call(s), %d refused\n", fake_.GrantCount("refresh_token"),
              fake_.InvalidGrantCount());
}

TEST_F(FleetDaemonTest, WithoutQuorumStoredKeysAreServedAndWritesRefusedUntilItReturns) {
  DaemonProcess& a = StartDaemon(Json{{"openai", {{"type", "api_key"}, {"key", "sk-fleet-q1"}}}});
  DaemonProcess& b = StartDaemon();
  ASSERT_TRUE(Eventually([&] { return KeyOn(b, "openai") == "sk-fleet-q1"; }));
  {
    WholeClusterAfter restore;
    for (int member : {0, 1}) {
      cluster_->Kill(member);
      restore.killed.push_back(member);
    }
    EXPECT_EQ(KeyOn(a, "openai"), "sk-fleet-q1");
    EXPECT_EQ(KeyOn(b, "openai"), "sk-fleet-q1");
    absl::StatusOr<v1::SetApiKeyResponse> refused =
        ClientOf(a, absl::Seconds(20))->SetApiKey("openai", "sk-fleet-q2");
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(std::string(refused.status().message()), HasSubstr("still served"));
    EXPECT_TRUE(Eventually(
        [&] {
          absl::StatusOr<v1::DaemonStatus> s = ClientOf(b)->GetDaemonStatus();
          return s.ok() && !s->healthy() && !s->fleet().healthy();
        },
        absl::Seconds(20)));
  }
  EXPECT_TRUE(Eventually(
      [&] { return ClientOf(a, absl::Seconds(10))->SetApiKey("openai", "sk-fleet-q3").ok(); },
      absl::Seconds(30)));
  EXPECT_TRUE(Eventually([&] { return KeyOn(b, "openai") == "sk-fleet-q3"; }, absl::Seconds(20)));
  EXPECT_TRUE(Eventually(
      [&] {
        absl::StatusOr<v1::DaemonStatus> s = ClientOf(b)->GetDaemonStatus();
        return s.ok() && s->healthy();
      },
      absl::Seconds(20)));
}

TEST_F(FleetDaemonTest, ADaemonWithAnotherKeyServesNothingWritesNothingAndSaysSo) {
  DaemonProcess& a = StartDaemon(Json{{"openai", {{"type", "api_key"}, {"key", "sk-fleet-k1"}}}});
  const std::string other_key = WriteKey(dir_.Sub("other.key"));
  // C's own file is kept as it is: it cannot be brought into a fleet it cannot open.
  const Json c_local = Json{{"groq", {{"type", "api_key"}, {"key", "sk-fleet-k2"}}}};
  DaemonProcess& c = StartDaemon(c_local, other_key);
  EXPECT_EQ(Json::parse(ReadFileOrDie(c.providers_path())), c_local);
  EXPECT_EQ(ClientOf(c)->GetApiKey("openai").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<v1::SetApiKeyResponse> write = ClientOf(c)->SetApiKey("openai", "sk-fleet-k3");
  EXPECT_EQ(write.status().code(), absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<v1::DaemonStatus> status = ClientOf(c)->GetDaemonStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->healthy());
  EXPECT_FALSE(status->fleet().healthy());
  EXPECT_THAT(status->fleet().problem(), HasSubstr("does not open with this daemon's fleet key"));
  EXPECT_NE(status->fleet().key_fingerprint(), "");
  ProcessResult text = RunProcess({AUTHD_CTL_PATH, "--socket", c.socket_path(), "daemon", "status"});
  EXPECT_NE(text.exit_code, 0);
  EXPECT_THAT(text.out, HasSubstr("UNHEALTHY"));
  EXPECT_EQ(KeyOn(a, "openai"), "sk-fleet-k1") << "the fleet was not written";
  EXPECT_THAT(c.Log(), Not(HasSubstr("sk-fleet-k1")));
}

// An older tool that still writes providers.json itself (the py-filelock writer follows their
// protocol) after the daemon started: its credentials reach the fleet and the other hosts, the
// file is emptied again, a stale copy does not replace the fleet's, and a file that does not load
// is kept and shown in status until it is fixed (daemon/fleet/fleet_local_import.h).
TEST_F(FleetDaemonTest, ALocalFileWrittenAfterStartIsBroughtIntoTheFleet) {
  DaemonProcess& a = StartDaemon(Json{{"openai", {{"type", "api_key"}, {"key", "sk-fleet-l1"}}}});
  DaemonProcess& b = StartDaemon();
  auto py_set = [&](const std::string& provider, const std::string& key) {
    ProcessOptions options;
    options.stdin_data = key;
    ProcessResult wrote =
        RunProcess({AUTHD_PYTHON3, AUTHD_PY_WRITER, a.auth_dir(), "set", provider}, options);
    EXPECT_EQ(wrote.exit_code, 0) << wrote.err;
  };
  auto problems = [&] {
    absl::StatusOr<v1::DaemonStatus> s = ClientOf(a)->GetDaemonStatus();
    return s.ok() ? absl::StrJoin(s->problems(), "; ") : s.status().ToString();
  };
  py_set("groq", "sk-fleet-l2");
  EXPECT_TRUE(Eventually([&] { return KeyOn(b, "groq") == "sk-fleet-l2"; }));
  EXPECT_TRUE(Eventually([&] { return IsEmptiedFile(a.providers_path()); }));
  EXPECT_EQ(KeyOn(a, "groq"), "sk-fleet-l2");

  py_set("openai", "sk-fleet-stale");
  EXPECT_TRUE(Eventually([&] { return IsEmptiedFile(a.providers_path()); }));
  EXPECT_EQ(KeyOn(a, "openai"), "sk-fleet-l1") << "the fleet's copy is kept";
  EXPECT_EQ(KeyOn(b, "openai"), "sk-fleet-l1");

  const std::string broken = R"({"mistral": {"type": "api_key", "key": "sk-fleet-torn)";
  WriteFileOrDie(a.providers_path(), broken);
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains(problems(), "was not brought into fleet");
  })) << problems();
  EXPECT_THAT(problems(), Not(HasSubstr("sk-fleet-torn")));
  EXPECT_TRUE(ReadFileOrDie(a.providers_path()) == broken) << "the file was changed";
  WriteFileOrDie(a.providers_path(), R"({"mistral": {"type": "api_key", "key": "sk-fleet-l3"}})");
  EXPECT_TRUE(Eventually([&] { return KeyOn(b, "mistral") == "sk-fleet-l3"; }));
  EXPECT_TRUE(Eventually([&] { return problems().empty(); })) << problems();
  EXPECT_TRUE(IsEmptiedFile(a.providers_path()));
  EXPECT_THAT(a.Log(), Not(HasSubstr("sk-fleet-l2")));
  EXPECT_THAT(a.Log(), Not(HasSubstr("sk-fleet-torn")));
}

}  // namespace
}  // namespace operator_auth::testing
