// AuthStorage backed by $OPERATOR_HOME/auth/providers.json, shared with other processes that
// honour providers.lock (py-filelock). The file handling (locking, atomic replace, change
// detection, load errors) is SharedDocumentFile's; a file that stops loading keeps serving the
// credentials it last held. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/core/auth_storage.h"
#include "daemon/core/shared_document_file.h"

namespace operator_auth {

inline constexpr size_t kMaxProvidersFileBytes = 4 * 1024 * 1024;

class FileAuthStorage : public AuthStorage {
 public:
  struct Options {
    // How long a write waits for another process to release providers.lock.
    absl::Duration lock_timeout = absl::Seconds(10);
    // The largest providers.json this daemon writes (the file stays loadable at this size).
    size_t max_write_bytes = kMaxProvidersFileBytes;
  };

  // Creates `auth_dir` (0700) when missing, sweeps temp files a crashed writer left, and loads
  // providers.json. A file that does not load is not an error here: it is reported and the
  // storage serves nothing from it until it loads.
  static absl::StatusOr<std::unique_ptr<FileAuthStorage>> Open(const std::string& auth_dir,
                                                               Options options);
  static absl::StatusOr<std::unique_ptr<FileAuthStorage>> Open(const std::string& auth_dir) {
    return Open(auth_dir, Options());
  }

  std::shared_ptr<const CredentialSnapshot> Snapshot() override { return file_->Snapshot(); }
  absl::Status Update(const Mutation& mutate) override { return file_->Update(mutate); }
  absl::StatusOr<LockHold> HoldLock() override {
    absl::StatusOr<File::LockHold> held = file_->HoldLock();
    if (!held.ok()) return held.status();
    return LockHold(*std::move(held));
  }
  std::shared_ptr<const CredentialSnapshot> LastSnapshot() override {
    return file_->LastSnapshot();
  }
  std::vector<StorageError> DrainErrors() override { return file_->DrainErrors(); }
  std::string Describe() const override { return file_->path(); }
  uint64_t AddChangeListener(std::function<void()> listener) override {
    return file_->AddChangeListener(std::move(listener));
  }
  void RemoveChangeListener(uint64_t id) override { file_->RemoveChangeListener(id); }
  int ExternalChangeFd() const override { return file_->ExternalChangeFd(); }

  // Makes the next Snapshot() re-read the file (SIGHUP).
  void ForceReload() override { file_->ForceReload(); }
  StorageStatus Status() override {
    StorageStatus status;
    status.kind = "file";
    status.location = file_->path();
    status.load_error = file_->LastSnapshot()->load_error;
    return status;
  }

  const std::string& path() const { return file_->path(); }
  bool watching_with_inotify() const { return file_->watching_with_inotify(); }

 private:
  using File = SharedDocumentFile<CredentialDocument, CredentialSnapshot>;
  explicit FileAuthStorage(std::unique_ptr<File> file) : file_(std::move(file)) {}

  std::unique_ptr<File> file_;
};

}  // namespace operator_auth
