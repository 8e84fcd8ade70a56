// Crash consistency (ARCHITECTURE.md invariants 1, 2 and 6) with the real daemon: it dies by
// SIGKILL, at a failpoint (daemon/core/failpoint.h) or at a random moment, while clients write
// providers.json and channels.json, or while it refreshes an OAuth token. After every death both
// files parse, every write a client saw acknowledged is there, both locks are free, and the
// OAuth credential is still stored (a crash after the endpoint rotated the refresh token but
// before the write costs that token: the provider then needs a login, as invariant 6 says);
// after the next start no temp file is left and the credential serves as the crash left it.
//
// AUTHD_CRASH_TRIALS (default 100) is the number of trials over both tests: four fifths write
// trials, one fifth refresh trials. AUTHD_CRASH_SEED repeats a run's random choices (kill
// delays, crash-at hits); each test prints its seed.
// The long mode, by hand (ctest's 120 s limit per test is too short for it):
//   AUTHD_CRASH_TRIALS=1000 build/tests/authd_integration_tests --gtest_filter='CrashConsistency.*'
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "operator_auth/auth_client.h"
#include "tests/fake_oauth/fake_oauth_server.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

#ifndef AUTHD_FAILPOINTS_BUILT
#error "AUTHD_FAILPOINTS_BUILT must say whether the daemon has failpoints (1) or not (0)"
#endif

namespace operator_auth::testing {
namespace {

using Json = nlohmann::json;
// What one write sets: {"key": ...} for an API key, field -> value for a channel.
using Fields = std::map<std::string, std::string>;

constexpr bool kFailpointsBuilt = AUTHD_FAILPOINTS_BUILT;
constexpr char kRandomKill[] = "random";
constexpr int kDefaultTrials = 100;
// Every loop is bounded: writes per writer per trial, and every wait.
constexpr int kMaxWritesPerWriter = 2000;
constexpr int kMaxCrashAtHit = 6;  // failpoint trials crash at hit 1..6, chosen at random
constexpr absl::Duration kMaxWriteKillDelay = absl::Milliseconds(250);
constexpr absl::Duration kMaxRefreshKillDelay = absl::Milliseconds(150);
constexpr absl::Duration kDeathTimeout = absl::Seconds(20);
constexpr int kTokenDelayMs = 20;  // the fake token endpoint's delay, so kills land mid-refresh
// After the daemon died, a refresh request it sent may still be on its way through the fake.
constexpr absl::Duration kFakeSettle = absl::Milliseconds(150);
constexpr char kCodex[] = "openai-codex";

const std::vector<std::string>& WriteFailpoints() {
  static const auto* const points = new std::vector<std::string>{
      "shared_file.locked",      "atomic_write.temp_created", "atomic_write.partial_write",
      "atomic_write.written",    "atomic_write.synced",       "atomic_write.renamed",
      "atomic_write.dir_synced", "shared_file.replaced"};
  return *points;
}

// What a crash mid-refresh leaves, as the file and the token endpoint tell it.
enum class RefreshOutcome {
  kNewTokens,         // the refreshed tokens are in the file
  kOldTokensUnspent,  // the old ones, and the endpoint never redeemed the old refresh token
  kOldTokensSpent,    // the old ones, but the endpoint rotated it: the single-use hazard
};

const char* Name(RefreshOutcome outcome) {
  switch (outcome) {
    case RefreshOutcome::kNewTokens:
      return "new tokens";
    case RefreshOutcome::kOldTokensUnspent:
      return "old tokens, unspent";
    case RefreshOutcome::kOldTokensSpent:
      return "old tokens, spent";
  }
  return "?";
}

// Each refresh failpoint and what a crash there must leave.
const std::vector<std::pair<std::string, RefreshOutcome>>& RefreshFailpoints() {
  static const auto* const points = new std::vector<std::pair<std::string, RefreshOutcome>>{
      {"refresh.locked", RefreshOutcome::kOldTokensUnspent},
      {"refresh.token_received", RefreshOutcome::kOldTokensSpent},
      {"shared_file.replaced", RefreshOutcome::kNewTokens},
      {"refresh.written", RefreshOutcome::kNewTokens}};
  return *points;
}

int TotalTrials() {
  int trials = kDefaultTrials;
  const char* value = std::getenv("AUTHD_CRASH_TRIALS");
  if (value != nullptr && !absl::SimpleAtoi(value, &trials)) {
    ADD_FAILURE() << "AUTHD_CRASH_TRIALS is not a number: " << value;
  }
  return std::max(trials, 2);
}
int WriteTrials() { return TotalTrials() - TotalTrials() / 5; }
int RefreshTrials() { return std::max(TotalTrials() / 5, 1); }

uint32_t Seed() {
  uint32_t seed = std::random_device{}();
  const char* value = std::getenv("AUTHD_CRASH_SEED");
  if (value != nullptr && !absl::SimpleAtoi(value, &seed)) {
    ADD_FAILURE() << "AUTHD_CRASH_SEED is not a number: " << value;
  }
  return seed;
}

absl::Duration RandomDelay(std::mt19937& rng, absl::Duration max) {
  std::uniform_int_distribution<int64_t> us(0, absl::ToInt64Microseconds(max));
  return absl::Microseconds(us(rng));
}

std::string ArmedAt(const std::string& point, std::mt19937& rng) {
  std::uniform_int_distribution<int> hit(1, kMaxCrashAtHit);
  return absl::StrCat(point, "=crash@", hit(rng));
}

// Names of the temp files an AtomicFile leaves when it dies (".<target>.tmp-XXXXXX").
std::vector<std::string> TempFilesIn(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ignored)) {
    std::string name = entry.path().filename();
    if (absl::StrContains(name, ".tmp-")) found.push_back(name);
  }
  return found;
}

