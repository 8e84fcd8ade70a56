#include "daemon/core/file_auth_storage.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "daemon/core/private_directory.h"

namespace operator_auth {
namespace {

constexpr char kFileName[] = "providers.json";
constexpr char kLockName[] = "providers.lock";
// How long a reader that saw a torn file waits for the writer's lock before reporting it.
constexpr absl::Duration kTornReadLockTimeout = absl::Seconds(2);

}  // namespace

FileAuthStorage::FileAuthStorage(const std::string& auth_dir, Options options)
    : options_(options), file_(auth_dir, kFileName, kLockName), watch_(auth_dir, kFileName) {
  using_inotify_ = watch_.using_inotify();
}

absl::StatusOr<std::unique_ptr<FileAuthStorage>> FileAuthStorage::Open(const std::string& auth_dir,
                                                                       Options options) {
  if (absl::Status s = EnsurePrivateDirectory(auth_dir); !s.ok()) return s;
  std::unique_ptr<FileAuthStorage> storage(new FileAuthStorage(auth_dir, options));
  {
    absl::StatusOr<FileLock> lock = storage->file_.Lock(options.lock_timeout);
    if (lock.ok()) {
      absl::StatusOr<int> swept = storage->file_.SweepStaleTempFiles();
      if (swept.ok() && *swept > 0) {
        spdlog::warn("removed {} temp file(s) a crashed writer left beside {}", *swept,
                     storage->path());
      }
    } else {
      spdlog::warn("not sweeping temp files beside {}: {}", storage->path(),
                   std::string(lock.status().message()));
    }
  }
  storage->Snapshot();  // the initial load, which reports a bad file
  return storage;
}

absl::StatusOr<CredentialDocument> FileAuthStorage::ReadDocument() const {
  absl::StatusOr<std::optional<std::string>> text = file_.Read();
  if (!text.ok()) return text.status();
  if (!text->has_value()) return CredentialDocument();
  absl::StatusOr<CredentialDocument> document = CredentialDocument::Parse(**text);
  if (!document.ok()) {
    return absl::Status(document.status().code(),
                        absl::StrCat(file_.path(), ": ", document.status().message()));
  }
  return document;
}

void FileAuthStorage::PublishLocked(const CredentialDocument& document) {
  snapshot_ =
      std::make_shared<const CredentialSnapshot>(CredentialSnapshot{document.Credentials(), ""});
}

void FileAuthStorage::ReloadLocked() {
  absl::StatusOr<CredentialDocument> document = ReadDocument();
  if (!document.ok() && absl::IsInvalidArgument(document.status())) {
    // Possibly a writer in the middle of an in-place rewrite: read again once it is done.
    absl::StatusOr<FileLock> lock = file_.Lock(kTornReadLockTimeout);
    if (lock.ok()) document = ReadDocument();
  }
  if (document.ok()) {
    if (snapshot_ != nullptr && !snapshot_->load_error.empty()) {
      spdlog::info("{} loads again", file_.path());
    }
    PublishLocked(*document);
    return;
  }
  std::string message(document.status().message());
  if (snapshot_ == nullptr || snapshot_->load_error != message) {
    spdlog::error(
        "cannot load credentials: {}; serving runtime and environment keys, and not "
        "writing the file until it loads",
        message);
    errors_.Record(file_.path(), message);
  }
  auto broken = std::make_shared<CredentialSnapshot>();
  if (snapshot_ != nullptr) broken->credentials = snapshot_->credentials;
  broken->load_error = std::move(message);
  snapshot_ = std::move(broken);
}

std::shared_ptr<const CredentialSnapshot> FileAuthStorage::Snapshot() {
  absl::MutexLock lock(&mu_);
  if (watch_.Changed() || snapshot_ == nullptr) ReloadLocked();
  return snapshot_;
}

absl::Status FileAuthStorage::Update(const Mutation& mutate) {
  absl::MutexLock write_lock(&write_mu_);
  absl::StatusOr<FileLock> lock = file_.Lock(options_.lock_timeout);
  if (!lock.ok()) {
    errors_.Record(file_.path(), std::string(lock.status().message()));
    return lock.status();
  }
  absl::StatusOr<CredentialDocument> document = ReadDocument();
  if (!document.ok()) {
    std::string message =
        absl::StrCat("not writing ", file_.path(), " because it cannot be loaded (",
                     document.status().message(), "); fix or remove the file first");
    errors_.Record(file_.path(), message);
    return absl::FailedPreconditionError(message);
  }
  absl::StatusOr<bool> changed = mutate(*document);
  if (!changed.ok()) return changed.status();
  if (!*changed) return absl::OkStatus();
  if (absl::Status s = file_.Replace(document->Serialize()); !s.ok()) {
    errors_.Record(file_.path(), std::string(s.message()));
    return s;
  }
  // A reader holding mu_ may be waiting for the file lock we hold (torn-read retry), so never
  // block on mu_ here. When it is busy we skip publishing: the pending change events make the
  // next Snapshot() re-read what we wrote.
  if (mu_.TryLock()) {
    // Every event so far is our own write or predates our re-read under the lock.
    watch_.Discard();
    PublishLocked(*document);
    mu_.Unlock();
  }
  return absl::OkStatus();
}

}  // namespace operator_auth
