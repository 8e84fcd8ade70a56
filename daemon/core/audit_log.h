// The audit trail on disk: AuditSink records appended as JSON lines to <auth dir>/audit.jsonl by
// one writer thread. Record() only moves the record onto a bounded in-memory queue (a mutex and a
// vector the writer swaps out) and wakes the writer when it sleeps: no I/O, no allocation beyond
// the vector's growth, on the caller's thread. A full queue drops the record and counts it; the
// writer then writes one line saying how many were dropped. Write errors (a full disk, EACCES)
// are logged, rate-limited, and never reach a caller.
//
// The file: created 0600 with O_APPEND | O_NOFOLLOW; an existing one that is a symlink, not a
// regular file, owned by another uid, or writable by group or others is refused (read bits for
// group/others are removed). A file that cannot be opened for another reason (a read-only file
// system, EACCES) is not a refusal: Open() succeeds, and the writer tries again with each batch,
// counting the records it could not write into the next line it writes. When a batch would take it
// past `max_bytes` it is renamed to audit.jsonl.1 (replacing the older one) and a new file is
// started, at a line boundary: at most about 2 x max_bytes on disk, no line split across two files.
// A line never holds a secret: the records carry none.
//
// Thread-safe. The destructor writes everything queued, then stops the writer.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "daemon/core/audit_sink.h"
#include "daemon/core/rate_limited_log.h"

namespace operator_auth {

class AuditLog final : public AuditSink {
 public:
  static constexpr size_t kDefaultMaxBytes = 4 * 1024 * 1024;
  static constexpr size_t kDefaultMaxQueued = 8192;
  static constexpr const char* kFileName = "audit.jsonl";
  static constexpr const char* kRotatedFileName = "audit.jsonl.1";

  struct Options {
    size_t max_bytes = kDefaultMaxBytes;    // rotate when the file would pass this size
    size_t max_queued = kDefaultMaxQueued;  // records waiting for the writer; more are dropped
    // After each batch the writer lets records gather this long (cut short by Flush, shutdown
    // or a half-full queue): under load one wake-up and one write per interval, not one per
    // call. An idle writer still wakes for the first record at once.
    absl::Duration batch_interval = absl::Milliseconds(100);
    // Test hook: runs on the writer thread before each batch is written (to stall the writer).
    std::function<void()> before_write;
  };

  // Opens (creating it 0600) `directory`/audit.jsonl, which must be acceptable (above), and
  // starts the writer thread. `directory` is the daemon's auth directory, already checked.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const std::string& directory,
                                                        Options options);

  ~AuditLog() override;
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  void Record(AuditRecord record) override;

  // Blocks until every record queued before the call has been written (or failed to be).
  void Flush();

  // Records dropped because the queue was full, since the start.
  uint64_t dropped() const;
  const std::string& path() const { return path_; }

  // One record as its JSON line (with the trailing newline). Exposed for tests.
  static std::string FormatLine(const AuditRecord& record);

 private:
  AuditLog(std::string directory, Options options, int fd, size_t size);

  void WriterLoop();
  // Writer thread only.
  void WriteBatch(const std::vector<AuditRecord>& batch, uint64_t dropped);
  // FormatLine's text, appended to `line`, reusing what repeats from the previous record.
  void AppendLine(std::string& line, const AuditRecord& record);
  bool Append(const std::string& text);
  bool Rotate();
  bool ReopenIfReplaced();
  void LogWriteError(const std::string& what);

  const std::string directory_;
  const std::string path_;
  const std::string rotated_path_;
  const Options options_;

  // Writer thread only (and the destructor, after the writer has stopped).
  int fd_ = -1;
  size_t size_ = 0;
  uint64_t lost_to_errors_ = 0;  // records whose write failed, not yet reported in the file
  bool partial_line_ = false;    // the last write stopped inside a line
  std::string line_;             // the line being formatted
  int64_t cached_second_ = 0;    // AppendLine's cache: the time stamp up to the seconds' '.'
  std::string cached_time_;
  PeerIdentityPtr cached_peer_;  // and the last connection's identity fields
  std::string cached_peer_text_;
  RateLimitedLog error_log_;

  mutable absl::Mutex mu_;
  absl::CondVar wake_;
  std::vector<AuditRecord> queue_ ABSL_GUARDED_BY(mu_);
  bool writer_sleeping_ ABSL_GUARDED_BY(mu_) = false;  // idle: the next record wakes it
  bool flush_requested_ ABSL_GUARDED_BY(mu_) = false;  // cuts the pause between batches short
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t dropped_total_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_unreported_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t accepted_ ABSL_GUARDED_BY(mu_) = 0;  // records queued (and drop notices), ever
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;   // of those, handled by the writer

  std::thread writer_;
};

}  // namespace operator_auth
