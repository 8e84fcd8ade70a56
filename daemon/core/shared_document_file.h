// A secret-bearing JSON document file that other processes may also write (providers.json,
// channels.json), kept as an in-memory snapshot. Holds ARCHITECTURE.md invariants 1-5 for any
// document type:
//  - every change re-reads the file under flock(<lock file>), then replaces it atomically;
//  - files 0600, the directory 0700;
//  - the document type keeps entries and fields it does not understand;
//  - a file that cannot be loaded is reported (DrainErrors, Snapshot()->load_error) and is never
//    written until it loads again.
// Snapshot() notices external writes before it returns (FileChangeWatch). A slow step that
// must run under the lock (a token-endpoint call) takes a LockHold: other processes then wait
// for the lock as the shared protocol requires, while this process's own writers go on under the
// lock the hold keeps (each still re-reads and replaces the file, one at a time). Thread-safe.
//
// Document: default-constructible (the empty document), `static absl::StatusOr<Document>
//   Parse(absl::string_view)` whose errors never quote the text, `std::string Serialize() const`.
// View: copyable, with a `std::string load_error` member; built from a loaded Document by the
//   MakeSnapshot function once per load, then shared by every reader.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/core/change_listeners.h"
#include "daemon/core/credentials_file.h"
#include "daemon/core/failpoint.h"
#include "daemon/core/file_change_watch.h"
#include "daemon/core/secret_string.h"
#include "daemon/core/storage_error_log.h"

namespace operator_auth {

struct SharedDocumentFileOptions {
  // How long a write waits for another process to release the lock file.
  absl::Duration lock_timeout = absl::Seconds(10);
  // When a file that loaded before stops loading: keep serving what it held (true) or serve an
  // empty snapshot (false).
  bool keep_last_good_on_error = true;
  // The largest file this process writes; a change that would pass it is refused with
  // RESOURCE_EXHAUSTED and the file is left as it was. Reading accepts more
  // (kMaxCredentialsFileBytes), so a file another tool grew still loads.
  size_t max_write_bytes = 4 * 1024 * 1024;
};

namespace shared_document_file_internal {

// Creates the directory (0700) and sweeps temp files a crashed writer left, under the lock.
absl::Status PrepareDirectory(const CredentialsFile& file, absl::Duration lock_timeout);
// Logs a load failure (once per distinct message) and a recovery.
void LogLoadError(const std::string& path, const std::string& message);
void LogLoadedAgain(const std::string& path);
absl::Status RefusedWrite(const std::string& path, const absl::Status& load_status);

// How long a reader that saw a torn file waits for the writer's lock before reporting it.
inline constexpr absl::Duration kTornReadLockTimeout = absl::Seconds(2);

}  // namespace shared_document_file_internal

template <typename Document, typename View>
class SharedDocumentFile {
 public:
  using MakeSnapshot = std::function<View(const Document&)>;
  // Changes the document; returns true when it changed and must be written, false to leave the
  // file untouched, or an error that aborts the update.
  using Mutation = std::function<absl::StatusOr<bool>(Document&)>;
  // Keeps the lock file locked while any copy lives.
  using LockHold = std::shared_ptr<const FileLock>;

  // Creates `directory` (0700) when missing, sweeps stale temp files and loads the file. A file
  // that does not load is not an error here: it is reported, and served as the options say.
  static absl::StatusOr<std::unique_ptr<SharedDocumentFile>> Open(
      const std::string& directory, const std::string& file_name, const std::string& lock_name,
      MakeSnapshot make_snapshot, SharedDocumentFileOptions options) {
    CredentialsFile file(directory, file_name, lock_name);
    if (absl::Status s =
            shared_document_file_internal::PrepareDirectory(file, options.lock_timeout);
        !s.ok()) {
      return s;
    }
    std::unique_ptr<SharedDocumentFile> shared(
        new SharedDocumentFile(std::move(file), std::move(make_snapshot), options));
    shared->Snapshot();  // the initial load, which reports a bad file
    return shared;
  }

  // The current view, including changes other processes made since the last call.
  std::shared_ptr<const View> Snapshot() {
    absl::MutexLock lock(&mu_);
    if (force_reload_ || watch_.Changed() || snapshot_ == nullptr) {
      force_reload_ = false;
      ReloadLocked();
    }
    return snapshot_;
  }

