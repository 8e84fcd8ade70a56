// authd_soak_bench: load and soak. 64 clients, each on its own connection with one call in
// flight, make 100,000 GetApiKey calls each (6.4 M in all) while a writer stores a new key for
// another provider every 5 ms and a second reader watches channels. The daemon's resident set
// is read from /proc after start-up (idle), after the first ~1 M calls (warm), and after every
// further ~1 M: the report gives the growth per million calls, which must stay under 1 MiB once
// warm. Exits non-zero on any failed call or on growth above that bound; latency is reported.
// Run by hand; not part of the test pass/fail.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <CLI/CLI.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "operator_auth/auth_client.h"
#include "operator_auth/v1/auth.grpc.pb.h"
#include "tests/bench/bench_daemon.h"
#include "tests/bench/closed_loop.h"
#include "tests/bench/latency_stats.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::bench {
namespace {

struct Flags {
  int clients = 64;
  int64_t calls_per_client = 100000;
  int phases = 6;  // the calls are made in this many phases, RSS read after each
  int64_t max_growth_kib_per_million = 1024;
};

int64_t RssKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
      int64_t kib = 0;
      if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &kib)) return kib;
    }
  }
  return -1;
}

UnaryMethod GetApiKey(const std::string& expected) {
  v1::GetApiKeyRequest request;
  request.set_provider("openai");
  return UnaryMethod{.name = "GetApiKey",
                     .path = "/operator_auth.v1.AuthService/GetApiKey",
                     .request = request.SerializeAsString(),
                     .check = [expected](const std::string& bytes) -> std::string {
                       v1::GetApiKeyResponse response;
                       if (!response.ParseFromString(bytes)) return "response does not parse";
                       return response.key() == expected ? "" : "not the stored key";
                     }};
}

