#include "tests/bench/latency_stats.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace operator_auth::bench {
namespace {

// Nearest-rank percentile of sorted, non-empty `sorted_ns`, in microseconds.
double PercentileUs(const std::vector<int64_t>& sorted_ns, double fraction) {
  const double rank = std::ceil(fraction * static_cast<double>(sorted_ns.size()));
  const size_t index = static_cast<size_t>(std::max(rank, 1.0)) - 1;
  return static_cast<double>(sorted_ns[std::min(index, sorted_ns.size() - 1)]) / 1000.0;
}

}  // namespace

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

double Ratio(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : 0;
}

RoundStats Summarize(std::vector<int64_t>& latencies_ns, std::chrono::nanoseconds elapsed) {
  RoundStats stats;
  stats.calls = static_cast<int64_t>(latencies_ns.size());
  if (latencies_ns.empty()) return stats;
  std::sort(latencies_ns.begin(), latencies_ns.end());
  stats.p50_us = PercentileUs(latencies_ns, 0.50);
  stats.p99_us = PercentileUs(latencies_ns, 0.99);
  const double seconds = std::chrono::duration<double>(elapsed).count();
  stats.calls_per_second = seconds > 0 ? static_cast<double>(stats.calls) / seconds : 0;
  return stats;
}

RoundStats MedianOverRounds(const std::vector<RoundStats>& rounds) {
  std::vector<double> p50, p99, rate, calls;
  for (const RoundStats& r : rounds) {
    p50.push_back(r.p50_us);
    p99.push_back(r.p99_us);
    rate.push_back(r.calls_per_second);
    calls.push_back(static_cast<double>(r.calls));
  }
  RoundStats median;
  median.p50_us = Median(std::move(p50));
  median.p99_us = Median(std::move(p99));
  median.calls_per_second = Median(std::move(rate));
  median.calls = static_cast<int64_t>(Median(std::move(calls)));
  return median;
}

}  // namespace operator_auth::bench
