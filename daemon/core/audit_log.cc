#include "daemon/core/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/core/posix_error.h"
#include "daemon/core/thread_start.h"
#include "daemon/core/trusted_path.h"

namespace operator_auth {
namespace {

// At most this much text per write(): a batch of a full queue is written in a few calls.
constexpr size_t kMaxWriteChunk = 256 * 1024;

// The line format is written by hand, not through nlohmann::json: the writer formats every
// record, and a JSON object per line cost about 2 us of the writer's CPU per record (authd_bench),
// a few per cent of a 2-core machine at GetApiKey's full rate.

void AppendDigits(std::string& out, int64_t value, int width) {
  char digits[24];
  int n = 0;
  const bool negative = value < 0;
  uint64_t v = negative ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < 20);
  if (negative) out.push_back('-');
  for (int pad = n; pad < width; ++pad) out.push_back('0');
  while (n > 0) out.push_back(digits[--n]);
}

// "2026-12-05T03:01:02.123Z"
void AppendUtcMillis(std::string& out, absl::Time time) {
  const absl::CivilSecond cs = absl::ToCivilSecond(time, absl::UTCTimeZone());
  const int64_t ms = ((absl::ToUnixMillis(time) % 1000) + 1000) % 1000;
  out.push_back('"');
  AppendDigits(out, cs.year(), 4);
  out.push_back('-');
  AppendDigits(out, cs.month(), 2);
  out.push_back('-');
  AppendDigits(out, cs.day(), 2);
  out.push_back('T');
  AppendDigits(out, cs.hour(), 2);
  out.push_back(':');
  AppendDigits(out, cs.minute(), 2);
  out.push_back(':');
  AppendDigits(out, cs.second(), 2);
  out.push_back('.');
  AppendDigits(out, ms, 3);
  out.append("Z\"");
}

// The length of the valid UTF-8 sequence at the start of `s` (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF), or 0 when it is not one.
size_t Utf8SequenceLength(const unsigned char* s, size_t available) {
  const unsigned char c = s[0];
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the second byte's range
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0) low = 0xA0;
    if (c == 0xED) high = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0) low = 0x90;
    if (c == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (available < length || s[1] < low || s[1] > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (s[i] < 0x80 || s[i] > 0xBF) return 0;
  }
  return length;
}

// `s` as a JSON string: quotes, backslashes and control characters escaped; bytes that are not
// UTF-8 (an exe path may hold any) replaced by U+FFFD.
void AppendJsonString(std::string& out, absl::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  const auto* bytes = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = bytes[i];
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(bytes + i, s.size() - i);
      if (length == 0) {
        out.append("\xEF\xBF\xBD");
        ++i;
      } else {
        out.append(s.data() + i, length);
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

std::string DropNotice(absl::Time time, uint64_t count, const char* reason) {
  std::string line = "{\"time\":";
  AppendUtcMillis(line, time);
  line.append(",\"dropped\":");
  line.append(std::to_string(count));
  line.append(",\"reason\":");
  AppendJsonString(line, reason);
  line.append("}\n");
  return line;
}

// Opens `path` for appending, creating it 0600, and checks an existing file: a regular file, ours,
// not writable by group or others. Read bits for group or others are removed.
absl::StatusOr<int> OpenAuditFile(const std::string& path, size_t& size) {
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0) {
    if (errno == ELOOP) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is a symlink; refusing to follow it (remove it)"));
    }
    if (errno == EISDIR || errno == ENXIO) {  // a directory, or a FIFO nobody reads
      return absl::FailedPreconditionError(absl::StrCat(path, " is not a regular file"));
    }
    // Not a refusal: the file cannot be opened now (a read-only or full file system, a missing
    // directory). The writer tries again with each batch.
    return absl::UnavailableError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  struct stat st {};
  absl::Status verdict;
  if (fstat(fd, &st) != 0) {
    verdict = PosixError(errno, "stat", path);
  } else if (!S_ISREG(st.st_mode)) {
    verdict = absl::FailedPreconditionError(absl::StrCat(path, " is not a regular file"));
  } else if (st.st_uid != geteuid()) {
    verdict = absl::PermissionDeniedError(absl::StrCat("bad ownership for ", path,
                                                       ": owned by uid ", st.st_uid,
                                                       "; it must be owned by uid ", geteuid()));
  } else {
    verdict = CheckOwnerAndMode(path, st, TrustedRole::kFile, geteuid());
  }
  if (verdict.ok() && (st.st_mode & 077) != 0 && fchmod(fd, 0600) != 0) {
    verdict = PosixError(errno, "chmod 0600", path);
  }
  if (!verdict.ok()) {
    close(fd);
    return verdict;
  }
  // Back to blocking writes: O_NONBLOCK only kept a FIFO planted under the name from hanging us.
  (void)fcntl(fd, F_SETFL, O_APPEND);
  size = static_cast<size_t>(st.st_size);
  return fd;
}

}  // namespace