// Whether a py-filelock style flock on `path` can be taken right now.
bool LockIsFree(const std::string& path) {
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno == ENOENT;
  bool free = flock(fd, LOCK_EX | LOCK_NB) == 0;
  if (free) flock(fd, LOCK_UN);
  close(fd);
  return free;
}

// True once the process is gone or a zombie (dead, not yet reaped).
bool HasDied(pid_t pid) {
  std::string stat;
  try {
    stat = ReadFileOrDie(absl::StrCat("/proc/", pid, "/stat"));
  } catch (const std::exception&) {
    return true;
  }
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z' ||
         stat[paren + 2] == 'X';
}

// The file as JSON ({} when missing), or nullopt with `error` set when it does not parse.
std::optional<Json> ParseFile(const std::string& path, std::string* error) {
  if (!PathExists(path)) return Json::object();
  try {
    Json json = Json::parse(ReadFileOrDie(path));
    if (json.is_object()) return json;
    *error = absl::StrCat(path, " is not a JSON object");
  } catch (const std::exception& e) {
    *error = absl::StrCat(path, " does not parse: ", e.what());
  }
  return std::nullopt;
}

AuthClientOptions ClientOptions(const std::string& socket) {
  AuthClientOptions options;
  options.socket_path = socket;
  options.deadline = std::chrono::seconds(5);
  options.env_fallback = false;
  return options;
}

// One key's writes as its only writer saw them. The file must hold the value of the last
// acknowledged write (nullopt: absent), or that of the one write whose answer never came (in
// flight when the daemon died); nothing older, nothing torn.
struct KeyHistory {
  std::optional<Fields> acknowledged;
  std::optional<Fields> unanswered;
};

// A client that owns some keys (no other writer touches them, so its writes to a key are
// ordered) and writes them in turn, one write at a time, until a write fails (the daemon died)
// or it is told to stop.
class Writer {
 public:
  enum class Kind { kApiKey, kChannel };

