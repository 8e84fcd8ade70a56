// Keeps bringing the local providers.json into the fleet after start. StartFleet imports it once;
// a tool that still writes the file itself afterwards (a py-filelock writer, an agent that logs in
// on its own) would otherwise have its credentials ignored until the daemon restarts, and the
// refresh token it left on this host could be spent behind the fleet's back. Each change of the
// file runs ImportLocalDocument again, with the same rules (fleet_import.h): what the fleet lacks
// is added, a newer local OAuth login replaces the fleet's, the fleet's copy wins otherwise, and
// the file is emptied. When the cluster cannot take the write, the file is kept and the import
// tried again every `retry`. One background thread; `problem()` is what status shows.
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/core/file_auth_storage.h"
#include "daemon/fleet/fleet_import.h"
#include "daemon/fleet/fleet_storage.h"

namespace operator_auth {

// Why `path` was not brought into fleet `name` and is kept: `status` from ImportLocalDocument.
std::string LocalImportProblem(const std::string& path, const std::string& name,
                               const absl::Status& status);
// Logs what an import did (keys only: they name a provider and an account, never a secret).
void LogLocalImport(const std::string& path, const std::string& name,
                    const FleetImportReport& report);

class FleetLocalImport {
 public:
  struct Options {
    std::string fleet_name;
    // How soon an import the cluster could not take is tried again.
    absl::Duration retry = absl::Seconds(5);
    // How often the file is looked at when inotify is unavailable.
    absl::Duration stat_poll = absl::Seconds(2);
  };

  // `problem` is what the import at start left (empty: none). `fleet` must outlive this.
  FleetLocalImport(std::unique_ptr<FileAuthStorage> local, FleetStorage& fleet, std::string problem,
                   Options options);
  ~FleetLocalImport();  // stops the thread
  FleetLocalImport(const FleetLocalImport&) = delete;
  FleetLocalImport& operator=(const FleetLocalImport&) = delete;

  void Start();
  // Empty when the local file holds nothing the fleet lacks; otherwise why it still does.
  std::string problem() const;

 private:
  void Loop();
  // One import; true when it should be tried again after `retry`.
  bool ImportNow();
  void SetProblem(std::string problem);

  const std::unique_ptr<FileAuthStorage> local_;
  FleetStorage& fleet_;
  const Options options_;
  const int wake_fd_;  // eventfd: the destructor wakes the thread
  mutable absl::Mutex mu_;
  std::string problem_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace operator_auth
