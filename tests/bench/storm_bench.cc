// authd_storm_bench: the refresh storm. 1,000 callers ask the daemon at once for an OAuth token
// that has just expired; the daemon must make exactly one refresh and answer all of them with its
// result. The report compares what each caller waited with the fake token endpoint's own response
// time, measured directly: a p50 near the fake's means the callers waited for one refresh, not a
// queue of them. A second scenario slows the endpoint by 100 ms to make that plain: the callers
// wait about 100 ms, where 1,000 refreshes in turn would take 100 s. A control storm on a token
// that has not expired shows what 1,000 concurrent calls cost with no refresh at all.
//
// Everything stays on this machine: the fake OAuth server runs in-process on 127.0.0.1 and the
// daemon on a temp home and Unix socket. Run by hand; not part of the test pass/fail. Exits
// non-zero when a call fails or answers a wrong key, or a storm on an expired token makes other
// than one refresh (the control: any refresh); the latency ratios are reported, not asserted.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "operator_auth/v1/auth.grpc.pb.h"
#include "tests/bench/bench_daemon.h"
#include "tests/bench/latency_stats.h"
#include "tests/fake_oauth/fake_oauth_server.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

#ifndef AUTHD_DAEMON_PATH
#error "AUTHD_DAEMON_PATH must name the operator-authd binary"
#endif

namespace operator_auth::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr char kProvider[] = "openai-codex";
// What the daemon sends as openai-codex's client_id, so the baseline requests look like its own.
constexpr char kCodexClientId[] = "app_EMoamEEZ73f0CkXaXp7hrann";
constexpr char kTokenPath[] = "/token";
constexpr char kRefreshGrant[] = "refresh_token";
// Bounds every storm: a call that outlives its deadline completes with DEADLINE_EXCEEDED, so
// waiting for all completions never hangs.
constexpr std::chrono::seconds kCallDeadline{30};
constexpr absl::Duration kNoticeTimeout = absl::Seconds(5);
constexpr time_t kHttpTimeoutS = 10;
// A trial whose refresh the daemon's background refresher made before the storm began measured
// nothing; it is run again, at most this many times in all.
constexpr int kMaxAttemptsPerTrial = 3;

struct Flags {
  std::string daemon = AUTHD_DAEMON_PATH;
  int callers = 1000;
  int trials = 10;
  int warmup_trials = 1;
  int baseline_requests = 200;
  int delayed_baseline_requests = 20;
  int delay_ms = 100;
  bool json = false;
  bool verbose = false;
};

struct Scenario {
  std::string name;
  bool expired = true;  // false: the control, a valid token that needs no refresh
  int delay_ms = 0;     // added by the fake to the token request of each trial; 0: none

  int expected_refreshes() const { return expired ? 1 : 0; }
};

