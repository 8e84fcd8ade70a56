// authd_bench: measures GetApiKey against the cheapest RPC the same daemon serves, the gRPC
// health Check (an empty call on the same server and socket), so the report shows what the
// credential lookup adds on top of gRPC itself. Both run at 1 and 16 outstanding calls through
// the same client path; rounds alternate between the two so machine noise hits both alike.
// It also reports the daemon's idle resident memory against a bare gRPC callback server linked
// with the same libraries (authd_bare_server), each started fresh per round.
// The audit trail's cost, in the same run: GetApiKey on that daemon (auditing on, the default)
// against a second daemon with "audit": {"enabled": false}, rounds alternating; and
// AuditLog::Record itself in this process (ns per record, 1 and 2 recording threads, the writer
// thread running), since the hot path's cost is the Record call.
// Run by hand; not part of the test pass/fail. Exits non-zero only when a call fails or the
// daemon misbehaves: the ratio goals are reported, not asserted.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "daemon/core/audit_log.h"
#include "operator_auth/v1/auth.grpc.pb.h"
#include "tests/bench/bench_daemon.h"
#include "tests/bench/closed_loop.h"
#include "tests/bench/latency_stats.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

#ifndef AUTHD_DAEMON_PATH
#error "AUTHD_DAEMON_PATH must name the operator-authd binary"
#endif
#ifndef AUTHD_BARE_SERVER_PATH
#error "AUTHD_BARE_SERVER_PATH must name the authd_bare_server binary"
#endif

namespace operator_auth::bench {
namespace {

constexpr int kConcurrencies[] = {1, 16};
constexpr char kProvider[] = "openai";
constexpr std::chrono::milliseconds kCallDeadline{10000};
// The goals from issue #16: GetApiKey may cost at most 5% more latency than an empty call
// and lose at most 5% of its throughput; the idle daemon at most 1.5x a bare server's memory.
constexpr double kP50RatioGoal = 1.05;
constexpr double kThroughputRatioGoal = 0.95;
constexpr double kRssRatioGoal = 1.5;
// How long a freshly started server sits idle, after its first calls, before its RSS is read.
constexpr std::chrono::milliseconds kIdleSettle{1000};

struct Flags {
  std::string daemon = AUTHD_DAEMON_PATH;
  std::string bare_server = AUTHD_BARE_SERVER_PATH;
  int rss_rounds = 3;  // 0: no memory figures
  double seconds_per_round = 2.5;
  int64_t calls = 0;  // per round; overrides seconds_per_round when non-zero
  int rounds = 5;
  int64_t warmup_calls = 2000;
  bool json = false;
  bool verbose = false;
  bool audit = true;  // the audit on/off comparison and the Record micro-benchmark
  std::string config;  // authd.json for the measured daemon (e.g. with client rules); "": default
};

// One row of the report: an RPC at one concurrency, over all its rounds.
struct Measurement {
  std::string rpc;
  int outstanding = 0;
  std::vector<RoundStats> rounds;
  RoundStats median;
  int64_t errors = 0;  // warm-up included
  std::string first_error;
};

std::string RandomApiKey() {
  std::random_device random;
  std::string key = "sk-bench-";
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) key.push_back(kHex[random() % 16]);
  return key;
}

// Stores `key` for kProvider so GetApiKey resolves from providers.json: the path that re-checks
// the file's freshness on every request, which is the one worth measuring.
absl::Status StoreApiKey(const std::shared_ptr<grpc::Channel>& channel, const std::string& key) {
  std::unique_ptr<v1::AuthService::Stub> stub = v1::AuthService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  v1::SetApiKeyRequest request;
  request.set_provider(kProvider);
  request.set_key(key);
  v1::SetApiKeyResponse response;
  grpc::Status status = stub->SetApiKey(&context, request, &response);
  if (!status.ok()) {
    return absl::InternalError("SetApiKey failed: " + status.error_message());
  }
  return absl::OkStatus();
}

// grpc.health.v1.Health/Check with an empty HealthCheckRequest (zero bytes: the overall server
// health). The answer, HealthCheckResponse{status: SERVING}, is field 1 as varint 1.
UnaryMethod HealthCheckMethod() {
  return UnaryMethod{
      .name = "health.Check",
      .path = "/grpc.health.v1.Health/Check",
      .request = "",
      .check = [](const std::string& response) -> std::string {
        return response == std::string("\x08\x01", 2) ? "" : "health status is not SERVING";
      }};
}

// GetApiKey for kProvider, checked as cheaply as the health Check is: one typed call first, whose
// answer must carry `expected_key` from providers.json; every measured call must then repeat that
// answer byte for byte. (Parsing each answer on the client cost GetApiKey about 3% of its p50 at 1
// in flight in the same run: client work the floor RPC did not do.)
absl::StatusOr<UnaryMethod> GetApiKeyMethod(const std::shared_ptr<grpc::Channel>& channel,
                                            const std::string& expected_key) {
  v1::GetApiKeyRequest request;
  request.set_provider(kProvider);
  std::unique_ptr<v1::AuthService::Stub> stub = v1::AuthService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  v1::GetApiKeyResponse response;
  grpc::Status status = stub->GetApiKey(&context, request, &response);
  if (!status.ok()) return absl::InternalError("GetApiKey failed: " + status.error_message());
  if (response.source() != v1::CREDENTIAL_SOURCE_STORED) {
    return absl::InternalError("GetApiKey: source is not STORED");
  }
  // Never print the key, even a wrong one.
  if (response.key() != expected_key) {
    return absl::InternalError("GetApiKey: the key is not the one stored");
  }
  auto check = [expected = response.SerializeAsString()](const std::string& bytes) -> std::string {
    return bytes == expected ? "" : "the answer differs from the first one checked";
  };
  return UnaryMethod{.name = "GetApiKey",
                     .path = "/operator_auth.v1.AuthService/GetApiKey",
                     .request = request.SerializeAsString(),
                     .check = std::move(check)};
}

void Count(Measurement& m, const RoundResult& result) {
  if (result.errors > 0 && m.first_error.empty()) m.first_error = result.first_error;
  m.errors += result.errors;
}

RoundLimit LimitFrom(const Flags& flags) {
  RoundLimit limit;
  if (flags.calls > 0) {
    limit.calls = flags.calls;
  } else {
    limit.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(flags.seconds_per_round));
  }
  return limit;
}

