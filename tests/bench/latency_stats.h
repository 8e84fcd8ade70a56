// Summaries for the benchmark: latency percentiles and throughput of one round, and the median
// over rounds that the report prints. Pure functions, thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace operator_auth::bench {

// One round of one RPC at one concurrency.
struct RoundStats {
  double p50_us = 0;
  double p99_us = 0;
  double calls_per_second = 0;
  int64_t calls = 0;
};

// Summarizes per-call latencies (nanoseconds; sorted in place) of calls that completed within
// `elapsed`. Percentiles are nearest-rank, so every reported figure is a latency that was seen.
RoundStats Summarize(std::vector<int64_t>& latencies_ns, std::chrono::nanoseconds elapsed);

// The median of each field over `rounds`, taken field by field: one noisy round on a shared
// machine moves a median far less than a mean.
RoundStats MedianOverRounds(const std::vector<RoundStats>& rounds);

// The median of `values` (0 when empty).
double Median(std::vector<double> values);
// numerator / denominator, or 0 when the denominator is not positive.
double Ratio(double numerator, double denominator);

}  // namespace operator_auth::bench