int Run(const Flags& flags) {
  BenchDaemon bench_daemon("authd_soak_bench");
  if (!bench_daemon.Start()) return 1;
  testing::DaemonProcess& daemon = bench_daemon.process();
  AuthClientOptions options;
  options.socket_path = daemon.socket_path();
  options.env_fallback = false;
  AuthClient admin(options);
  const std::string key(164, 'k');
  if (!admin.SetApiKey("openai", key).ok()) return 1;
  absl::SleepFor(absl::Seconds(1));
  const int64_t idle_kib = RssKib(daemon.pid());

  std::vector<std::unique_ptr<ClosedLoop>> loops;
  for (int c = 0; c < flags.clients; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", c);  // one connection per client, not a shared subchannel
    loops.push_back(std::make_unique<ClosedLoop>(
        grpc::CreateCustomChannel("unix:" + daemon.socket_path(),
                                  grpc::InsecureChannelCredentials(), args),
        std::chrono::milliseconds(10000)));
  }
  std::atomic<bool> stop{false};
  std::atomic<int64_t> writes{0}, write_errors{0}, side_reads{0}, side_errors{0};
  std::thread writer([&] {
    AuthClient client(options);
    for (int64_t i = 0; !stop.load(); ++i) {
      if (client.SetApiKey("groq", "gsk-soak-" + std::to_string(i)).ok()) {
        ++writes;
      } else {
        ++write_errors;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::thread side_reader([&] {
    AuthClient client(options);
    while (!stop.load()) {
      if (client.ListChannels().ok() && client.GetAuthStatus("groq").ok()) {
        ++side_reads;
      } else {
        ++side_errors;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  const UnaryMethod method = GetApiKey(key);
  const int64_t per_phase = flags.calls_per_client / flags.phases;
  int64_t errors = 0;
  int64_t total_calls = 0;
  std::vector<int64_t> rss_after_phase;
  std::vector<double> p50_us;
  std::string first_error;
  const auto start = std::chrono::steady_clock::now();
  for (int phase = 0; phase < flags.phases; ++phase) {
    std::vector<RoundResult> results(loops.size());
    std::vector<std::thread> threads;
    for (size_t c = 0; c < loops.size(); ++c) {
      threads.emplace_back([&, c] { results[c] = loops[c]->Run(method, 1, {per_phase, {}}); });
    }
    for (std::thread& t : threads) t.join();
    std::vector<int64_t> latencies;
    for (RoundResult& r : results) {
      errors += r.errors;
      total_calls += static_cast<int64_t>(r.latencies_ns.size()) + r.errors;
      if (first_error.empty()) first_error = r.first_error;
      latencies.insert(latencies.end(), r.latencies_ns.begin(), r.latencies_ns.end());
    }
    RoundStats stats = Summarize(latencies, std::chrono::steady_clock::now() - start);
    p50_us.push_back(stats.p50_us);
    rss_after_phase.push_back(RssKib(daemon.pid()));
    std::printf("phase %d: %lld calls so far, RSS %lld KiB, p50 %.1f us, p99 %.1f us\n", phase + 1,
                static_cast<long long>(total_calls), static_cast<long long>(rss_after_phase.back()),
                stats.p50_us, stats.p99_us);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stop = true;
  writer.join();
  side_reader.join();

  // Growth per million calls after the first phase (warm-up: allocator arenas, gRPC pools).
  const double calls_per_phase_m = static_cast<double>(per_phase * flags.clients) / 1e6;
  double worst_kib_per_million = 0;
  for (size_t i = 1; i < rss_after_phase.size(); ++i) {
    worst_kib_per_million = std::max(
        worst_kib_per_million,
        static_cast<double>(rss_after_phase[i] - rss_after_phase[i - 1]) / calls_per_phase_m);
  }
  const double overall_kib_per_million =
      static_cast<double>(rss_after_phase.back() - rss_after_phase.front()) /
      (calls_per_phase_m * static_cast<double>(rss_after_phase.size() - 1));
  std::printf(
      "\nsoak: %d clients x %lld calls = %lld GetApiKey in %.1f s (%.0f calls/s), %lld errors%s\n"
      "      %lld writes (%lld failed), %lld side reads (%lld failed)\n"
      "RSS:  idle %lld KiB, warm (after ~%.2f M calls) %lld KiB, end %lld KiB\n"
      "      growth after warm-up: %.1f KiB per million calls overall, worst phase %.1f KiB/M "
      "(bound %lld)\n",
      flags.clients, static_cast<long long>(per_phase * flags.phases),
      static_cast<long long>(total_calls), seconds, static_cast<double>(total_calls) / seconds,
      static_cast<long long>(errors), first_error.empty() ? "" : (" (" + first_error + ")").c_str(),
      static_cast<long long>(writes.load()), static_cast<long long>(write_errors.load()),
      static_cast<long long>(side_reads.load()), static_cast<long long>(side_errors.load()),
      static_cast<long long>(idle_kib), calls_per_phase_m,
      static_cast<long long>(rss_after_phase.front()),
      static_cast<long long>(rss_after_phase.back()), overall_kib_per_million,
      worst_kib_per_million, static_cast<long long>(flags.max_growth_kib_per_million));
  const bool stopped = bench_daemon.Stop();
  const bool ok =
      errors == 0 && write_errors == 0 && side_errors == 0 &&
      overall_kib_per_million <= static_cast<double>(flags.max_growth_kib_per_million) && stopped;
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace operator_auth::bench

int main(int argc, char** argv) {
  operator_auth::bench::Flags flags;
  CLI::App app{"authd_soak_bench: 64 clients x 100k GetApiKey with writes; RSS growth"};
  app.add_option("--clients", flags.clients)->check(CLI::Range(1, 512));
  app.add_option("--calls-per-client", flags.calls_per_client)->check(CLI::Range(1000, 10000000));
  app.add_option("--phases", flags.phases)->check(CLI::Range(2, 100));
  CLI11_PARSE(app, argc, argv);
  return operator_auth::bench::Run(flags);
}