// Measures both methods at `outstanding`: a warm-up of each, then rounds that alternate the
// order (A B, B A, A B, ...) so neither always runs right after the other's warm caches and a
// slow drift in the machine's load lands on both equally.
std::vector<Measurement> MeasurePair(ClosedLoop& loop, const std::vector<UnaryMethod>& methods,
                                     int outstanding, const Flags& flags) {
  std::vector<Measurement> out(methods.size());
  for (size_t i = 0; i < methods.size(); ++i) {
    out[i].rpc = methods[i].name;
    out[i].outstanding = outstanding;
    if (flags.warmup_calls > 0) {
      Count(out[i], loop.Run(methods[i], outstanding, RoundLimit{.calls = flags.warmup_calls}));
    }
  }
  const RoundLimit limit = LimitFrom(flags);
  for (int round = 0; round < flags.rounds; ++round) {
    for (size_t k = 0; k < methods.size(); ++k) {
      const size_t i = round % 2 == 0 ? k : methods.size() - 1 - k;
      RoundResult result = loop.Run(methods[i], outstanding, limit);
      Count(out[i], result);
      out[i].rounds.push_back(Summarize(result.latencies_ns, result.elapsed));
      if (flags.verbose) {
        const RoundStats& r = out[i].rounds.back();
        std::fprintf(stderr, "  round %d %-13s N=%-2d p50 %7.1f us  p99 %7.1f us  %9.0f calls/s\n",
                     round + 1, methods[i].name.c_str(), outstanding, r.p50_us, r.p99_us,
                     r.calls_per_second);
      }
    }
  }
  for (Measurement& m : out) m.median = MedianOverRounds(m.rounds);
  return out;
}