namespace {

// The identity fields of a line: the same for every call on one connection.
void AppendPeer(std::string& line, const PeerIdentity* peer) {
  if (peer != nullptr) {
    line.append(",\"pid\":");
    line.append(std::to_string(peer->pid));
    line.append(",\"uid\":");
    line.append(std::to_string(peer->uid));
    line.append(",\"exe\":");
    AppendJsonString(line, peer->exe);
    line.append(",\"unit\":");
    AppendJsonString(line, peer->unit);
  } else {
    // Unknown identity: the fields are there, and say so.
    line.append(",\"pid\":null,\"uid\":null,\"exe\":\"\",\"unit\":\"\"");
  }
}

// Everything after the identity fields, newline included.
void AppendCall(std::string& line, const AuditRecord& record) {
  line.append(",\"rule\":");
  AppendJsonString(line, record.rule);
  line.append(",\"method\":");
  AppendJsonString(line, record.method != nullptr ? record.method : "");
  line.append(",\"provider\":");
  AppendJsonString(line, record.provider);
  line.append(",\"account\":");
  AppendJsonString(line, record.account);
  line.append(",\"outcome\":");
  AppendJsonString(line, record.outcome);
  line.append("}\n");
}

}  // namespace

std::string AuditLog::FormatLine(const AuditRecord& record) {
  std::string line;
  line.reserve(256);
  line.append("{\"time\":");
  AppendUtcMillis(line, record.time);
  AppendPeer(line, record.peer.get());
  AppendCall(line, record);
  return line;
}

void AuditLog::AppendLine(std::string& line, const AuditRecord& record) {
  // The same text as FormatLine, with what repeats from line to line formatted once: the
  // second of the time stamp, and the identity of the connection (held, so that its address
  // cannot be reused by another connection's while cached).
  const int64_t ms = absl::ToUnixMillis(record.time);
  const int64_t second = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  if (second != cached_second_ || cached_time_.empty()) {
    cached_second_ = second;
    cached_time_.clear();
    AppendUtcMillis(cached_time_, absl::FromUnixSeconds(second));
    cached_time_.resize(cached_time_.size() - 5);  // keep '"' ... "SS.", drop "000Z\""
  }
  line.append("{\"time\":");
  line.append(cached_time_);
  AppendDigits(line, ms - second * 1000, 3);
  line.append("Z\"");
  if (record.peer != cached_peer_ || cached_peer_text_.empty()) {
    cached_peer_ = record.peer;
    cached_peer_text_.clear();
    AppendPeer(cached_peer_text_, record.peer.get());
  }
  line.append(cached_peer_text_);
  AppendCall(line, record);
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& directory,
                                                         Options options) {
  if (options.max_bytes == 0 || options.max_queued == 0) {
    return absl::InvalidArgumentError("audit log: max_bytes and max_queued must be positive");
  }
  size_t size = 0;
  absl::StatusOr<int> fd = OpenAuditFile(absl::StrCat(directory, "/", kFileName), size);
  if (!fd.ok() && !absl::IsUnavailable(fd.status())) return fd.status();
  if (!fd.ok()) {
    spdlog::error("audit log: {}; records are counted and the file is tried again with each batch",
                  std::string(fd.status().message()));
  }
  std::unique_ptr<AuditLog> log(
      new AuditLog(directory, std::move(options), fd.ok() ? *fd : -1, size));
  absl::StatusOr<std::thread> writer =
      StartThread("the audit log writer", [raw = log.get()] { raw->WriterLoop(); });
  if (!writer.ok()) return writer.status();  // the destructor closes the file
  log->writer_ = *std::move(writer);
  return log;
}

AuditLog::AuditLog(std::string directory, Options options, int fd, size_t size)
    : directory_(std::move(directory)),
      path_(absl::StrCat(directory_, "/", kFileName)),
      rotated_path_(absl::StrCat(directory_, "/", kRotatedFileName)),
      options_(std::move(options)),
      fd_(fd),
      size_(size),
      error_log_(3, absl::Minutes(1)) {
  absl::MutexLock lock(&mu_);
  queue_.reserve(options_.max_queued);
}

AuditLog::~AuditLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    wake_.Signal();
  }
  if (writer_.joinable()) writer_.join();
  if (fd_ >= 0) close(fd_);
}

void AuditLog::Record(AuditRecord record) {
  absl::MutexLock lock(&mu_);
  if (queue_.size() >= options_.max_queued) {
    ++dropped_total_;
    ++dropped_unreported_;
    return;
  }
  queue_.push_back(std::move(record));
  ++accepted_;
  // Only an idle writer is woken, or one pausing between batches when the queue gets half full:
  // a busy daemon wakes it about once per batch_interval, not once per call.
  if (writer_sleeping_ || queue_.size() == options_.max_queued / 2) {
    writer_sleeping_ = false;
    wake_.Signal();
  }
}

void AuditLog::Flush() {
  absl::MutexLock lock(&mu_);
  const uint64_t target = accepted_;
  flush_requested_ = true;
  writer_sleeping_ = false;
  wake_.Signal();
  auto done = [this, target]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return written_ >= target; };
  mu_.Await(absl::Condition(&done));
}

uint64_t AuditLog::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_total_;
}

