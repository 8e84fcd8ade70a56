// authd_freshness_bench: why the daemon notices external edits of providers.json with inotify
// rather than a stat(2) signature. Measures, in one run, the per-request cost of each check when
// nothing changed, and how many same-size in-place rewrites (what the older Python tools do) each
// one misses. Run by hand; not part of the test pass/fail.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/core/file_auth_storage.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::bench {
namespace {

constexpr int kCallsPerRound = 200'000;
constexpr int kRounds = 7;
constexpr int kRewrites = 1000;

// Median ns per call of `fn` over kRounds rounds of kCallsPerRound calls.
template <typename Fn>
double MedianNsPerCall(Fn fn) {
  std::vector<double> rounds;
  for (int r = 0; r < kRounds; ++r) {
    absl::Time start = absl::Now();
    for (int i = 0; i < kCallsPerRound; ++i) fn();
    rounds.push_back(absl::ToDoubleNanoseconds(absl::Now() - start) / kCallsPerRound);
  }
  std::sort(rounds.begin(), rounds.end());
  return rounds[rounds.size() / 2];
}

bool SameStat(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec && a.st_ctim.tv_sec == b.st_ctim.tv_sec &&
         a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

std::string Document(int i) {
  return R"({"openai": {"type": "api_key", "key": "sk-rewrite-)" + std::to_string(i % 10) +
         "\"}}\n";
}

int Run() {
  testing::TempDir dir;
  absl::StatusOr<std::unique_ptr<FileAuthStorage>> storage = FileAuthStorage::Open(dir.Sub("auth"));
  if (!storage.ok()) {
    std::fprintf(stderr, "authd_freshness_bench: %s\n", storage.status().ToString().c_str());
    return 1;
  }
  const std::string path = dir.Sub("auth/providers.json");
  testing::WriteFileOrDie(path, Document(0));
  (*storage)->Snapshot();

  double snapshot_ns = MedianNsPerCall([&] { (*storage)->Snapshot(); });
  struct stat st {};
  double stat_ns = MedianNsPerCall([&] { stat(path.c_str(), &st); });

  int stat_misses = 0;
  int inotify_misses = 0;
  for (int i = 1; i <= kRewrites; ++i) {
    struct stat before {};
    stat(path.c_str(), &before);
    testing::WriteFileOrDie(path, Document(i));  // in place, same size
    struct stat after {};
    stat(path.c_str(), &after);
    if (SameStat(before, after)) ++stat_misses;
    auto snapshot = (*storage)->Snapshot();
    auto it = snapshot->credentials.find("openai");
    if (it == snapshot->credentials.end() ||
        it->second.key.view() != "sk-rewrite-" + std::to_string(i % 10)) {
      ++inotify_misses;
    }
  }

  std::printf("change detection: %s\n",
              (*storage)->watching_with_inotify() ? "inotify" : "stat (inotify unavailable)");
  std::printf("%-40s %10s\n", "check when nothing changed", "ns/call");
  std::printf("%-40s %10.0f\n", "FileAuthStorage::Snapshot (inotify)", snapshot_ns);
  std::printf("%-40s %10.0f\n", "stat(2) of providers.json alone", stat_ns);
  std::printf("ratio Snapshot/stat = %.2f\n", snapshot_ns / stat_ns);
  std::printf("same-size in-place rewrites missed, of %d: stat signature %d, inotify %d\n",
              kRewrites, stat_misses, inotify_misses);
  return inotify_misses == 0 ? 0 : 1;
}

}  // namespace
}  // namespace operator_auth::bench

int main() { return operator_auth::bench::Run(); }