void PrintTable(const std::vector<Measurement>& rows, const Flags& flags) {
  if (flags.calls > 0) {
    std::printf("%d rounds of %lld calls per row; figures are medians over rounds\n\n",
                flags.rounds, static_cast<long long>(flags.calls));
  } else {
    std::printf("%d rounds of %.1f s per row; figures are medians over rounds\n\n", flags.rounds,
                flags.seconds_per_round);
  }
  std::printf("%-14s %11s %9s %9s %10s %8s\n", "rpc", "outstanding", "p50_us", "p99_us", "calls/s",
              "errors");
  for (const Measurement& m : rows) {
    std::printf("%-14s %11d %9.1f %9.1f %10.0f %8lld\n", m.rpc.c_str(), m.outstanding,
                m.median.p50_us, m.median.p99_us, m.median.calls_per_second,
                static_cast<long long>(m.errors));
  }
  std::printf("\n");
  // Rows come in (Check, GetApiKey) pairs, one pair per concurrency.
  for (size_t i = 0; i + 1 < rows.size(); i += 2) {
    if (rows[i].median.calls == 0 || rows[i + 1].median.calls == 0) {
      std::printf("outstanding %2d: no ratios: a row has no successful calls\n",
                  rows[i].outstanding);
      continue;
    }
    const double p50 = Ratio(rows[i + 1].median.p50_us, rows[i].median.p50_us);
    const double rate = Ratio(rows[i + 1].median.calls_per_second, rows[i].median.calls_per_second);
    std::printf("outstanding %2d: GetApiKey/Check p50 ratio = %.2f (goal <= %.2f) %s\n",
                rows[i].outstanding, p50, kP50RatioGoal, p50 <= kP50RatioGoal ? "met" : "MISSED");
    std::printf("                throughput ratio = %.2f (goal >= %.2f) %s\n", rate,
                kThroughputRatioGoal, rate >= kThroughputRatioGoal ? "met" : "MISSED");
  }
  for (const Measurement& m : rows) {
    if (m.errors > 0) {
      std::printf("ERROR: %s at %d outstanding: %lld failed calls; first: %s\n", m.rpc.c_str(),
                  m.outstanding, static_cast<long long>(m.errors), m.first_error.c_str());
    }
  }
}

// The rows as JSON objects, one per line, comma-separated; `name_key` names the row's label
// ("rpc", or "daemon" in the audit section).
void PrintJsonRows(const std::vector<Measurement>& rows, const char* name_key) {
  for (size_t i = 0; i < rows.size(); ++i) {
    const Measurement& m = rows[i];
    std::printf(
        "  {\"%s\": \"%s\", \"outstanding\": %d, \"p50_us\": %.2f, \"p99_us\": %.2f, "
        "\"calls_per_second\": %.1f, \"errors\": %lld}%s\n",
        name_key, m.rpc.c_str(), m.outstanding, m.median.p50_us, m.median.p99_us,
        m.median.calls_per_second, static_cast<long long>(m.errors),
        i + 1 < rows.size() ? "," : "");
  }
}

void PrintJson(const std::vector<Measurement>& rows, const Flags& flags) {
  std::printf("{\"rounds\": %d, \"seconds_per_round\": %.3f, \"calls_per_round\": %lld,\n",
              flags.rounds, flags.calls > 0 ? 0.0 : flags.seconds_per_round,
              static_cast<long long>(flags.calls));
  std::printf(" \"results\": [\n");
  PrintJsonRows(rows, "rpc");
  std::printf(" ],\n \"ratios\": [\n");
  for (size_t i = 0; i + 1 < rows.size(); i += 2) {
    std::printf(
        "  {\"outstanding\": %d, \"p50_ratio\": %.3f, \"p50_ratio_goal\": %.2f, "
        "\"throughput_ratio\": %.3f, \"throughput_ratio_goal\": %.2f}%s\n",
        rows[i].outstanding, Ratio(rows[i + 1].median.p50_us, rows[i].median.p50_us), kP50RatioGoal,
        Ratio(rows[i + 1].median.calls_per_second, rows[i].median.calls_per_second),
        kThroughputRatioGoal, i + 3 < rows.size() ? "," : "");
  }
  std::printf(" ]");  // Run closes the object, after the idle RSS member
}

