// authd_fleet_bench: what fleet mode (issue #14) costs, against file mode measured in the same
// run. A real 3-member etcd cluster of Debian's etcd-server on 127.0.0.1 (EtcdCluster), two or
// three daemons in fleet mode on it, one daemon on a local providers.json.
//  1. Propagation: SetApiKey on daemon A until a WatchedApiKey on daemon B holds the new key
//     (p50/p99), against SetApiKey on the file daemon until a watcher on that same daemon holds it.
//  2. GetApiKey at 1 in flight on a fleet daemon against the file daemon (p50, calls/s): reads are
//     served from memory in both modes, so the ratio should be ~1.
//  3. Storm: an expired OAuth token written into the fleet (as another host's refresh would),
//     then, once every daemon holds it, 3 daemons x N callers at once; token-endpoint calls per storm (must be 1) and the
//     callers' p50/p99 against the endpoint's own answer time (a fixed delay at the fake).
// Medians over rounds: the machine is shared and noisy. Run by hand; not part of pass/fail.
// Exits non-zero when a trial never converges or a storm calls the endpoint more than once.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "daemon/fleet/etcd_kv.h"
#include "daemon/fleet/fleet_key.h"
#include "daemon/fleet/fleet_storage.h"
#include "operator_auth/auth_client.h"
#include "operator_auth/watched_api_key.h"
#include "tests/bench/bench_daemon.h"
#include "tests/bench/latency_stats.h"
#include "tests/fake_oauth/fake_oauth_server.h"
#include "tests/support/daemon_process.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr char kFleetName[] = "bench";
constexpr char kCodex[] = "openai-codex";

struct Flags {
  int rounds = 3;
  int trials = 50;         // propagation trials per round
  int calls = 2000;        // GetApiKey calls per round and mode
  int callers = 100;       // storm callers per daemon
  int endpoint_ms = 200;   // the fake token endpoint's answer time
};

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(q * static_cast<double>(values.size() - 1))];
}

std::unique_ptr<AuthClient> ClientOf(const testing::DaemonProcess& daemon,
                                     std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
  AuthClientOptions options;
  options.socket_path = daemon.socket_path();
  options.env_fallback = false;
  options.deadline = deadline;
  return std::make_unique<AuthClient>(options);
}

// Milliseconds from SetApiKey on `writer` until `watcher` holds the key; -1 after 10 s.
double Propagation(AuthClient& writer, WatchedApiKey& watcher, const std::string& key) {
  const Clock::time_point start = Clock::now();
  if (!writer.SetApiKey("openai", key).ok()) return -1;
  while (MsSince(start) < 10000) {
    absl::StatusOr<ApiKey> held = watcher.Get();
    if (held.ok() && held->key == key) return MsSince(start);
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  return -1;
}

// Per-call latency in ms of `calls` sequential GetApiKey calls on one client.
std::vector<double> GetApiKeyLatencies(AuthClient& client, int calls, double* per_second) {
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(calls));
  const Clock::time_point round = Clock::now();
  for (int i = 0; i < calls; ++i) {
    const Clock::time_point start = Clock::now();
    if (client.GetApiKey("openai").ok()) ms.push_back(MsSince(start));
  }
  *per_second = static_cast<double>(ms.size()) / (MsSince(round) / 1000.0);
  return ms;
}

