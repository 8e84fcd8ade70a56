// Compiled only with -DAUTHD_FAILPOINTS=ON; see failpoint.h.
#include "daemon/core/failpoint.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace operator_auth::failpoint {
namespace {

constexpr char kEnvVar[] = "AUTHD_FAILPOINTS";

struct ArmedPoint {
  std::string name;
  int64_t crash_at_hit = 1;
  std::atomic<int64_t> hits{0};
};

void WriteStderr(absl::string_view text) {
  while (!text.empty()) {
    ssize_t n = write(STDERR_FILENO, text.data(), text.size());
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

// A malformed spec is a broken test set-up, not something to guess about: say so and exit.
[[noreturn]] void BadSpec(absl::string_view entry) {
  WriteStderr(absl::StrCat(kEnvVar, ": cannot parse \"", entry,
                           "\"; expected NAME=crash or NAME=crash@N (N >= 1), comma-separated\n"));
  _exit(2);
}

std::vector<std::unique_ptr<ArmedPoint>> ParseSpec(const char* spec) {
  std::vector<std::unique_ptr<ArmedPoint>> points;
  if (spec == nullptr) return points;
  for (absl::string_view entry : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    std::vector<absl::string_view> name_action = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (name_action.size() != 2 || name_action[0].empty()) BadSpec(entry);
    auto point = std::make_unique<ArmedPoint>();
    point->name = std::string(name_action[0]);
    absl::string_view action = name_action[1];
    if (action != "crash") {
      if (!absl::ConsumePrefix(&action, "crash@") ||
          !absl::SimpleAtoi(action, &point->crash_at_hit) || point->crash_at_hit < 1) {
        BadSpec(entry);
      }
    }
    points.push_back(std::move(point));
  }
  return points;
}

const std::vector<std::unique_ptr<ArmedPoint>>& ArmedPoints() {
  static const auto* const points =
      new std::vector<std::unique_ptr<ArmedPoint>>(ParseSpec(std::getenv(kEnvVar)));
  return *points;
}

}  // namespace

bool ShouldCrash(const char* name) {
  for (const std::unique_ptr<ArmedPoint>& point : ArmedPoints()) {
    if (point->name == name) {
      return point->hits.fetch_add(1, std::memory_order_relaxed) + 1 == point->crash_at_hit;
    }
  }
  return false;
}

void Crash(const char* name) {
  WriteStderr(absl::StrCat("failpoint ", name, ": crashing (SIGKILL)\n"));
  raise(SIGKILL);
  _exit(137);  // not reached: SIGKILL cannot be caught or blocked
}

}  // namespace operator_auth::failpoint