// Resident memory of a process, from /proc/<pid>/status, in KiB; all zero when unreadable.
struct Rss {
  int64_t total_kb = 0;  // VmRSS
  int64_t anon_kb = 0;   // RssAnon: heaps, stacks, arenas
  int64_t file_kb = 0;   // RssFile: mapped binaries and libraries
};

Rss ReadRss(pid_t pid) {
  Rss rss;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    long long kb = 0;
    if (std::sscanf(line.c_str(), "VmRSS: %lld", &kb) == 1) rss.total_kb = kb;
    if (std::sscanf(line.c_str(), "RssAnon: %lld", &kb) == 1) rss.anon_kb = kb;
    if (std::sscanf(line.c_str(), "RssFile: %lld", &kb) == 1) rss.file_kb = kb;
  }
  return rss;
}

// Starts `binary` fresh, makes a few health Checks (so both servers hold one connection that has
// served calls), lets it sit idle and reads its RSS. False, with a message, when it misbehaved.
bool IdleRss(const std::string& binary, Rss& out) {
  BenchDaemon server("authd_bench", binary);
  if (!server.Start()) return false;
  std::shared_ptr<grpc::Channel> channel = server.ConnectedChannel();
  if (channel == nullptr) return false;
  ClosedLoop loop(channel, kCallDeadline);
  RoundResult warm = loop.Run(HealthCheckMethod(), 1, RoundLimit{.calls = 100});
  if (warm.errors > 0) {
    std::fprintf(stderr, "authd_bench: health Check on %s failed: %s\n", binary.c_str(),
                 warm.first_error.c_str());
    return false;
  }
  std::this_thread::sleep_for(kIdleSettle);
  out = ReadRss(server.process().pid());
  return server.Stop() && out.total_kb > 0;
}

// The median of each figure over `samples`, taken separately.
Rss MedianRss(const std::vector<Rss>& samples) {
  auto median = [&samples](int64_t Rss::*field) -> int64_t {
    std::vector<int64_t> values;
    for (const Rss& r : samples) values.push_back(r.*field);
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
  };
  return {median(&Rss::total_kb), median(&Rss::anon_kb), median(&Rss::file_kb)};
}

// Idle RSS of the daemon and of the bare server, alternating which starts first; medians.
bool MeasureIdleRss(const Flags& flags, Rss& daemon, Rss& bare) {
  std::vector<Rss> daemons, bares;
  for (int round = 0; round < flags.rss_rounds; ++round) {
    Rss d, b;
    const bool ok = round % 2 == 0 ? IdleRss(flags.bare_server, b) && IdleRss(flags.daemon, d)
                                   : IdleRss(flags.daemon, d) && IdleRss(flags.bare_server, b);
    if (!ok) return false;
    if (flags.verbose) {
      std::fprintf(stderr, "  rss round %d: daemon %lld KiB (anon %lld), bare %lld KiB (anon %lld)\n",
                   round + 1, static_cast<long long>(d.total_kb),
                   static_cast<long long>(d.anon_kb), static_cast<long long>(b.total_kb),
                   static_cast<long long>(b.anon_kb));
    }
    daemons.push_back(d);
    bares.push_back(b);
  }
  daemon = MedianRss(daemons);
  bare = MedianRss(bares);
  return true;
}

