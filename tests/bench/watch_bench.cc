// authd_watch_bench: what a watched key costs and how fast changes reach watchers.
//  1. Lookup: WatchedApiKey::Get() per call, against two baselines measured in the same run:
//     copying the same key into an ApiKey (the floor of returning a value at all) and the
//     GetApiKey round trip it replaces. One thread, then two threads at once.
//  2. Propagation: 100 watchers of one provider; the time from a SetApiKey call until every one
//     of them holds the new key, against the SetApiKey call alone.
//  3. Refresh propagation: 100 watchers of an OAuth provider; an expired token is written to
//     providers.json (an external edit) and the daemon refreshes it at the fake provider on
//     127.0.0.1; the time from the write until every watcher holds the new access token.
// Run by hand; not part of the test pass/fail. Exits non-zero when a trial never converges.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "operator_auth/auth_client.h"
#include "operator_auth/watched_api_key.h"
#include "tests/bench/bench_daemon.h"
#include "tests/bench/latency_stats.h"
#include "tests/fake_oauth/fake_oauth_server.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

struct Flags {
  int watchers = 100;
  int trials = 20;
  int rounds = 7;
  int lookups_per_round = 1000000;
  int rpc_calls = 2000;
};

double NsSince(Clock::time_point start) {
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
}

// Nanoseconds per call of `fn`, median over rounds, on `threads` threads at once.
template <typename Fn>
double NsPerCall(int rounds, int calls, int threads, Fn fn) {
  std::vector<double> per_round;
  for (int r = 0; r < rounds; ++r) {
    std::atomic<int> ready{0};
    std::vector<double> thread_ns(static_cast<size_t>(threads));
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < threads) {
        }
        const Clock::time_point start = Clock::now();
        for (int i = 0; i < calls; ++i) fn();
        thread_ns[static_cast<size_t>(t)] = NsSince(start) / calls;
      });
    }
    for (std::thread& t : pool) t.join();
    per_round.push_back(Median(thread_ns));
  }
  return Median(per_round);
}

// Waits until every watcher holds `key`; the elapsed time from `start`, or -1 after 10 s.
double UntilAllHold(const std::vector<std::unique_ptr<WatchedApiKey>>& watchers,
                    const std::function<bool(const std::string&)>& wanted,
                    Clock::time_point start) {
  const Clock::time_point deadline = start + std::chrono::seconds(10);
  size_t next = 0;  // watchers before `next` already hold it
  while (Clock::now() < deadline) {
    while (next < watchers.size()) {
      absl::StatusOr<ApiKey> got = watchers[next]->Get();
      if (!got.ok() || !wanted(got->key)) break;
      ++next;
    }
    if (next == watchers.size()) return NsSince(start);
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  return -1;
}

std::vector<std::unique_ptr<WatchedApiKey>> StartWatchers(const std::string& provider, int count,
                                                          const std::string& socket) {
  std::vector<std::unique_ptr<WatchedApiKey>> watchers;
  WatchedApiKeyOptions options;
  options.socket_path = socket;
  options.env_fallback = false;
  for (int i = 0; i < count; ++i) {
    watchers.push_back(std::make_unique<WatchedApiKey>(provider, options));
  }
  for (auto& w : watchers) (void)w->Await(std::chrono::seconds(10));
  return watchers;
}

void PrintDistribution(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[static_cast<size_t>(q * static_cast<double>(ms.size() - 1))];
  };
  std::printf("%-44s median %8.3f  p90 %8.3f  max %8.3f ms  (n=%zu)\n", what, at(0.5), at(0.9),
              ms.back(), ms.size());
}