  // For kApiKey, `keys` maps provider ids to {"key"}; for kChannel, channel names to the fields
  // one write sets together.
  Writer(int id, Kind kind, std::map<std::string, std::vector<std::string>> keys)
      : id_(id), kind_(kind), keys_(std::move(keys)) {
    for (const auto& [key, fields] : keys_) history_[key];
  }

  void Run(const std::string& socket, int trial, const std::atomic<bool>& stop) {
    acknowledged_ = 0;
    AuthClient client(ClientOptions(socket));
    auto key = keys_.begin();
    for (int seq = 0; seq < kMaxWritesPerWriter && !stop.load(); ++seq) {
      Fields value;
      for (const std::string& field : key->second) {
        value[field] = absl::StrCat(SecretPrefix(field), "t", trial, "-w", id_, "-", seq);
      }
      KeyHistory& history = history_[key->first];
      history.unanswered = value;
      absl::Status written = kind_ == Kind::kApiKey
                                 ? client.SetApiKey(key->first, value["key"]).status()
                                 : client.SetChannel(key->first, value).status();
      if (!written.ok()) return;  // leaves the write unanswered: applied or not, both are fine
      history.acknowledged = std::move(value);
      history.unanswered.reset();
      ++acknowledged_;
      if (++key == keys_.end()) key = keys_.begin();
    }
  }

  // Checks every key against the file as the dead daemon left it, then takes the file's values
  // as the new truth (the next daemon starts from them). Returns the violations.
  std::vector<std::string> CheckAgainst(const Json& file, int* acknowledged_checked,
                                        int* unanswered_applied, int* unanswered_total) {
    std::vector<std::string> violations;
    for (auto& [key, history] : history_) {
      std::optional<Fields> stored;
      try {
        stored = Stored(file, key);
      } catch (const std::exception& e) {
        violations.push_back(absl::StrCat(key, ": unexpected JSON shape: ", e.what()));
      }
      if (history.acknowledged.has_value()) ++*acknowledged_checked;
      if (history.unanswered.has_value()) {
        ++*unanswered_total;
        if (stored == history.unanswered) ++*unanswered_applied;
      }
      if (stored != history.acknowledged && stored != history.unanswered) {
        violations.push_back(absl::StrCat(
            key, ": the file holds ", Describe(stored), ", the last acknowledged write was ",
            Describe(history.acknowledged), ", unanswered ", Describe(history.unanswered)));
      }
      history.acknowledged = stored;
      history.unanswered.reset();
    }
    return violations;
  }

  Kind kind() const { return kind_; }
  int acknowledged() const { return acknowledged_; }

 private:
  std::optional<Fields> Stored(const Json& file, const std::string& key) const {
    if (!file.contains(key)) return std::nullopt;
    const Json& entry = file.at(key);
    Fields stored;
    bool any = false;
    for (const std::string& field : keys_.at(key)) {
      std::string value = entry.value(field, "");
      any = any || !value.empty();
      stored[field] = std::move(value);
    }
    if (kind_ == Kind::kApiKey && entry.value("type", "") != "api_key") {
      stored["type"] = entry.value("type", "");
    }
    return any ? std::optional<Fields>(stored) : std::nullopt;
  }

  // The values' prefixes make them secrets for scripts/leak_scan.py, so a daemon log that
  // quoted one would be caught; messages name a write by what follows the prefix.
  static std::string SecretPrefix(const std::string& field) {
    if (field == "key") return "sk-crash-";
    if (field == "app_token") return "xapp-crash-";
    return "xoxb-crash-";
  }

  static std::string Describe(const std::optional<Fields>& fields) {
    if (!fields.has_value()) return "nothing";
    std::string out;
    for (const auto& [name, value] : *fields) {
      absl::string_view shown = value;
      absl::ConsumePrefix(&shown, SecretPrefix(name));
      absl::StrAppend(&out, out.empty() ? "" : " ", name, "=", shown);
    }
    return out;
  }

  const int id_;
  const Kind kind_;
  const std::map<std::string, std::vector<std::string>> keys_;
  std::map<std::string, KeyHistory> history_;
  int acknowledged_ = 0;
};