void PrintRss(const Flags& flags, const Rss& daemon, const Rss& bare) {
  const double ratio = bare.total_kb > 0 ? static_cast<double>(daemon.total_kb) / bare.total_kb : 0;
  if (flags.json) {
    std::printf(
        ",\n \"idle_rss\": {\"rss_rounds\": %d, \"daemon_rss_kb\": %lld, \"daemon_anon_kb\": %lld, "
        "\"daemon_file_kb\": %lld, \"bare_rss_kb\": %lld, \"bare_anon_kb\": %lld, "
        "\"bare_file_kb\": %lld, \"rss_ratio\": %.3f, \"rss_ratio_goal\": %.2f}",
        flags.rss_rounds, static_cast<long long>(daemon.total_kb),
        static_cast<long long>(daemon.anon_kb), static_cast<long long>(daemon.file_kb),
        static_cast<long long>(bare.total_kb), static_cast<long long>(bare.anon_kb),
        static_cast<long long>(bare.file_kb), ratio, kRssRatioGoal);
    return;
  }
  std::printf("idle RSS, median of %d fresh starts (KiB): total / anon / file\n", flags.rss_rounds);
  std::printf("  operator-authd     %7lld / %7lld / %7lld\n",
              static_cast<long long>(daemon.total_kb), static_cast<long long>(daemon.anon_kb),
              static_cast<long long>(daemon.file_kb));
  std::printf("  bare gRPC server   %7lld / %7lld / %7lld\n", static_cast<long long>(bare.total_kb),
              static_cast<long long>(bare.anon_kb), static_cast<long long>(bare.file_kb));
  std::printf("idle RSS ratio = %.2f (goal <= %.2f) %s\n", ratio, kRssRatioGoal,
              ratio <= kRssRatioGoal ? "met" : "MISSED");
}

// GetApiKey with the audit trail on (`on`) and off (`off`, a second daemon), at `outstanding`:
// warm-ups, then rounds alternating which daemon goes first.
std::vector<Measurement> MeasureAuditPair(ClosedLoop& on, ClosedLoop& off,
                                          const UnaryMethod& method, int outstanding,
                                          const Flags& flags) {
  ClosedLoop* loops[] = {&on, &off};
  std::vector<Measurement> out(2);
  out[0].rpc = "audit on";
  out[1].rpc = "audit off";
  for (size_t i = 0; i < 2; ++i) {
    out[i].outstanding = outstanding;
    if (flags.warmup_calls > 0) {
      Count(out[i], loops[i]->Run(method, outstanding, RoundLimit{.calls = flags.warmup_calls}));
    }
  }
  const RoundLimit limit = LimitFrom(flags);
  for (int round = 0; round < flags.rounds; ++round) {
    for (size_t k = 0; k < 2; ++k) {
      const size_t i = round % 2 == 0 ? k : 1 - k;
      RoundResult result = loops[i]->Run(method, outstanding, limit);
      Count(out[i], result);
      out[i].rounds.push_back(Summarize(result.latencies_ns, result.elapsed));
      if (flags.verbose) {
        const RoundStats& r = out[i].rounds.back();
        std::fprintf(stderr, "  round %d %-9s N=%-2d p50 %7.1f us  p99 %7.1f us  %9.0f calls/s\n",
                     round + 1, out[i].rpc.c_str(), outstanding, r.p50_us, r.p99_us,
                     r.calls_per_second);
      }
    }
  }
  for (Measurement& m : out) m.median = MedianOverRounds(m.rounds);
  return out;
}

// DaemonProcess's default authd.json (no real provider reachable) with the audit trail off.
std::string AuditOffConfig() {
  nlohmann::json config = nlohmann::json::parse(testing::LoopbackOnlyConfig("http://127.0.0.1:9"));
  config["audit"] = {{"enabled", false}};
  return config.dump();
}

// AuditLog::Record's cost on the caller's thread, writer running: each of `threads` threads
// records batches of kRecordBatch records (a record as the service would build it: a shared peer
// identity, the provider, the outcome), timing each batch, then waits for the writer to catch up
// (untimed), so that the queue never fills and nothing is dropped. Median ns per record over all
// batches of all threads.
struct RecordCost {
  double median_ns = 0;
  double p90_ns = 0;
  uint64_t dropped = 0;
  int64_t records = 0;
};