int Run(const Flags& flags) {
  testing::FakeOAuthServer fake;
  fake.Start();
  BenchDaemon bench_daemon("authd_watch_bench", "", testing::LoopbackOnlyConfig(fake.base_url()));
  if (!bench_daemon.Start()) return 1;
  testing::DaemonProcess& daemon = bench_daemon.process();
  AuthClientOptions client_options;
  client_options.socket_path = daemon.socket_path();
  client_options.env_fallback = false;
  AuthClient client(client_options);
  const std::string key(164, 'k');  // the length of a typical provider key
  if (!client.SetApiKey("openai", key).ok()) return 1;

  // 1. Lookups.
  std::vector<std::unique_ptr<WatchedApiKey>> one =
      StartWatchers("openai", 1, daemon.socket_path());
  WatchedApiKey& watched = *one.front();
  if (!watched.Get().ok()) return 1;
  std::printf("lookup (ns per call, median of %d rounds)\n", flags.rounds);
  for (int threads : {1, 2}) {
    const double get_ns = NsPerCall(flags.rounds, flags.lookups_per_round, threads, [&] {
      absl::StatusOr<ApiKey> k = watched.Get();
      asm volatile("" : : "r"(&k) : "memory");
    });
    const double copy_ns = NsPerCall(flags.rounds, flags.lookups_per_round, threads, [&] {
      ApiKey k;  // the same fields Get() hands out for an API key
      k.key = key;
      k.source = ApiKeySource::kDaemonStored;
      k.label = "providers.json (api_key)";
      k.provider = "openai";
      k.kind = ApiKeyKind::kApiKey;
      asm volatile("" : : "r"(&k) : "memory");
    });
    const double rpc_ns = NsPerCall(flags.rounds, flags.rpc_calls / threads, threads, [&] {
      absl::StatusOr<ApiKey> k = client.GetApiKey("openai");
      asm volatile("" : : "r"(&k) : "memory");
    });
    std::printf(
        "  %d thread(s): WatchedApiKey::Get %7.1f ns | copy baseline %6.1f ns (ratio %.2f) | "
        "GetApiKey RPC %9.0f ns (%.0fx slower than Get)\n",
        threads, get_ns, copy_ns, Ratio(get_ns, copy_ns), rpc_ns, Ratio(rpc_ns, get_ns));
  }

  // 2. SetApiKey -> every watcher.
  int failures = 0;
  std::vector<std::unique_ptr<WatchedApiKey>> watchers =
      StartWatchers("openai", flags.watchers, daemon.socket_path());
  std::vector<double> propagation_ms;
  std::vector<double> set_ms;
  for (int trial = 0; trial < flags.trials; ++trial) {
    const std::string next = absl::StrCat(key.substr(0, 150), "-trial-", trial);
    const Clock::time_point start = Clock::now();
    if (!client.SetApiKey("openai", next).ok()) return 1;
    set_ms.push_back(NsSince(start) / 1e6);
    const double ns = UntilAllHold(
        watchers, [&](const std::string& k) { return k == next; }, start);
    if (ns < 0) {
      ++failures;
      continue;
    }
    propagation_ms.push_back(ns / 1e6);
  }
  std::printf("\npropagation to %d watchers (%d trials)\n", flags.watchers, flags.trials);
  PrintDistribution("  SetApiKey call alone", set_ms);
  if (!propagation_ms.empty()) {
    PrintDistribution("  SetApiKey until all watchers hold the key", propagation_ms);
    std::printf("  ratio of medians (propagation / call alone): %.2f\n",
                Ratio(Median(propagation_ms), Median(set_ms)));
  }

  // 3. Refresh -> every watcher.
  fake.AddRefreshToken("rt-bench-seed");
  auto write_expired = [&](const std::string& refresh) {
    Json file = {{"openai", {{"type", "api_key"}, {"key", "sk-unused"}}},
                 {"openai-codex",
                  {{"type", "oauth"},
                   {"access", "at-stale"},
                   {"refresh", refresh},
                   {"expires", absl::ToUnixMillis(absl::Now() - absl::Minutes(1))}}}};
    const std::string tmp = daemon.providers_path() + ".bench";
    testing::WriteFileOrDie(tmp, file.dump());
    std::rename(tmp.c_str(), daemon.providers_path().c_str());
  };
  write_expired("rt-bench-seed");
  std::vector<std::unique_ptr<WatchedApiKey>> oauth_watchers =
      StartWatchers("openai-codex", flags.watchers, daemon.socket_path());
  std::vector<double> refresh_ms;
  for (int trial = 0; trial < flags.trials; ++trial) {
    absl::StatusOr<ApiKey> before = oauth_watchers.front()->Get();
    const std::string previous = before.ok() ? before->key : "";
    const std::string refresh = absl::StrCat("rt-bench-", trial);
    fake.AddRefreshToken(refresh);
    const Clock::time_point start = Clock::now();
    write_expired(refresh);
    const double ns = UntilAllHold(
        oauth_watchers, [&](const std::string& k) { return k != previous && k != "at-stale"; },
        start);
    if (ns < 0) {
      ++failures;
      continue;
    }
    refresh_ms.push_back(ns / 1e6);
  }
  std::printf("\nrefresh propagation to %d watchers (%d trials, %d refreshes at the fake)\n",
              flags.watchers, flags.trials, fake.GrantCount("refresh_token"));
  if (!refresh_ms.empty()) {
    PrintDistribution("  expired token written until all hold the new", refresh_ms);
  }
  std::printf("\ntrials that did not converge within 10 s: %d\n", failures);
  one.clear();
  watchers.clear();
  oauth_watchers.clear();
  const bool stopped = bench_daemon.Stop();
  return failures == 0 && stopped ? 0 : 1;
}

}  // namespace
}  // namespace operator_auth::bench

int main(int argc, char** argv) {
  operator_auth::bench::Flags flags;
  CLI::App app{"authd_watch_bench: watched-key lookups and change propagation"};
  app.add_option("--watchers", flags.watchers, "watchers per provider")->check(CLI::Range(1, 1000));
  app.add_option("--trials", flags.trials, "propagation trials")->check(CLI::Range(1, 1000));
  app.add_option("--rounds", flags.rounds, "lookup rounds")->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  return operator_auth::bench::Run(flags);
}