// What both tests count and print.
struct CrashStats {
  int trials = 0;
  std::map<std::string, int> kills;  // per failpoint, and kRandomKill
  int temp_files_after_crash = 0;
  int trials_with_temp_files = 0;
  int temp_files_after_restart = 0;
  int violations = 0;

  std::string KillsLine() const {
    std::string out;
    for (const auto& [point, n] : kills)
      absl::StrAppend(&out, out.empty() ? "" : " ", point, "=", n);
    return out;
  }
};

// Checks what every death must leave in `auth_dir`: no lock held, the temp files counted.
void CheckAfterDeath(const std::string& auth_dir, CrashStats& stats,
                     std::vector<std::string>& violations) {
  size_t temps = TempFilesIn(auth_dir).size();
  stats.temp_files_after_crash += static_cast<int>(temps);
  if (temps > 0) ++stats.trials_with_temp_files;
  for (const char* lock : {"providers.lock", "channels.lock"}) {
    if (!LockIsFree(absl::StrCat(auth_dir, "/", lock))) {
      violations.push_back(absl::StrCat(lock, " is still held after the daemon died"));
    }
  }
}

// The next daemon sweeps what a crashed writer left, before it serves.
void CheckAfterRestart(const std::string& auth_dir, CrashStats& stats,
                       std::vector<std::string>& violations) {
  std::vector<std::string> temps = TempFilesIn(auth_dir);
  stats.temp_files_after_restart += static_cast<int>(temps.size());
  for (const std::string& name : temps) {
    violations.push_back(absl::StrCat("temp file ", name, " survived the restart"));
  }
}

// One failure per bad trial, with the end of the daemon's log.
void Report(int trial, const std::string& point, const std::vector<std::string>& violations,
            const std::string& log, CrashStats& stats) {
  if (violations.empty()) return;
  stats.violations += static_cast<int>(violations.size());
  constexpr size_t kLogTail = 3000;
  ADD_FAILURE() << "trial " << trial << " (" << point << "):\n  "
                << absl::StrJoin(violations, "\n  ") << "\ndaemon log (end):\n"
                << log.substr(log.size() > kLogTail ? log.size() - kLogTail : 0);
}

