// AuthStorage backed by $OPERATOR_HOME/auth/providers.json, shared with other processes that
// honour providers.lock (py-filelock). Keeps ARCHITECTURE.md invariants 1-5:
//  - every change re-reads the file under flock(providers.lock), then replaces it atomically;
//  - files 0600, the directory 0700;
//  - entries and fields we do not understand are kept;
//  - a file that cannot be loaded is reported (DrainErrors, Snapshot().load_error) and is never
//    written until it loads again.
// Snapshot() notices external writes before it returns (FileChangeWatch). Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/core/auth_storage.h"
#include "daemon/core/credentials_file.h"
#include "daemon/core/file_change_watch.h"

namespace operator_auth {

class FileAuthStorage : public AuthStorage {
 public:
  struct Options {
    // How long a write waits for another process to release providers.lock.
    absl::Duration lock_timeout = absl::Seconds(10);
  };

  // Creates `auth_dir` (0700) when missing, sweeps temp files a crashed writer left, and loads
  // providers.json. A file that does not load is not an error here: it is reported and the
  // storage serves nothing from it until it loads.
  static absl::StatusOr<std::unique_ptr<FileAuthStorage>> Open(const std::string& auth_dir,
                                                               Options options);
  static absl::StatusOr<std::unique_ptr<FileAuthStorage>> Open(const std::string& auth_dir) {
    return Open(auth_dir, Options());
  }

  std::shared_ptr<const CredentialSnapshot> Snapshot() override;
  absl::Status Update(const Mutation& mutate) override;
  std::vector<StorageError> DrainErrors() override { return errors_.Drain(); }
  std::string Describe() const override { return file_.path(); }

  const std::string& path() const { return file_.path(); }
  bool watching_with_inotify() const { return using_inotify_; }

 private:
  FileAuthStorage(const std::string& auth_dir, Options options);

  // Reads and parses the file as it is now. A missing file is an empty document.
  absl::StatusOr<CredentialDocument> ReadDocument() const;
  // Re-reads after a change; a torn read by a writer that does not replace atomically is retried
  // under the lock before it counts as an error.
  void ReloadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishLocked(const CredentialDocument& document) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const CredentialsFile file_;
  bool using_inotify_ = false;
  StorageErrorLog errors_;

  // Serializes this process's writers, so they queue here rather than on the file lock.
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // Guards the view of the file; held only for in-memory work and for reading the file.
  absl::Mutex mu_;
  FileChangeWatch watch_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const CredentialSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
};

}  // namespace operator_auth