// The writer thread's own cost per record (format the JSON line, write(2) in batches): a full
// queue of records is let go at once and timed until written. Median over `reps`, ns per record.
absl::StatusOr<double> MeasureWriter(int reps) {
  constexpr int kRecords = 8000;
  testing::TempDir dir;
  std::vector<double> samples;
  for (int rep = 0; rep < reps; ++rep) {
    absl::Notification stalled;
    absl::Notification release;
    bool first = true;
    AuditLog::Options options;
    options.max_queued = kRecords + 1;
    options.before_write = [&] {
      if (!first) return;
      first = false;
      stalled.Notify();
      release.WaitForNotification();
    };
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(dir.path(), options);
    if (!log.ok()) return log.status();
    auto peer = std::make_shared<PeerIdentity>();
    peer->pid = 4242;
    peer->uid = 1000;
    peer->exe = "/usr/bin/python3.11";
    peer->unit = "app-agent.scope";
    AuditRecord first_record;
    first_record.time = absl::Now();
    (*log)->Record(std::move(first_record));
    stalled.WaitForNotification();
    for (int i = 0; i < kRecords; ++i) {
      AuditRecord record;
      record.time = absl::Now();
      record.peer = peer;
      record.method = "GetApiKey";
      record.provider = kProvider;
      record.outcome = "ok";
      (*log)->Record(std::move(record));
    }
    const auto start = std::chrono::steady_clock::now();
    release.Notify();
    (*log)->Flush();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    samples.push_back(std::chrono::duration<double, std::nano>(elapsed).count() / kRecords);
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

constexpr int kRecordBatch = 1000;

absl::StatusOr<RecordCost> MeasureRecord(int threads, int batches_per_thread) {
  testing::TempDir dir;
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(dir.path(), {});
  if (!log.ok()) return log.status();
  auto peer = std::make_shared<PeerIdentity>();
  peer->pid = 4242;
  peer->uid = 1000;
  peer->exe = "/usr/bin/python3.11";
  peer->unit = "app-agent.scope";
  PeerIdentityPtr shared_peer = peer;
  std::vector<std::vector<double>> per_thread(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int b = 0; b < batches_per_thread; ++b) {
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < kRecordBatch; ++i) {
          AuditRecord record;
          record.time = absl::Now();
          record.peer = shared_peer;
          record.method = "GetApiKey";
          record.provider = kProvider;
          record.outcome = "ok";
          (*log)->Record(std::move(record));
        }
        const auto elapsed = std::chrono::steady_clock::now() - start;
        per_thread[t].push_back(std::chrono::duration<double, std::nano>(elapsed).count() /
                                kRecordBatch);
        (*log)->Flush();
      }
    });
  }
  for (std::thread& w : workers) w.join();
  std::vector<double> all;
  for (const auto& v : per_thread) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  RecordCost cost;
  cost.median_ns = all[all.size() / 2];
  cost.p90_ns = all[all.size() * 9 / 10];
  cost.dropped = (*log)->dropped();
  cost.records = static_cast<int64_t>(threads) * batches_per_thread * kRecordBatch;
  return cost;
}