TEST(CrashConsistency, AcknowledgedWritesSurviveKillsAtEveryStepAndAtRandom) {
  const uint32_t seed = Seed();
  std::mt19937 rng(seed);
  const int trials = WriteTrials();
  TempDir dir;
  const std::string auth_dir = dir.path() + "/home/auth";
  std::vector<Writer> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back(
        w, Writer::Kind::kApiKey,
        std::map<std::string, std::vector<std::string>>{{absl::StrCat("crash-a", w), {"key"}},
                                                        {absl::StrCat("crash-b", w), {"key"}}});
  }
  writers.emplace_back(3, Writer::Kind::kChannel,
                       std::map<std::string, std::vector<std::string>>{{"telegram", {"bot_token"}},
                                                                       {"discord", {"bot_token"}}});
  writers.emplace_back(4, Writer::Kind::kChannel,
                       std::map<std::string, std::vector<std::string>>{
                           {"slack", {"bot_token", "app_token"}}, {"twitch", {"token"}}});

  CrashStats stats;
  int acknowledged = 0;
  int acknowledged_checked = 0;
  int unanswered_applied = 0;
  int unanswered_total = 0;
  const absl::Time start = absl::Now();
  for (int trial = 0; trial < trials; ++trial) {
    // Half the trials kill at random; the others crash at each failpoint in turn.
    const std::string point = trial % 2 == 0 || !kFailpointsBuilt
                                  ? kRandomKill
                                  : WriteFailpoints()[(trial / 2) % WriteFailpoints().size()];
    DaemonProcess daemon(dir.path());
    if (point != kRandomKill) daemon.SetEnv("AUTHD_FAILPOINTS", ArmedAt(point, rng));
    absl::Status started = daemon.Start();
    ASSERT_TRUE(started.ok()) << "trial " << trial << ": " << started;
    std::vector<std::string> violations;
    CheckAfterRestart(auth_dir, stats, violations);

    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (Writer& writer : writers) {
      threads.emplace_back(
          [&writer, &daemon, trial, &stop] { writer.Run(daemon.socket_path(), trial, stop); });
    }
    if (point == kRandomKill) {
      absl::SleepFor(RandomDelay(rng, kMaxWriteKillDelay));
      daemon.Signal(SIGKILL);
    } else {
      // The writers stop at their first failed write, so they end once the failpoint fires.
      const absl::Time deadline = absl::Now() + kDeathTimeout;
      while (!HasDied(daemon.pid()) && absl::Now() < deadline)
        absl::SleepFor(absl::Milliseconds(2));
    }
    ProcessResult death = daemon.WaitForExit(absl::Seconds(10));
    stop = true;
    for (std::thread& t : threads) t.join();
    ++stats.trials;
    ++stats.kills[point];
    for (const Writer& writer : writers) acknowledged += writer.acknowledged();

    if (death.signal != SIGKILL) {
      violations.push_back(absl::StrCat("the daemon did not die by SIGKILL (exit ", death.exit_code,
                                        ", signal ", death.signal,
                                        death.timed_out ? ", timed out" : "", ")"));
    }
    if (point != kRandomKill &&
        !absl::StrContains(death.err, absl::StrCat("failpoint ", point, ": crashing"))) {
      violations.push_back("the armed failpoint did not fire");
    }
    CheckAfterDeath(auth_dir, stats, violations);
    std::string parse_error;
    std::optional<Json> providers = ParseFile(auth_dir + "/providers.json", &parse_error);
    std::optional<Json> channels = ParseFile(auth_dir + "/channels.json", &parse_error);
    if (!providers.has_value() || !channels.has_value()) {
      violations.push_back(parse_error);
    } else {
      for (Writer& writer : writers) {
        std::vector<std::string> lost =
            writer.CheckAgainst(writer.kind() == Writer::Kind::kApiKey ? *providers : *channels,
                                &acknowledged_checked, &unanswered_applied, &unanswered_total);
        violations.insert(violations.end(), lost.begin(), lost.end());
      }
    }
    Report(trial, point, violations, death.err, stats);
  }

  // The last crash's leftovers are swept by one more start, which then stops cleanly.
  DaemonProcess daemon(dir.path());
  ASSERT_TRUE(daemon.Start().ok());
  std::vector<std::string> violations;
  CheckAfterRestart(auth_dir, stats, violations);
  ProcessResult stopped = daemon.Stop();
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  Report(trials, "final restart", violations, stopped.err, stats);

  // A run that acknowledged nothing, or never killed a write in flight, proved nothing.
  EXPECT_GT(acknowledged_checked, trials);
  EXPECT_GT(unanswered_total, 0);
  std::printf(
      "[crash] writes: %d trials in %.1f s (seed %u, failpoints %s); kills: %s; %d writes "
      "acknowledged, %d acknowledged values checked; %d unanswered writes, %d of them applied; "
      "temp files after crash %d (in %d trials), after restart %d; violations %d\n",
      stats.trials, absl::ToDoubleSeconds(absl::Now() - start), seed,
      kFailpointsBuilt ? "on" : "off", stats.KillsLine().c_str(), acknowledged,
      acknowledged_checked, unanswered_total, unanswered_applied, stats.temp_files_after_crash,
      stats.trials_with_temp_files, stats.temp_files_after_restart, stats.violations);
}