void AuditLog::WriterLoop() {
  std::vector<AuditRecord> batch;
  batch.reserve(options_.max_queued);
  while (true) {
    uint64_t dropped = 0;
    {
      absl::MutexLock lock(&mu_);
      while (queue_.empty() && dropped_unreported_ == 0 && !stopping_) {
        writer_sleeping_ = true;
        wake_.Wait(&mu_);
      }
      writer_sleeping_ = false;
      if (queue_.empty() && dropped_unreported_ == 0 && stopping_) return;
      batch.swap(queue_);
      dropped = dropped_unreported_;
      dropped_unreported_ = 0;
    }
    if (options_.before_write) options_.before_write();
    WriteBatch(batch, dropped);
    const size_t batch_size = batch.size();
    batch.clear();
    absl::MutexLock lock(&mu_);
    written_ += batch_size;
    // Let records gather before the next batch (see Options::batch_interval).
    const absl::Time until = absl::Now() + options_.batch_interval;
    while (!stopping_ && !flush_requested_ && queue_.size() < options_.max_queued / 2) {
      if (wake_.WaitWithDeadline(&mu_, until)) break;  // the interval is over
    }
    flush_requested_ = false;
  }
}

void AuditLog::WriteBatch(const std::vector<AuditRecord>& batch, uint64_t dropped) {
  (void)ReopenIfReplaced();
  std::string text;
  if (lost_to_errors_ > 0) {
    text += DropNotice(absl::Now(), lost_to_errors_, "write failed");
  }
  const uint64_t lost_before = lost_to_errors_;
  lost_to_errors_ = 0;
  // Records `text` stands for: when its write fails they are counted again, so the notice of
  // earlier losses is not lost with it.
  uint64_t pending = lost_before;
  auto write_out = [&]() {
    if (text.empty()) return;
    if (!Append(text)) lost_to_errors_ += pending;
    text.clear();
    pending = 0;
  };
  auto add = [&](const std::string& line, bool is_record) {
    // Rotate at a line boundary: the file then never passes max_bytes unless one line does.
    if (size_ + text.size() + line.size() > options_.max_bytes && size_ + text.size() > 0) {
      write_out();
      if (size_ > 0) (void)Rotate();
    }
    text += line;
    if (is_record) ++pending;
    if (text.size() >= kMaxWriteChunk) write_out();
  };
  for (const AuditRecord& record : batch) {
    line_.clear();
    AppendLine(line_, record);
    add(line_, true);
  }
  // The notice goes after the records that found room: it counts those that came while they
  // waited.
  if (dropped > 0) add(DropNotice(absl::Now(), dropped, "queue full"), false);
  write_out();
}

bool AuditLog::Append(const std::string& text) {
  if (fd_ < 0 && !ReopenIfReplaced()) return false;
  // A write cut short (a full disk) left part of a line: end it, so that only that record is
  // lost and the next one starts on a line of its own.
  if (partial_line_) {
    if (write(fd_, "\n", 1) != 1) {
      LogWriteError(absl::StrCat("cannot write ", path_, ": ", std::strerror(errno)));
      return false;
    }
    partial_line_ = false;
    ++size_;
  }
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      LogWriteError(absl::StrCat("cannot write ", path_, ": ", std::strerror(errno)));
      partial_line_ = done > 0;
      return false;
    }
    done += static_cast<size_t>(n);
    size_ += static_cast<size_t>(n);
  }
  return true;
}

bool AuditLog::Rotate() {
  if (rename(path_.c_str(), rotated_path_.c_str()) != 0) {
    LogWriteError(absl::StrCat("cannot rotate ", path_, " to ", rotated_path_, ": ",
                               std::strerror(errno), "; it keeps growing"));
    return false;
  }
  close(fd_);
  fd_ = -1;
  size_ = 0;
  partial_line_ = false;
  return ReopenIfReplaced();
}

// (Re)opens the file when we have none, or when ours is no longer at the path (removed, or
// rotated by another daemon on the same home).
bool AuditLog::ReopenIfReplaced() {
  if (fd_ >= 0) {
    struct stat at_path {};
    struct stat ours {};
    if (stat(path_.c_str(), &at_path) == 0 && fstat(fd_, &ours) == 0 &&
        at_path.st_ino == ours.st_ino && at_path.st_dev == ours.st_dev) {
      return true;
    }
  }
  size_t size = 0;
  absl::StatusOr<int> fd = OpenAuditFile(path_, size);
  if (!fd.ok()) {
    LogWriteError(std::string(fd.status().message()));
    return fd_ >= 0;  // keep writing the one we have rather than nothing
  }
  if (fd_ >= 0) close(fd_);
  fd_ = *fd;
  size_ = size;
  partial_line_ = false;  // another file: its last line is not ours to end
  return true;
}

void AuditLog::LogWriteError(const std::string& what) {
  RateLimitedLog::Verdict verdict = error_log_.Admit();
  if (!verdict.write) return;
  if (verdict.dropped_before > 0) {
    spdlog::error("audit log: {} ({} similar message(s) suppressed)", what, verdict.dropped_before);
  } else {
    spdlog::error("audit log: {}", what);
  }
}

}  // namespace operator_auth