int Run(const Flags& flags) {
  testing::EtcdCluster cluster(3);
  if (!cluster.ok()) {
    std::fprintf(stderr, "authd_fleet_bench: etcd did not start: %s\n",
                 cluster.status().ToString().c_str());
    return 1;
  }
  testing::FakeOAuthServer fake;
  fake.Start();
  testing::TempDir dir;
  const FleetKey key = FleetKey::Generate();
  const std::string key_path = dir.Sub("fleet.key");
  testing::WriteFileOrDie(key_path, std::string(key.Text().view()));
  chmod(key_path.c_str(), 0600);
  Json fleet_config = Json::parse(testing::LoopbackOnlyConfig(fake.base_url()));
  fleet_config["fleet"] = {
      {"etcd_endpoints", cluster.client_urls()}, {"name", kFleetName}, {"key_file", key_path}};

  std::vector<std::unique_ptr<BenchDaemon>> fleet;
  for (const char* name : {"authd_fleet_bench (A)", "authd_fleet_bench (B)",
                           "authd_fleet_bench (C)"}) {
    fleet.push_back(std::make_unique<BenchDaemon>(name, "", fleet_config.dump()));
    if (!fleet.back()->Start()) return 1;
  }
  BenchDaemon file_daemon("authd_fleet_bench (file)", "",
                          testing::LoopbackOnlyConfig(fake.base_url()));
  if (!file_daemon.Start()) return 1;
  std::unique_ptr<AuthClient> on_a = ClientOf(fleet[0]->process());
  std::unique_ptr<AuthClient> on_file = ClientOf(file_daemon.process());
  if (!on_a->SetApiKey("openai", "sk-fleet-bench-0").ok() ||
      !on_file->SetApiKey("openai", "sk-fleet-bench-0").ok()) {
    std::fprintf(stderr, "authd_fleet_bench: SetApiKey failed\n");
    return 1;
  }

  // 1. Propagation.
  WatchedApiKeyOptions watch_options;
  watch_options.env_fallback = false;
  watch_options.socket_path = fleet[1]->process().socket_path();
  WatchedApiKey on_b("openai", watch_options);
  watch_options.socket_path = file_daemon.process().socket_path();
  WatchedApiKey on_file_watch("openai", watch_options);
  (void)on_b.Await(std::chrono::seconds(10));
  (void)on_file_watch.Await(std::chrono::seconds(10));
  std::vector<double> fleet_p50, fleet_p99, file_p50, file_p99;
  int serial = 0;
  for (int round = 0; round < flags.rounds; ++round) {
    std::vector<double> fleet_ms, file_ms;
    for (int t = 0; t < flags.trials; ++t) {
      const std::string value = absl::StrCat("sk-fleet-bench-", ++serial);
      const double fleet_one = Propagation(*on_a, on_b, value);
      const double file_one = Propagation(*on_file, on_file_watch, value);
      if (fleet_one < 0 || file_one < 0) {
        std::fprintf(stderr, "authd_fleet_bench: a change never reached its watcher\n");
        return 1;
      }
      fleet_ms.push_back(fleet_one);
      file_ms.push_back(file_one);
    }
    fleet_p50.push_back(Percentile(fleet_ms, 0.5));
    fleet_p99.push_back(Percentile(fleet_ms, 0.99));
    file_p50.push_back(Percentile(file_ms, 0.5));
    file_p99.push_back(Percentile(file_ms, 0.99));
  }
  std::printf("1. SetApiKey -> a watcher holds it (ms; medians of %d rounds x %d trials)\n",
              flags.rounds, flags.trials);
  std::printf("   fleet, A -> watcher on B   p50 %7.3f  p99 %7.3f\n", Median(fleet_p50),
              Median(fleet_p99));
  std::printf("   file, same daemon          p50 %7.3f  p99 %7.3f\n", Median(file_p50),
              Median(file_p99));
  std::printf("   ratio fleet/file           p50 %7.2fx p99 %7.2fx\n",
              Ratio(Median(fleet_p50), Median(file_p50)), Ratio(Median(fleet_p99), Median(file_p99)));

  // 2. GetApiKey at 1 in flight.
  std::vector<double> fleet_get_p50, fleet_rate, file_get_p50, file_rate;
  for (int round = 0; round < flags.rounds; ++round) {
    double rate = 0;
    fleet_get_p50.push_back(Percentile(GetApiKeyLatencies(*on_a, flags.calls, &rate), 0.5));
    fleet_rate.push_back(rate);
    file_get_p50.push_back(Percentile(GetApiKeyLatencies(*on_file, flags.calls, &rate), 0.5));
    file_rate.push_back(rate);
  }
  std::printf("2. GetApiKey, 1 in flight (medians of %d rounds x %d calls)\n", flags.rounds,
              flags.calls);
  std::printf("   fleet  p50 %7.1f us  %8.0f calls/s\n", Median(fleet_get_p50) * 1000,
              Median(fleet_rate));
  std::printf("   file   p50 %7.1f us  %8.0f calls/s\n", Median(file_get_p50) * 1000,
              Median(file_rate));
  std::printf("   ratio fleet/file  p50 %5.2fx  throughput %5.2fx\n",
              Ratio(Median(fleet_get_p50), Median(file_get_p50)),
              Ratio(Median(fleet_rate), Median(file_rate)));

  // 3. Storms. The expired token is written straight into the fleet, as another host's daemon
  // would write one; every daemon's watch delivers it while the callers start.
  EtcdKvOptions kv_options;
  kv_options.endpoints = cluster.client_urls();
  absl::StatusOr<std::unique_ptr<EtcdKv>> kv = EtcdKv::Create(kv_options);
  if (!kv.ok()) return 1;
  FleetStorageOptions storage_options;
  storage_options.name = kFleetName;
  storage_options.holder = "authd_fleet_bench";
  std::unique_ptr<FleetStorage> writer =
      FleetStorage::Open(std::shared_ptr<FleetKv>(*std::move(kv)), key, storage_options);
  fake.SetFault("/token", testing::FaultSpec{testing::Fault::kDelay, flags.endpoint_ms, -1});
  std::vector<double> storm_p50, storm_p99;
  absl::Mutex failure_mu;
  std::string first_failure;
  int worst_calls = 0;
  int failures = 0;
  for (int round = 0; round < flags.rounds; ++round) {
    const std::string refresh = absl::StrCat("rt-fleet-bench-", round);
    fake.AddRefreshToken(refresh);
    const int grants_before = fake.GrantCount("refresh_token");
    absl::Status seeded = writer->Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
      document.Put(kCodex, Credential::OAuth(absl::StrCat("at-fleet-bench-", round), refresh,
                                             absl::ToUnixMillis(absl::Now() - absl::Minutes(1))));
      return true;
    });
    if (!seeded.ok()) return 1;
    // The storm starts once every daemon holds the expired token (its watch delivered the
    // revision): a caller that came earlier would be served the previous token, or nothing.
    const int64_t revision = writer->Status().revision;
    for (const auto& daemon : fleet) {
      const Clock::time_point waiting = Clock::now();
      while (true) {
        absl::StatusOr<v1::DaemonStatus> status = ClientOf(daemon->process())->GetDaemonStatus();
        if (status.ok() && status->fleet().revision() >= revision) break;
        if (MsSince(waiting) > 10000) {
          std::fprintf(stderr, "authd_fleet_bench: a daemon never saw revision %lld\n",
                       static_cast<long long>(revision));
          return 1;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
    std::vector<double> ms(fleet.size() * static_cast<size_t>(flags.callers), -1);
    std::vector<std::thread> callers;
    const Clock::time_point start = Clock::now();
    for (size_t d = 0; d < fleet.size(); ++d) {
      for (int c = 0; c < flags.callers; ++c) {
        callers.emplace_back([&, d, c] {
          std::unique_ptr<AuthClient> client =
              ClientOf(fleet[d]->process(), std::chrono::seconds(30));
          absl::StatusOr<ApiKey> got = client->GetApiKey(kCodex);
          if (got.ok() && got->key != absl::StrCat("at-fleet-bench-", round)) {
            ms[d * static_cast<size_t>(flags.callers) + static_cast<size_t>(c)] = MsSince(start);
          } else {
            absl::MutexLock lock(&failure_mu);
            if (first_failure.empty()) {
              first_failure = got.ok() ? "the expired token was served"
                                       : got.status().ToString();  // never holds a secret
            }
          }
        });
      }
    }
    for (std::thread& t : callers) t.join();
    std::vector<double> ok;
    for (double one : ms) {
      if (one >= 0) ok.push_back(one);
    }
    failures += static_cast<int>(ms.size() - ok.size());
    worst_calls = std::max(worst_calls, fake.GrantCount("refresh_token") - grants_before);
    storm_p50.push_back(Percentile(ok, 0.5));
    storm_p99.push_back(Percentile(ok, 0.99));
  }
  std::printf(
      "3. storm: %zu daemons x %d callers on a token expired in the fleet, endpoint answers in "
      "%d ms (medians of %d rounds)\n",
      fleet.size(), flags.callers, flags.endpoint_ms, flags.rounds);
  std::printf("   token-endpoint calls per storm: at most %d; failed callers: %d%s%s\n",
              worst_calls, failures, first_failure.empty() ? "" : "; the first: ",
              first_failure.c_str());
  std::printf("   callers  p50 %7.1f ms  p99 %7.1f ms  (p99 / endpoint time %5.2fx)\n",
              Median(storm_p50), Median(storm_p99),
              Ratio(Median(storm_p99), static_cast<double>(flags.endpoint_ms)));
  for (auto& daemon : fleet) daemon->Stop();
  file_daemon.Stop();
  return worst_calls == 1 && failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace operator_auth::bench

int main(int argc, char** argv) {
  operator_auth::bench::Flags flags;
  CLI::App app{"authd_fleet_bench: fleet mode (etcd) against file mode"};
  app.add_option("--rounds", flags.rounds, "rounds per figure")->check(CLI::Range(1, 100));
  app.add_option("--trials", flags.trials, "propagation trials per round")
      ->check(CLI::Range(1, 10000));
  app.add_option("--calls", flags.calls, "GetApiKey calls per round")->check(CLI::Range(1, 1000000));
  app.add_option("--callers", flags.callers, "storm callers per daemon")->check(CLI::Range(1, 1000));
  app.add_option("--endpoint-ms", flags.endpoint_ms, "the fake token endpoint's answer time")
      ->check(CLI::Range(0, 10000));
  CLI11_PARSE(app, argc, argv);
  return operator_auth::bench::Run(flags);
}