TEST(CrashConsistency, RefreshTokensSurviveKillsAtEveryRefreshStep) {
  const uint32_t seed = Seed();
  std::mt19937 rng(seed);
  const int trials = RefreshTrials();
  TempDir dir;
  const std::string auth_dir = dir.path() + "/home/auth";
  std::filesystem::create_directories(auth_dir);
  std::filesystem::permissions(dir.path() + "/home", std::filesystem::perms::owner_all);
  std::filesystem::permissions(auth_dir, std::filesystem::perms::owner_all);
  const std::string providers_path = auth_dir + "/providers.json";
  FakeOAuthServer fake;
  fake.Start();
  fake.SetFault("/token", {Fault::kDelay, kTokenDelayMs, -1});

  CrashStats stats;
  std::map<std::string, int> outcomes;
  const absl::Time start = absl::Now();
  for (int trial = 0; trial < trials; ++trial) {
    const size_t kinds = RefreshFailpoints().size() + 1;
    const size_t kind = kFailpointsBuilt ? static_cast<size_t>(trial) % kinds : kinds - 1;
    const bool random_kill = kind == kinds - 1;
    const std::string point = random_kill ? kRandomKill : RefreshFailpoints()[kind].first;

    // An expired token the daemon refreshes as soon as it starts, beside an API key that no
    // refresh may disturb.
    const std::string old_refresh = absl::StrCat("rt-crash-", trial);
    const std::string stale_access = absl::StrCat("at-stale-", trial);
    fake.Reset();
    fake.AddRefreshToken(old_refresh);
    WriteFileOrDie(providers_path,
                   Json{{kCodex,
                         {{"type", "oauth"},
                          {"access", stale_access},
                          {"refresh", old_refresh},
                          {"expires", absl::ToUnixMillis(absl::Now() - absl::Seconds(60))}}},
                        {"bystander", {{"type", "api_key"}, {"key", "sk-bystander"}}}}
                       .dump());

    // Launched, not started: the background refresher may crash it before its socket is up.
    DaemonProcess daemon(dir.path());
    daemon.SetConfig(LoopbackOnlyConfig(fake.base_url()));
    if (!random_kill) daemon.SetEnv("AUTHD_FAILPOINTS", absl::StrCat(point, "=crash"));
    daemon.Launch();
    if (random_kill) {
      absl::SleepFor(RandomDelay(rng, kMaxRefreshKillDelay));
      daemon.Signal(SIGKILL);
    } else {
      const absl::Time deadline = absl::Now() + kDeathTimeout;
      while (!HasDied(daemon.pid()) && absl::Now() < deadline)
        absl::SleepFor(absl::Milliseconds(2));
    }
    ProcessResult death = daemon.WaitForExit(absl::Seconds(10));
    absl::SleepFor(kFakeSettle);
    ++stats.trials;
    ++stats.kills[point];

    std::vector<std::string> violations;
    if (death.signal != SIGKILL) {
      violations.push_back(absl::StrCat("the daemon did not die by SIGKILL (exit ", death.exit_code,
                                        ", signal ", death.signal, ")"));
    }
    if (!random_kill &&
        !absl::StrContains(death.err, absl::StrCat("failpoint ", point, ": crashing"))) {
      violations.push_back("the armed failpoint did not fire");
    }
    CheckAfterDeath(auth_dir, stats, violations);
    std::string parse_error;
    std::optional<Json> file = ParseFile(providers_path, &parse_error);
    if (!file.has_value()) {
      violations.push_back(parse_error);
      Report(trial, point, violations, death.err, stats);
      continue;
    }
    if (file->value("bystander", Json::object()).value("key", "") != "sk-bystander") {
      violations.push_back("the bystander API key changed");
    }
    const Json entry = file->value(kCodex, Json::object());
    if (entry.value("type", "") != "oauth" || entry.value("refresh", "").empty() ||
        entry.value("access", "").empty()) {
      violations.push_back(absl::StrCat("the OAuth credential is gone or torn: ", entry.dump()));
      Report(trial, point, violations, death.err, stats);
      continue;
    }
    bool redeemed = false;
    for (const RecordedRequest& request : fake.Requests("/token")) {
      auto rt = request.params.find("refresh_token");
      if (rt != request.params.end() && rt->second == old_refresh) redeemed = true;
    }
    RefreshOutcome outcome = RefreshOutcome::kNewTokens;
    if (entry.value("refresh", "") == old_refresh) {
      if (entry.value("access", "") != stale_access) {
        violations.push_back("a new access token is stored with the old refresh token");
      }
      outcome = redeemed ? RefreshOutcome::kOldTokensSpent : RefreshOutcome::kOldTokensUnspent;
    } else if (!redeemed || entry.value("access", "") == stale_access ||
               entry.value("expires", int64_t{0}) <= absl::ToUnixMillis(absl::Now())) {
      violations.push_back(absl::StrCat("new tokens stored without a refresh, or stale: ",
                                        redeemed ? "redeemed" : "never redeemed"));
    }
    ++outcomes[Name(outcome)];
    if (!random_kill && outcome != RefreshFailpoints()[kind].second) {
      violations.push_back(absl::StrCat("a crash at ", point, " left ", Name(outcome),
                                        ", expected ", Name(RefreshFailpoints()[kind].second)));
    }

    // The next daemon: swept, and serving whatever the crash left as the outcome allows.
    DaemonProcess next(dir.path());
    next.SetConfig(LoopbackOnlyConfig(fake.base_url()));
    absl::Status started = next.Start();
    ASSERT_TRUE(started.ok()) << "trial " << trial << ": " << started;
    CheckAfterRestart(auth_dir, stats, violations);
    AuthClient client(ClientOptions(next.socket_path()));
    absl::StatusOr<ApiKey> key = client.GetApiKey(kCodex);
    if (outcome == RefreshOutcome::kOldTokensSpent) {
      // The endpoint rotated the refresh token and the crash lost the new one: the provider
      // needs a new login, and the credential stays in the file.
      absl::StatusOr<v1::AuthStatus> status = client.GetAuthStatus(kCodex);
      if (key.ok() || !absl::IsUnauthenticated(key.status())) {
        violations.push_back(absl::StrCat("GetApiKey with a spent refresh token: ",
                                          key.ok() ? "a key" : key.status().ToString()));
      }
      if (!status.ok() || !status->needs_login()) {
        violations.push_back("a spent refresh token is not reported as needing a login");
      }
      std::optional<Json> after = ParseFile(providers_path, &parse_error);
      if (!after.has_value() ||
          after->value(kCodex, Json::object()).value("refresh", "") != old_refresh) {
        violations.push_back("the credential with the spent refresh token was not kept");
      }
    } else if (!key.ok()) {
      violations.push_back(absl::StrCat("GetApiKey after a restart: ", key.status().ToString()));
    } else if (outcome == RefreshOutcome::kNewTokens && key->key != entry.value("access", "")) {
      violations.push_back("the restarted daemon did not serve the stored new token");
    } else if (key->key == stale_access) {
      violations.push_back("the restarted daemon served the stale token");
    }
    ProcessResult stopped = next.Stop();
    if (stopped.exit_code != 0) violations.push_back("the restarted daemon did not stop cleanly");
    Report(trial, point, violations, death.err + "\nrestarted:\n" + stopped.err, stats);
  }

  std::string outcome_line;
  for (const auto& [name, n] : outcomes) {
    absl::StrAppend(&outcome_line, outcome_line.empty() ? "" : ", ", name, " ", n);
  }
  std::printf(
      "[crash] refresh: %d trials in %.1f s (seed %u, failpoints %s); kills: %s; outcomes: %s; "
      "temp files after crash %d (in %d trials), after restart %d; violations %d\n",
      stats.trials, absl::ToDoubleSeconds(absl::Now() - start), seed,
      kFailpointsBuilt ? "on" : "off", stats.KillsLine().c_str(), outcome_line.c_str(),
      stats.temp_files_after_crash, stats.trials_with_temp_files, stats.temp_files_after_restart,
      stats.violations);
}

}  // namespace
}  // namespace operator_auth::testing