  // Re-reads the document under the lock, applies `mutate`, and replaces the file when `mutate`
  // says it changed. Fails without writing when the file cannot be loaded.
  absl::Status Update(const Mutation& mutate) {
    absl::MutexLock write_lock(&write_mu_);
    absl::StatusOr<LockHold> lock = HoldLock();
    if (!lock.ok()) return lock.status();
    AUTHD_FAILPOINT("shared_file.locked");
    absl::StatusOr<Document> document = ReadDocument();
    if (!document.ok()) {
      absl::Status refused =
          shared_document_file_internal::RefusedWrite(file_.path(), document.status());
      errors_.Record(file_.path(), std::string(refused.message()));
      return refused;
    }
    absl::StatusOr<bool> changed = mutate(*document);
    if (!changed.ok()) return changed.status();
    if (!*changed) return absl::OkStatus();
    // The text holds every secret of the file: wiped once written (or refused).
    std::string text = document->Serialize();
    if (text.size() > options_.max_write_bytes) {
      const size_t size = text.size();
      CleanseString(text);
      return absl::ResourceExhaustedError(absl::StrCat(
          "not writing ", file_.path(), ": the change would make it ", size,
          " bytes, over the limit of ", options_.max_write_bytes, "; remove entries first"));
    }
    absl::Status s = file_.Replace(text);
    CleanseString(text);
    if (!s.ok()) {
      errors_.Record(file_.path(), std::string(s.message()));
      return s;
    }
    AUTHD_FAILPOINT("shared_file.replaced");
    // A reader holding mu_ may be waiting for the file lock we hold (torn-read retry), so never
    // block on mu_ here. When it is busy we skip publishing: the pending change events make the
    // next Snapshot() re-read what we wrote.
    if (mu_.TryLock()) {
      // Every event so far is our own write or predates our re-read under the lock.
      watch_.Discard();
      Publish(std::make_shared<const View>(make_snapshot_(*document)));
      mu_.Unlock();
    }
    return absl::OkStatus();
  }

  // Takes the lock file, or shares the lock this process already holds. Waits up to the lock
  // timeout for another process; UNAVAILABLE when it runs out.
  absl::StatusOr<LockHold> HoldLock() {
    absl::MutexLock acquiring(&acquire_mu_);  // one waiter on the lock file at a time
    {
      absl::MutexLock lock(&hold_mu_);
      if (LockHold held = held_.lock()) return held;
    }
    absl::StatusOr<FileLock> lock = file_.Lock(options_.lock_timeout);
    if (!lock.ok()) {
      errors_.Record(file_.path(), std::string(lock.status().message()));
      return lock.status();
    }
    auto held = std::make_shared<const FileLock>(*std::move(lock));
    absl::MutexLock lock_hold(&hold_mu_);
    held_ = held;
    return held;
  }

  // The last snapshot taken, without looking for changes: never waits for a file or a lock.
  std::shared_ptr<const View> LastSnapshot() {
    absl::MutexLock lock(&published_mu_);
    return published_;
  }

  // Calls `listener` whenever the snapshot is replaced; it runs under the file's lock, so it must
  // not block or call back into this object. Removing it waits for a call in progress, so it is
  // never called after RemoveChangeListener returns.
  uint64_t AddChangeListener(std::function<void()> listener) {
    absl::MutexLock lock(&mu_);
    return on_change_.Add(std::move(listener));
  }
  void RemoveChangeListener(uint64_t id) {
    absl::MutexLock lock(&mu_);
    on_change_.Remove(id);
  }
  // Readable while an external change waits for the next Snapshot(); -1 without inotify.
  int ExternalChangeFd() const { return external_change_fd_; }

  // Makes the next Snapshot() re-read the file whether or not a change was seen (SIGHUP).
  void ForceReload() {
    absl::MutexLock lock(&mu_);
    force_reload_ = true;
  }

  // Errors recorded since the last drain.
  std::vector<StorageError> DrainErrors() { return errors_.Drain(); }