// Latencies of one set of requests, in milliseconds.
struct LatencySummary {
  int64_t count = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

struct TrialResult {
  LatencySummary callers;  // each caller from its own start to its own completion
  double wall_ms = 0;      // the first call's start to the last completion
  int refreshes = 0;       // refresh_token grants the fake saw during the trial
  int invalid_grants = 0;  // refresh tokens the fake rejected during the trial
  int64_t failed_calls = 0;
  std::string first_error;
  int attempts = 1;
};

struct ScenarioReport {
  Scenario scenario;
  LatencySummary fake;  // the token endpoint on its own; count 0 for the control
  std::vector<TrialResult> trials;
  LatencySummary median;  // field by field over the measured trials
  double median_wall_ms = 0;
  // Trials, warm-up included, that made other than one refresh (other than none: the control).
  int violations = 0;
  int64_t failed_calls = 0;
  std::string first_error;
  int retried_trials = 0;
};

// Nearest-rank percentiles (the same as authd_bench's), so each figure is a latency that was seen.
LatencySummary SummarizeMs(std::vector<int64_t> latencies_ns) {
  LatencySummary summary;
  if (latencies_ns.empty()) return summary;
  const RoundStats stats = Summarize(latencies_ns, std::chrono::nanoseconds(0));
  summary.count = stats.calls;
  summary.p50_ms = stats.p50_us / 1000.0;
  summary.p99_ms = stats.p99_us / 1000.0;
  summary.max_ms = static_cast<double>(latencies_ns.back()) / 1e6;  // sorted by Summarize
  return summary;
}

int64_t Nanoseconds(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// The fake's own response time: `requests` sequential refresh_token POSTs to its /token, each on
// a new connection as the daemon's libcurl makes them, each with a freshly seeded token. With
// `delay_ms`, every request gets the same injected delay the storm's refresh gets.
absl::StatusOr<LatencySummary> MeasureTokenEndpoint(testing::FakeOAuthServer& fake,
                                                    const std::string& label, int requests,
                                                    int delay_ms) {
  httplib::Client client("127.0.0.1", fake.port());
  client.set_keep_alive(false);
  client.set_connection_timeout(kHttpTimeoutS);
  client.set_read_timeout(kHttpTimeoutS);
  std::vector<int64_t> latencies_ns;
  latencies_ns.reserve(static_cast<size_t>(requests));
  for (int i = 0; i < requests; ++i) {
    const std::string token = absl::StrCat("rt-baseline-", label, "-", i);
    fake.AddRefreshToken(token);
    if (delay_ms > 0) fake.SetFault(kTokenPath, {testing::Fault::kDelay, delay_ms, 1});
    const httplib::Params form = {
        {"grant_type", kRefreshGrant}, {"refresh_token", token}, {"client_id", kCodexClientId}};
    const Clock::time_point start = Clock::now();
    httplib::Result result = client.Post(kTokenPath, form);
    const Clock::time_point end = Clock::now();
    if (!result) {
      return absl::UnavailableError(
          absl::StrCat("POST ", kTokenPath, " failed: ", httplib::to_string(result.error())));
    }
    const Json body = Json::parse(result->body, nullptr, false);
    if (result->status != 200 || !body.is_object() || !body.contains("access_token")) {
      return absl::InternalError(
          absl::StrCat("POST ", kTokenPath, " answered HTTP ", result->status, " without a token"));
    }
    latencies_ns.push_back(Nanoseconds(end - start));
  }
  fake.SetFault(kTokenPath, {});
  return SummarizeMs(std::move(latencies_ns));
}

// Replaces providers.json with one OAuth credential for kProvider, by rename so the daemon never
// reads a half-written file.
absl::Status StoreToken(const testing::DaemonProcess& daemon, const std::string& access,
                        const std::string& refresh, int64_t expires_unix_ms) {
  const Json file = {{kProvider,
                      {{"type", "oauth"},
                       {"access", access},
                       {"refresh", refresh},
                       {"expires", expires_unix_ms}}}};
  const std::string temp = daemon.auth_dir() + "/.providers.json.storm-bench";
  testing::WriteFileOrDie(temp, file.dump());
  std::error_code error;
  std::filesystem::permissions(
      temp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, error);
  if (!error) std::filesystem::rename(temp, daemon.providers_path(), error);
  if (error) return absl::InternalError("cannot store providers.json: " + error.message());
  return absl::OkStatus();
}

absl::StatusOr<v1::AuthStatus> GetAuthStatus(v1::AuthService::Stub& stub) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  v1::GetAuthStatusRequest request;
  request.set_provider(kProvider);
  v1::AuthStatus response;
  grpc::Status status = stub.GetAuthStatus(&context, request, &response);
  if (!status.ok()) {
    return absl::InternalError("GetAuthStatus failed: " + status.error_message());
  }
  return response;
}

// Waits until the daemon reports the credential just written (inotify makes the first look
// enough; the loop only bounds a surprise).
absl::StatusOr<v1::AuthStatus> AwaitNoticed(v1::AuthService::Stub& stub, int64_t expires_unix_ms,
                                            bool expired) {
  const absl::Time deadline = absl::Now() + kNoticeTimeout;
  while (true) {
    absl::StatusOr<v1::AuthStatus> status = GetAuthStatus(stub);
    if (!status.ok()) return status.status();
    if (status->expires_unix_ms() == expires_unix_ms && status->expired() == expired) {
      return status;
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError("the daemon did not notice the new providers.json");
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
}

struct StormCall {
  grpc::ClientContext context;
  v1::GetApiKeyRequest request;
  v1::GetApiKeyResponse response;
  grpc::Status status;
  Clock::time_point start;
  Clock::time_point end;
};

// Starts `callers` GetApiKey calls on one channel as fast as the loop goes and waits for every
// completion. Contexts and requests are made beforehand so the loop does nothing but start calls.
std::vector<std::unique_ptr<StormCall>> Storm(v1::AuthService::Stub& stub, int callers) {
  std::vector<std::unique_ptr<StormCall>> calls;
  calls.reserve(static_cast<size_t>(callers));
  const auto deadline = std::chrono::system_clock::now() + kCallDeadline;
  for (int i = 0; i < callers; ++i) {
    auto call = std::make_unique<StormCall>();
    call->context.set_deadline(deadline);
    call->request.set_provider(kProvider);
    calls.push_back(std::move(call));
  }
  absl::BlockingCounter done(callers);
  for (const std::unique_ptr<StormCall>& call : calls) {
    StormCall* c = call.get();
    c->start = Clock::now();
    stub.async()->GetApiKey(&c->context, &c->request, &c->response,
                            [c, &done](grpc::Status status) {
                              c->end = Clock::now();
                              c->status = std::move(status);
                              done.DecrementCount();
                            });
  }
  done.Wait();
  return calls;
}

// Checks and times one storm: every call OK, from providers.json, with the token stored there at
// the end (the refreshed one, unless this is the control) and never `stale_access`.
void Evaluate(const std::vector<std::unique_ptr<StormCall>>& calls,
              const testing::DaemonProcess& daemon, const std::string& stale_access,
              TrialResult& trial) {
  std::string stored_access;
  const Json file = Json::parse(testing::ReadFileOrDie(daemon.providers_path()), nullptr, false);
  if (file.is_object() && file.contains(kProvider) && file[kProvider].contains("access") &&
      file[kProvider]["access"].is_string()) {
    stored_access = file[kProvider]["access"].get<std::string>();
  }
  auto fail = [&trial](const std::string& why) {
    if (trial.failed_calls++ == 0) trial.first_error = why;
  };
  std::vector<int64_t> latencies_ns;
  latencies_ns.reserve(calls.size());
  Clock::time_point first_start = Clock::time_point::max();
  Clock::time_point last_end = Clock::time_point::min();
  for (const std::unique_ptr<StormCall>& c : calls) {
    first_start = std::min(first_start, c->start);
    last_end = std::max(last_end, c->end);
    latencies_ns.push_back(Nanoseconds(c->end - c->start));
    // Never print a key, even a wrong one.
    if (!c->status.ok()) {
      fail(absl::StrCat("GetApiKey failed: ", c->status.error_code(), " ",
                        c->status.error_message()));
    } else if (c->response.source() != v1::CREDENTIAL_SOURCE_STORED) {
      fail("GetApiKey answered a key that is not the stored one");
    } else if (!stale_access.empty() && c->response.key() == stale_access) {
      fail("GetApiKey answered the expired token");
    } else if (stored_access.empty() || c->response.key() != stored_access) {
      fail("GetApiKey answered a key other than the token now in providers.json");
    }
  }
  trial.callers = SummarizeMs(std::move(latencies_ns));
  trial.wall_ms = static_cast<double>(Nanoseconds(last_end - first_start)) / 1e6;
}

class StormBench {
 public:
  StormBench(const Flags& flags, testing::FakeOAuthServer& fake, testing::DaemonProcess& daemon,
             std::shared_ptr<grpc::Channel> channel)
      : flags_(flags),
        fake_(fake),
        daemon_(daemon),
        stub_(v1::AuthService::NewStub(std::move(channel))) {}

  // One trial: a token whose refresh token only the fake knows (expired, unless this is the
  // control), then the storm on it.
  absl::StatusOr<TrialResult> RunTrial(const Scenario& scenario, int trial) {
    TrialResult result;
    for (result.attempts = 1;; ++result.attempts) {
      const int grants_before = fake_.GrantCount(kRefreshGrant);
      const int invalid_before = fake_.InvalidGrantCount();
      const std::string refresh =
          absl::StrCat("rt-storm-", scenario.name, "-", trial, "-", result.attempts);
      if (scenario.expired) fake_.AddRefreshToken(refresh);
      if (scenario.delay_ms > 0) {
        fake_.SetFault(kTokenPath, {testing::Fault::kDelay, scenario.delay_ms, 1});
      }
      // Expired a minute ago, or (the control) valid for an hour: too far off for the background
      // refresher, which renews within the last few minutes.
      const int64_t expires =
          absl::ToUnixMillis(absl::Now() + (scenario.expired ? -absl::Minutes(1) : absl::Hours(1)));
      const std::string access =
          absl::StrCat(scenario.expired ? "at-stale-" : "at-valid-", refresh);
      if (absl::Status s = StoreToken(daemon_, access, refresh, expires); !s.ok()) return s;
      absl::StatusOr<v1::AuthStatus> before = AwaitNoticed(*stub_, expires, scenario.expired);
      if (!before.ok()) return before.status();

      const int64_t storm_start_unix_ms = absl::ToUnixMillis(absl::Now());
      std::vector<std::unique_ptr<StormCall>> calls = Storm(*stub_, flags_.callers);
      fake_.SetFault(kTokenPath, {});

      result.refreshes = fake_.GrantCount(kRefreshGrant) - grants_before;
      result.invalid_grants = fake_.InvalidGrantCount() - invalid_before;
      result.failed_calls = 0;
      result.first_error.clear();
      Evaluate(calls, daemon_, scenario.expired ? access : "", result);

      absl::StatusOr<v1::AuthStatus> after = GetAuthStatus(*stub_);
      if (!after.ok()) return after.status();
      // The daemon's background refresher renews expired tokens on its own schedule; if it got
      // there between our write and the storm, the callers found a fresh token waiting.
      const bool preempted = before->refresh_state() == "refreshing" ||
                             (after->last_refresh_unix_ms() > 0 &&
                              after->last_refresh_unix_ms() < storm_start_unix_ms);
      if (!scenario.expired || !preempted || result.refreshes != 1 || result.failed_calls > 0 ||
          result.attempts == kMaxAttemptsPerTrial) {
        return result;
      }
    }
  }

  absl::StatusOr<std::vector<ScenarioReport>> Run(const std::vector<Scenario>& scenarios) {
    std::vector<ScenarioReport> reports;
    for (const Scenario& scenario : scenarios) {
      ScenarioReport report;
      report.scenario = scenario;
      if (!scenario.expired) {
        reports.push_back(std::move(report));
        continue;
      }
      std::fprintf(stderr, "timing the fake's /token on its own (%s)...\n", scenario.name.c_str());
      const int requests =
          scenario.delay_ms > 0 ? flags_.delayed_baseline_requests : flags_.baseline_requests;
      absl::StatusOr<LatencySummary> fake =
          MeasureTokenEndpoint(fake_, scenario.name, requests, scenario.delay_ms);
      if (!fake.ok()) return fake.status();
      report.fake = *fake;
      reports.push_back(std::move(report));
    }
    // Trials alternate between the scenarios, so a slow stretch of the machine hits both.
    const int total = flags_.warmup_trials + flags_.trials;
    for (int t = 0; t < total; ++t) {
      const bool warmup = t < flags_.warmup_trials;
      std::fprintf(stderr, "%s %d of %d...\n", warmup ? "warm-up trial" : "trial",
                   warmup ? t + 1 : t - flags_.warmup_trials + 1,
                   warmup ? flags_.warmup_trials : flags_.trials);
      for (size_t k = 0; k < reports.size(); ++k) {
        ScenarioReport& report = reports[t % 2 == 0 ? k : reports.size() - 1 - k];
        absl::StatusOr<TrialResult> trial = RunTrial(report.scenario, t);
        if (!trial.ok()) return trial.status();
        Count(report, *trial);
        if (flags_.verbose) {
          std::fprintf(stderr,
                       "  %-8s p50 %8.3f ms  p99 %8.3f ms  max %8.3f ms  refreshes %d  failed "
                       "%lld%s\n",
                       report.scenario.name.c_str(), trial->callers.p50_ms, trial->callers.p99_ms,
                       trial->callers.max_ms, trial->refreshes,
                       static_cast<long long>(trial->failed_calls), warmup ? "  (warm-up)" : "");
        }
        if (!warmup) report.trials.push_back(*std::move(trial));
      }
    }
    for (ScenarioReport& report : reports) Finish(report);
    return reports;
  }

 private:
  static void Count(ScenarioReport& report, const TrialResult& trial) {
    if (trial.refreshes != report.scenario.expected_refreshes() || trial.invalid_grants != 0) {
      ++report.violations;
    }
    if (trial.failed_calls > 0 && report.first_error.empty()) {
      report.first_error = trial.first_error;
    }
    report.failed_calls += trial.failed_calls;
    if (trial.attempts > 1) ++report.retried_trials;
  }

  static void Finish(ScenarioReport& report) {
    std::vector<double> p50, p99, slowest, wall;
    for (const TrialResult& t : report.trials) {
      p50.push_back(t.callers.p50_ms);
      p99.push_back(t.callers.p99_ms);
      slowest.push_back(t.callers.max_ms);
      wall.push_back(t.wall_ms);
    }
    report.median.count = report.trials.empty() ? 0 : report.trials.front().callers.count;
    report.median.p50_ms = Median(std::move(p50));
    report.median.p99_ms = Median(std::move(p99));
    report.median.max_ms = Median(std::move(slowest));
    report.median_wall_ms = Median(std::move(wall));
  }

  const Flags& flags_;
  testing::FakeOAuthServer& fake_;
  testing::DaemonProcess& daemon_;
  std::unique_ptr<v1::AuthService::Stub> stub_;
};

void PrintTable(const std::vector<ScenarioReport>& reports, const Flags& flags) {
  std::printf(
      "%d concurrent GetApiKey callers per storm on one %s token, %d trials per scenario "
      "(+%d warm-up)\n",
      flags.callers, kProvider, flags.trials, flags.warmup_trials);
  std::printf(
      "valid: the control, a token that needs no refresh; instant: expired, the fake answers at "
      "once; delay%d: expired, the fake's /token waits %d ms\n\n",
      flags.delay_ms, flags.delay_ms);

  std::printf("the fake's /token on its own (sequential refresh POSTs, a new connection each)\n");
  std::printf("%-9s %8s %9s %9s %9s\n", "scenario", "requests", "p50_ms", "p99_ms", "max_ms");
  for (const ScenarioReport& r : reports) {
    if (!r.scenario.expired) continue;
    std::printf("%-9s %8lld %9.3f %9.3f %9.3f\n", r.scenario.name.c_str(),
                static_cast<long long>(r.fake.count), r.fake.p50_ms, r.fake.p99_ms, r.fake.max_ms);
  }

  std::printf("\nper trial (each caller from its own start to its completion)\n");
  std::printf("%-9s %5s %9s %9s %9s %9s %9s %6s %8s\n", "scenario", "trial", "p50_ms", "p99_ms",
              "max_ms", "wall_ms", "refreshes", "failed", "attempts");
  for (const ScenarioReport& r : reports) {
    for (size_t i = 0; i < r.trials.size(); ++i) {
      const TrialResult& t = r.trials[i];
      std::printf("%-9s %5zu %9.3f %9.3f %9.3f %9.3f %9d %6lld %8d\n", r.scenario.name.c_str(),
                  i + 1, t.callers.p50_ms, t.callers.p99_ms, t.callers.max_ms, t.wall_ms,
                  t.refreshes, static_cast<long long>(t.failed_calls), t.attempts);
    }
  }

  std::printf("\nmedians over trials, against the fake's p50\n");
  std::printf("%-9s %11s %11s %9s %9s %9s %13s %13s %10s %6s\n", "scenario", "fake_p50_ms",
              "fake_p99_ms", "p50_ms", "p99_ms", "max_ms", "p50/fake_p50", "p99/fake_p50",
              "violations", "failed");
  const ScenarioReport* control = nullptr;
  for (const ScenarioReport& r : reports) {
    if (!r.scenario.expired) {
      control = &r;
      std::printf("%-9s %11s %11s %9.3f %9.3f %9.3f %13s %13s %10d %6lld\n",
                  r.scenario.name.c_str(), "-", "-", r.median.p50_ms, r.median.p99_ms,
                  r.median.max_ms, "-", "-", r.violations, static_cast<long long>(r.failed_calls));
      continue;
    }
    std::printf("%-9s %11.3f %11.3f %9.3f %9.3f %9.3f %13.2f %13.2f %10d %6lld\n",
                r.scenario.name.c_str(), r.fake.p50_ms, r.fake.p99_ms, r.median.p50_ms,
                r.median.p99_ms, r.median.max_ms, Ratio(r.median.p50_ms, r.fake.p50_ms),
                Ratio(r.median.p99_ms, r.fake.p50_ms), r.violations,
                static_cast<long long>(r.failed_calls));
  }
  std::printf("\n");
  for (const ScenarioReport& r : reports) {
    if (!r.scenario.expired) continue;
    if (control != nullptr) {
      std::printf("%s: p50 %+.3f ms, p99 %+.3f ms over the valid-token control\n",
                  r.scenario.name.c_str(), r.median.p50_ms - control->median.p50_ms,
                  r.median.p99_ms - control->median.p99_ms);
    }
    if (r.scenario.delay_ms > 0) {
      std::printf(
          "%s: the slowest of %d callers waited %.1f ms (median over trials); %d refreshes one "
          "after another would take %.1f s\n",
          r.scenario.name.c_str(), flags.callers, r.median.max_ms, flags.callers,
          flags.callers * r.fake.p50_ms / 1000.0);
    }
  }
  for (const ScenarioReport& r : reports) {
    if (r.retried_trials > 0) {
      std::printf(
          "note: %s: %d trial(s) re-run because the daemon's background refresher renewed the "
          "token before the storm\n",
          r.scenario.name.c_str(), r.retried_trials);
    }
    if (r.violations > 0) {
      std::printf("ERROR: %s: %d trial(s) made other than %d refresh(es)\n",
                  r.scenario.name.c_str(), r.violations, r.scenario.expected_refreshes());
    }
    if (r.failed_calls > 0) {
      std::printf("ERROR: %s: %lld failed calls; first: %s\n", r.scenario.name.c_str(),
                  static_cast<long long>(r.failed_calls), r.first_error.c_str());
    }
  }
}

Json ToJson(const LatencySummary& s) {
  return {{"count", s.count}, {"p50_ms", s.p50_ms}, {"p99_ms", s.p99_ms}, {"max_ms", s.max_ms}};
}

void PrintJson(const std::vector<ScenarioReport>& reports, const Flags& flags) {
  Json scenarios = Json::array();
  for (const ScenarioReport& r : reports) {
    auto ratio = [&r](double storm_ms) {
      return r.scenario.expired ? Json(Ratio(storm_ms, r.fake.p50_ms)) : Json(nullptr);
    };
    Json trials = Json::array();
    for (const TrialResult& t : r.trials) {
      trials.push_back({{"callers", ToJson(t.callers)},
                        {"wall_ms", t.wall_ms},
                        {"refreshes", t.refreshes},
                        {"invalid_grants", t.invalid_grants},
                        {"failed_calls", t.failed_calls},
                        {"attempts", t.attempts}});
    }
    scenarios.push_back({{"name", r.scenario.name},
                         {"expired", r.scenario.expired},
                         {"token_delay_ms", r.scenario.delay_ms},
                         {"expected_refreshes", r.scenario.expected_refreshes()},
                         {"fake", r.scenario.expired ? ToJson(r.fake) : Json(nullptr)},
                         {"trials", trials},
                         {"median", ToJson(r.median)},
                         {"median_wall_ms", r.median_wall_ms},
                         {"p50_over_fake_p50", ratio(r.median.p50_ms)},
                         {"p99_over_fake_p50", ratio(r.median.p99_ms)},
                         {"violations", r.violations},
                         {"failed_calls", r.failed_calls},
                         {"retried_trials", r.retried_trials}});
  }
  const Json out = {{"callers", flags.callers},
                    {"trials", flags.trials},
                    {"warmup_trials", flags.warmup_trials},
                    {"provider", kProvider},
                    {"scenarios", scenarios}};
  std::printf("%s\n", out.dump(2).c_str());
}

int Run(const Flags& flags) {
  testing::FakeOAuthServer fake;
  try {
    fake.Start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "authd_storm_bench: %s\n", e.what());
    return 1;
  }
  BenchDaemon daemon("authd_storm_bench", flags.daemon,
                     testing::LoopbackOnlyConfig(fake.base_url()));
  if (!daemon.Start()) return 1;
  std::shared_ptr<grpc::Channel> channel = daemon.ConnectedChannel();
  if (channel == nullptr) return 1;

  const std::vector<Scenario> scenarios = {
      {.name = "valid", .expired = false},
      {.name = "instant", .expired = true},
      {.name = absl::StrCat("delay", flags.delay_ms), .expired = true, .delay_ms = flags.delay_ms}};
  StormBench bench(flags, fake, daemon.process(), channel);
  absl::StatusOr<std::vector<ScenarioReport>> reports = bench.Run(scenarios);
  if (!reports.ok()) {
    std::fprintf(stderr, "authd_storm_bench: %s\n", reports.status().ToString().c_str());
    return 1;
  }
  if (flags.json) {
    PrintJson(*reports, flags);
  } else {
    PrintTable(*reports, flags);
  }

  int exit_code = 0;
  for (const ScenarioReport& r : *reports) {
    if (r.violations > 0 || r.failed_calls > 0) exit_code = 1;
  }
  if (!daemon.Stop()) exit_code = 1;
  return exit_code;
}

}  // namespace
}  // namespace operator_auth::bench

int main(int argc, char** argv) {
  operator_auth::bench::Flags flags;
  CLI::App app{
      "authd_storm_bench: latency of many concurrent GetApiKey callers on an expired OAuth token "
      "(one refresh for all of them) against the token endpoint's own response time"};
  app.add_option("--daemon", flags.daemon, "the operator-authd binary to start")
      ->capture_default_str();
  app.add_option("--callers", flags.callers, "concurrent GetApiKey calls per storm")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--trials", flags.trials, "measured storms per scenario")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--warmup-trials", flags.warmup_trials,
                 "unmeasured storms per scenario first (still checked)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  app.add_option("--baseline-requests", flags.baseline_requests,
                 "sequential requests timing the fake's /token on its own")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--delayed-baseline-requests", flags.delayed_baseline_requests,
                 "the same, with the delay of the slow scenario")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--delay-ms", flags.delay_ms, "the slow scenario's added /token delay")
      ->capture_default_str()
      ->check(CLI::Range(1, 5000));
  app.add_flag("--json", flags.json, "print the results as JSON instead of a table");
  app.add_flag("--verbose", flags.verbose, "print every trial's figures to stderr");
  CLI11_PARSE(app, argc, argv);
  return operator_auth::bench::Run(flags);
}
