#include "daemon/fleet/fleet_local_import.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"

namespace operator_auth {

std::string LocalImportProblem(const std::string& path, const std::string& name,
                               const absl::Status& status) {
  if (absl::IsFailedPrecondition(status)) {
    // The local file does not load, or the fleet's document does not open with our key.
    return absl::StrCat(path, " was not brought into fleet '", name,
                        "' and is kept as it is: ", status.message());
  }
  return absl::StrCat("cannot bring ", path, " into fleet '", name, "': ", status.message());
}

void LogLocalImport(const std::string& path, const std::string& name,
                    const FleetImportReport& report) {
  if (report.seeded) {
    spdlog::info("fleet '{}': created from {} ({})", name, path, absl::StrJoin(report.added, ", "));
  } else if (!report.added.empty() || !report.kept.empty() || !report.replaced.empty()) {
    auto list = [](const std::vector<std::string>& keys) {
      return keys.empty() ? std::string("nothing") : absl::StrJoin(keys, ", ");
    };
    spdlog::info(
        "fleet '{}': from {}, added {}; replaced with a newer local login {}; kept the fleet's "
        "copy of {}",
        name, path, list(report.added), list(report.replaced), list(report.kept));
  }
}

FleetLocalImport::FleetLocalImport(std::unique_ptr<FileAuthStorage> local, FleetStorage& fleet,
                                   std::string problem, Options options)
    : local_(std::move(local)),
      fleet_(fleet),
      options_(std::move(options)),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      problem_(std::move(problem)) {}

FleetLocalImport::~FleetLocalImport() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void FleetLocalImport::Start() {
  thread_ = std::thread([this] { Loop(); });
}

std::string FleetLocalImport::problem() const {
  absl::MutexLock lock(&mu_);
  return problem_;
}

void FleetLocalImport::SetProblem(std::string problem) {
  absl::MutexLock lock(&mu_);
  // Logged once per new problem, not at every retry.
  if (!problem.empty() && problem != problem_) spdlog::error("{}", problem);
  if (problem.empty() && !problem_.empty()) {
    spdlog::info("fleet '{}': {} holds nothing the fleet lacks any more", options_.fleet_name,
                 local_->path());
  }
  problem_ = std::move(problem);
}

bool FleetLocalImport::ImportNow() {
  absl::StatusOr<FleetImportReport> imported = ImportLocalDocument(*local_, fleet_);
  if (!imported.ok()) {
    SetProblem(LocalImportProblem(local_->path(), options_.fleet_name, imported.status()));
    // A file that does not load, or a fleet document our key cannot open, waits for a change;
    // a cluster that could not take the write is asked again.
    return !absl::IsFailedPrecondition(imported.status());
  }
  LogLocalImport(local_->path(), options_.fleet_name, *imported);
  SetProblem(imported->local_problem);
  return false;
}

void FleetLocalImport::Loop() {
  const int external_fd = local_->ExternalChangeFd();
  std::shared_ptr<const CredentialSnapshot> seen = local_->Snapshot();
  // A tool may have written between the import at start and now: look once before waiting.
  bool import = true;
  // When an import the cluster could not take is tried again. A deadline, not a poll timeout:
  // the inotify fd also wakes us for other files of auth/, among them providers.lock, which
  // every import closes after writing.
  absl::Time retry_at = absl::InfiniteFuture();
  while (true) {
    // Emptying the file shows as a change at the next look, which finds nothing to import. It
    // is not marked seen here: a write that slipped in after the import must not be taken for it.
    if (import) retry_at = ImportNow() ? absl::Now() + options_.retry : absl::InfiniteFuture();
    absl::Duration wait = retry_at - absl::Now();
    // Without inotify, or without the eventfd that wakes us to stop, look now and then.
    if (external_fd < 0 || wake_fd_ < 0) wait = std::min(wait, options_.stat_poll);
    const int timeout_ms =
        wait == absl::InfiniteDuration()
            ? -1
            : static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(wait) + 1, 0, 600000));
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {external_fd, POLLIN, 0}};
    if (poll(fds, external_fd >= 0 ? 2 : 1, timeout_ms) < 0 && errno != EINTR) {
      spdlog::error("fleet '{}': poll failed (errno {}); retrying in 1 s", options_.fleet_name,
                    errno);
      absl::SleepFor(absl::Seconds(1));
    }
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    // Reads a pending edit (and drains the watch), so one edit wakes us once.
    std::shared_ptr<const CredentialSnapshot> now = local_->Snapshot();
    import = now != seen || absl::Now() >= retry_at;
    seen = std::move(now);
  }
}

}  // namespace operator_auth