  const std::string& path() const { return file_.path(); }
  bool watching_with_inotify() const { return using_inotify_; }

 private:
  SharedDocumentFile(CredentialsFile file, MakeSnapshot make_snapshot,
                     SharedDocumentFileOptions options)
      : options_(options),
        file_(std::move(file)),
        make_snapshot_(std::move(make_snapshot)),
        watch_(file_.directory(), file_.file_name()) {
    using_inotify_ = watch_.using_inotify();
    external_change_fd_ = watch_.pollable_fd();
  }

  // Reads and parses the file as it is now. A missing file is an empty document.
  absl::StatusOr<Document> ReadDocument() const {
    absl::StatusOr<std::optional<std::string>> text = file_.Read();
    if (!text.ok()) return text.status();
    if (!text->has_value()) return Document();
    absl::StatusOr<Document> document = Document::Parse(**text);
    CleanseString(**text);  // the parsed document holds what it needs
    if (!document.ok()) {
      return absl::Status(document.status().code(),
                          absl::StrCat(file_.path(), ": ", document.status().message()));
    }
    return document;
  }

  // Re-reads after a change; a torn read by a writer that does not replace atomically is retried
  // under the lock before it counts as an error.
  void ReloadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::StatusOr<Document> document = ReadDocument();
    if (!document.ok() && absl::IsInvalidArgument(document.status())) {
      // Possibly a writer in the middle of an in-place rewrite: read again once it is done. When
      // this process holds the lock, no other writer can be in the middle of one.
      bool held_here;
      {
        absl::MutexLock lock(&hold_mu_);
        held_here = !held_.expired();
      }
      if (held_here) {
        document = ReadDocument();
      } else if (absl::StatusOr<FileLock> lock =
                     file_.Lock(shared_document_file_internal::kTornReadLockTimeout);
                 lock.ok()) {
        document = ReadDocument();
      }
    }
    if (document.ok()) {
      if (snapshot_ != nullptr && !snapshot_->load_error.empty()) {
        shared_document_file_internal::LogLoadedAgain(file_.path());
      }
      Publish(std::make_shared<const View>(make_snapshot_(*document)));
      return;
    }
    std::string message(document.status().message());
    if (snapshot_ == nullptr || snapshot_->load_error != message) {
      shared_document_file_internal::LogLoadError(file_.path(), message);
      errors_.Record(file_.path(), message);
    }
    auto broken = std::make_shared<View>(options_.keep_last_good_on_error && snapshot_ != nullptr
                                             ? *snapshot_
                                             : make_snapshot_(Document()));
    broken->load_error = std::move(message);
    Publish(std::move(broken));
  }

  void Publish(std::shared_ptr<const View> view) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    snapshot_ = std::move(view);
    {
      absl::MutexLock lock(&published_mu_);
      published_ = snapshot_;
    }
    on_change_.NotifyAll();
  }

  const SharedDocumentFileOptions options_;
  const CredentialsFile file_;
  const MakeSnapshot make_snapshot_;
  bool using_inotify_ = false;
  int external_change_fd_ = -1;
  ChangeListeners on_change_ ABSL_GUARDED_BY(mu_);
  StorageErrorLog errors_;

  // Serializes this process's writers, so they queue here rather than on the file lock.
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // Guards the view of the file; held only for in-memory work and for reading the file.
  absl::Mutex mu_;
  FileChangeWatch watch_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const View> snapshot_ ABSL_GUARDED_BY(mu_);
  bool force_reload_ ABSL_GUARDED_BY(mu_) = false;

  // The lock file while this process holds it (HoldLock); acquire_mu_ queues this process's
  // waiters so that they share one lock rather than contend for it.
  absl::Mutex acquire_mu_ ABSL_ACQUIRED_AFTER(write_mu_);
  absl::Mutex hold_mu_ ABSL_ACQUIRED_AFTER(acquire_mu_, mu_);
  std::weak_ptr<const FileLock> held_ ABSL_GUARDED_BY(hold_mu_);
  // A copy of snapshot_ for LastSnapshot(), whose lock is never held for I/O.
  absl::Mutex published_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::shared_ptr<const View> published_ ABSL_GUARDED_BY(published_mu_);
};

}  // namespace operator_auth