// The audit section of the report: GetApiKey audit on vs off per concurrency, then Record.
void PrintAudit(const std::vector<Measurement>& rows, const std::vector<RecordCost>& record_costs,
                double writer_ns, const Flags& flags) {
  auto throughput_ratio = [&rows](size_t i) {
    return Ratio(rows[i].median.calls_per_second, rows[i + 1].median.calls_per_second);
  };
  if (flags.json) {
    std::printf(",\n \"audit\": {\"results\": [\n");
    PrintJsonRows(rows, "daemon");
    std::printf(" ], \"ratios\": [\n");
    for (size_t i = 0; i + 1 < rows.size(); i += 2) {
      std::printf(
          "  {\"outstanding\": %d, \"throughput_ratio\": %.3f, \"throughput_ratio_goal\": "
          "%.2f}%s\n",
          rows[i].outstanding, throughput_ratio(i), kThroughputRatioGoal,
          i + 3 < rows.size() ? "," : "");
    }
    std::printf(" ], \"record\": [\n");
    for (size_t i = 0; i < record_costs.size(); ++i) {
      const RecordCost& c = record_costs[i];
      std::printf(
          "  {\"threads\": %zu, \"median_ns\": %.1f, \"p90_ns\": %.1f, \"records\": %lld, "
          "\"dropped\": %llu}%s\n",
          i + 1, c.median_ns, c.p90_ns, static_cast<long long>(c.records),
          static_cast<unsigned long long>(c.dropped), i + 1 < record_costs.size() ? "," : "");
    }
    std::printf(" ], \"writer_ns_per_record\": %.1f}", writer_ns);
    return;
  }
  std::printf("audit trail: GetApiKey with auditing on vs off (two daemons, rounds alternating)\n");
  std::printf("%-14s %11s %9s %9s %10s %8s\n", "daemon", "outstanding", "p50_us", "p99_us",
              "calls/s", "errors");
  for (const Measurement& m : rows) {
    std::printf("%-14s %11d %9.1f %9.1f %10.0f %8lld\n", m.rpc.c_str(), m.outstanding,
                m.median.p50_us, m.median.p99_us, m.median.calls_per_second,
                static_cast<long long>(m.errors));
  }
  for (size_t i = 0; i + 1 < rows.size(); i += 2) {
    const double rate = throughput_ratio(i);
    std::printf("outstanding %2d: audit on/off throughput ratio = %.2f (goal >= %.2f) %s\n",
                rows[i].outstanding, rate, kThroughputRatioGoal,
                rate >= kThroughputRatioGoal ? "met" : "MISSED");
  }
  for (size_t i = 0; i < record_costs.size(); ++i) {
    const RecordCost& c = record_costs[i];
    std::printf(
        "AuditLog::Record, %zu thread(s), writer running: median %.0f ns/record, p90 %.0f "
        "(%lld records, %llu dropped)\n",
        i + 1, c.median_ns, c.p90_ns, static_cast<long long>(c.records),
        static_cast<unsigned long long>(c.dropped));
  }
  std::printf("AuditLog writer thread: %.0f ns/record (JSON line + batched write)\n", writer_ns);
  std::printf("\n");
}

// Runs the audit comparison against `on` (the main daemon, auditing by default) with
// `get_api_key`, the method already checked on it; the second daemon gets the same `key` and must
// give the same answer. False, with a message, when something failed.
bool RunAudit(const std::shared_ptr<grpc::Channel>& on, const std::string& key,
              const UnaryMethod& get_api_key, const Flags& flags, std::vector<Measurement>& rows,
              std::vector<RecordCost>& record_costs, double& writer_ns) {
  BenchDaemon off_daemon("authd_bench", flags.daemon, AuditOffConfig());
  if (!off_daemon.Start()) return false;
  std::shared_ptr<grpc::Channel> off = off_daemon.ConnectedChannel();
  if (off == nullptr) return false;
  if (absl::Status s = StoreApiKey(off, key); !s.ok()) {
    std::fprintf(stderr, "authd_bench: %s\n", s.ToString().c_str());
    return false;
  }
  ClosedLoop on_loop(on, kCallDeadline);
  ClosedLoop off_loop(off, kCallDeadline);
  for (int outstanding : kConcurrencies) {
    std::fprintf(stderr, "measuring audit on/off at %d outstanding...\n", outstanding);
    for (Measurement& m : MeasureAuditPair(on_loop, off_loop, get_api_key, outstanding, flags)) {
      rows.push_back(std::move(m));
    }
  }
  if (!off_daemon.Stop()) return false;
  std::fprintf(stderr, "measuring AuditLog::Record...\n");
  for (int threads : {1, 2}) {
    absl::StatusOr<RecordCost> cost = MeasureRecord(threads, std::max(20, flags.rounds * 20));
    if (!cost.ok()) {
      std::fprintf(stderr, "authd_bench: audit log: %s\n", cost.status().ToString().c_str());
      return false;
    }
    record_costs.push_back(*cost);
  }
  absl::StatusOr<double> writer = MeasureWriter(std::max(3, flags.rounds));
  if (!writer.ok()) {
    std::fprintf(stderr, "authd_bench: audit log: %s\n", writer.status().ToString().c_str());
    return false;
  }
  writer_ns = *writer;
  return true;
}

int Run(const Flags& flags) {
  Rss daemon_rss, bare_rss;
  if (flags.rss_rounds > 0) {
    std::fprintf(stderr, "measuring idle RSS...\n");
    if (!MeasureIdleRss(flags, daemon_rss, bare_rss)) return 1;
  }
  std::string config;
  if (!flags.config.empty()) {
    std::ifstream in(flags.config);
    config.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "authd_bench: cannot read %s\n", flags.config.c_str());
      return 1;
    }
  }
  BenchDaemon daemon("authd_bench", flags.daemon, config);
  if (!daemon.Start()) return 1;
  std::shared_ptr<grpc::Channel> channel = daemon.ConnectedChannel();
  if (channel == nullptr) return 1;
  const std::string key = RandomApiKey();
  if (absl::Status s = StoreApiKey(channel, key); !s.ok()) {
    std::fprintf(stderr, "authd_bench: %s\n", s.ToString().c_str());
    return 1;
  }

  absl::StatusOr<UnaryMethod> get_api_key = GetApiKeyMethod(channel, key);
  if (!get_api_key.ok()) {
    std::fprintf(stderr, "authd_bench: %s\n", get_api_key.status().ToString().c_str());
    return 1;
  }
  const std::vector<UnaryMethod> methods = {HealthCheckMethod(), *std::move(get_api_key)};
  ClosedLoop loop(channel, kCallDeadline);
  std::vector<Measurement> rows;
  for (int outstanding : kConcurrencies) {
    std::fprintf(stderr, "measuring at %d outstanding...\n", outstanding);
    for (Measurement& m : MeasurePair(loop, methods, outstanding, flags)) {
      rows.push_back(std::move(m));
    }
  }

  std::vector<Measurement> audit_rows;
  std::vector<RecordCost> record_costs;
  double writer_ns = 0;
  if (flags.audit &&
      !RunAudit(channel, key, methods[1], flags, audit_rows, record_costs, writer_ns))
    return 1;

  int64_t errors = 0;
  for (const Measurement& m : rows) errors += m.errors;
  for (const Measurement& m : audit_rows) errors += m.errors;
  if (flags.json) {
    PrintJson(rows, flags);
  } else {
    PrintTable(rows, flags);
  }
  if (flags.audit) PrintAudit(audit_rows, record_costs, writer_ns, flags);
  if (flags.rss_rounds > 0) PrintRss(flags, daemon_rss, bare_rss);
  if (flags.json) std::printf("}\n");

  const bool stopped = daemon.Stop();
  return errors == 0 && stopped ? 0 : 1;
}

}  // namespace
}  // namespace operator_auth::bench

int main(int argc, char** argv) {
  operator_auth::bench::Flags flags;
  CLI::App app{
      "authd_bench: GetApiKey latency and throughput against an empty RPC (health Check) on "
      "the same operator-authd, at 1 and 16 outstanding calls"};
  app.add_option("--daemon", flags.daemon, "the operator-authd binary to start")
      ->capture_default_str();
  app.add_option("--bare-server", flags.bare_server,
                 "the bare gRPC server whose idle RSS is the memory floor")
      ->capture_default_str();
  app.add_option("--rss-rounds", flags.rss_rounds,
                 "fresh starts of the daemon and the bare server for idle RSS (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  app.add_option("--seconds-per-round", flags.seconds_per_round,
                 "length of one measured round of one RPC at one concurrency")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 600.0));
  app.add_option("--calls", flags.calls,
                 "calls per round instead of a duration (overrides --seconds-per-round)")
      ->check(CLI::Range(int64_t{1}, int64_t{100'000'000}));
  app.add_option("--rounds", flags.rounds, "measured rounds per RPC and concurrency")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--warmup-calls", flags.warmup_calls,
                 "unmeasured calls per RPC and concurrency before the rounds")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{100'000'000}));
  app.add_option("--config", flags.config,
                 "authd.json for the measured daemon, e.g. with client rules (default: every "
                 "provider endpoint on a closed loopback port)");
  app.add_flag("--json", flags.json, "print the results as JSON instead of a table");
  app.add_flag("--verbose", flags.verbose, "print every round's figures to stderr");
  app.add_flag("!--no-audit", flags.audit,
               "skip the audit trail's figures (GetApiKey audit on vs off, AuditLog::Record)");
  CLI11_PARSE(app, argc, argv);
  return operator_auth::bench::Run(flags);
}
