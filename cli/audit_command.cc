#include "cli/audit_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/audit_line.h"
#include "cli/audit_provider_filter.h"
#include "cli/exit_status.h"
#include "cli/interrupt_watch.h"
#include "common/default_paths.h"
#include "operator_auth/auth_client.h"

namespace operator_auth::cli {
namespace {

constexpr absl::Duration kFollowPoll = absl::Milliseconds(100);
constexpr size_t kReadChunk = 64 * 1024;

// Reads one audit file from where it last stopped, line by line; a last line without its newline
// waits for the rest.
class AuditFileReader {
 public:
  AuditFileReader(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~AuditFileReader() { close(fd_); }
  AuditFileReader(const AuditFileReader&) = delete;
  AuditFileReader& operator=(const AuditFileReader&) = delete;

  // Opens `path`; nullopt when it does not exist, an error for anything else.
  static absl::StatusOr<std::unique_ptr<AuditFileReader>> Open(const std::string& path) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      if (errno == ENOENT) return std::unique_ptr<AuditFileReader>();
      return absl::UnavailableError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
    }
    return std::make_unique<AuditFileReader>(path, fd);
  }

  // Calls `on_line(line, number)` for every complete line added since the last call.
  template <typename OnLine>
  absl::Status ReadNew(OnLine on_line) {
    char chunk[kReadChunk];
    while (true) {
      const ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return absl::UnavailableError(
            absl::StrCat("cannot read ", path_, ": ", std::strerror(errno)));
      }
      if (n == 0) return absl::OkStatus();
      pending_.append(chunk, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t end; (end = pending_.find('\n', start)) != std::string::npos; start = end + 1) {
        on_line(absl::string_view(pending_).substr(start, end - start), ++line_number_);
      }
      pending_.erase(0, start);
    }
  }

  // Whether `path_` now names another file (rotated away, or removed).
  bool Replaced() const {
    struct stat at_path {};
    struct stat ours {};
    if (stat(path_.c_str(), &at_path) != 0 || fstat(fd_, &ours) != 0) return true;
    return at_path.st_ino != ours.st_ino || at_path.st_dev != ours.st_dev;
  }

  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  const int fd_;
  std::string pending_;
  size_t line_number_ = 0;
};

class AuditPrinter {
 public:
  AuditPrinter(bool json, AuditFilter filter) : json_(json), filter_(std::move(filter)) {}

  void Line(const std::string& path, absl::string_view text, size_t number) {
    if (text.empty()) return;
    absl::StatusOr<nlohmann::json> line = ParseAuditLine(text);
    if (!line.ok()) {
      std::cerr << "operatorctl: " << path << ":" << number << ": " << line.status().message()
                << "; skipped\n";
      return;
    }
    if (!AuditLineMatches(*line, filter_)) return;
    if (json_) {
      std::cout << text << "\n";
    } else {
      if (!header_printed_) {
        std::cout << AuditTableHeader() << "\n";
        header_printed_ = true;
      }
      std::cout << AuditTableRow(*line, zone_) << "\n";
    }
    ++printed_;
  }

  size_t printed() const { return printed_; }

 private:
  const bool json_;
  const AuditFilter filter_;
  const absl::TimeZone zone_ = absl::LocalTimeZone();
  bool header_printed_ = false;
  size_t printed_ = 0;
};

}  // namespace

int RunAudit(const GlobalOptions& global, const AuditArguments& arguments) {
  const bool json = global.json;
  AuditFilter filter;
  if (!arguments.provider.empty()) {
    AuditProviderFilter provider = ResolveAuditProvider(arguments.provider, [&global] {
      return AuthClient(ClientOptionsFor(global)).ListProviders();
    });
    if (!provider.note.empty()) std::cerr << "operatorctl: note: " << provider.note << "\n";
    filter.provider = std::move(provider.id);
  }
  if (!arguments.since.empty()) {
    absl::StatusOr<absl::Duration> since = ParseSinceDuration(arguments.since);
    if (!since.ok()) return ReportUsageError(since.status().message());
    filter.since = absl::Now() - *since;
  }
  const std::string directory = DefaultOperatorHome() + "/auth";
  const std::string current_path = directory + "/audit.jsonl";
  AuditPrinter printer(json, filter);
  auto print = [&printer](const std::string& path) {
    return [&printer, &path](absl::string_view text, size_t number) {
      printer.Line(path, text, number);
    };
  };
  auto fail = [](const absl::Status& status) {
    std::cerr << "operatorctl: " << status.message() << "\n";
    return kExitFailure;
  };

  const std::string rotated_path = directory + "/audit.jsonl.1";
  absl::StatusOr<std::unique_ptr<AuditFileReader>> rotated = AuditFileReader::Open(rotated_path);
  if (!rotated.ok()) return fail(rotated.status());
  if (*rotated != nullptr) {
    if (absl::Status s = (*rotated)->ReadNew(print(rotated_path)); !s.ok()) return fail(s);
  }
  absl::StatusOr<std::unique_ptr<AuditFileReader>> current = AuditFileReader::Open(current_path);
  if (!current.ok()) return fail(current.status());
  if (*current == nullptr && *rotated == nullptr && !arguments.follow) {
    std::cerr << "operatorctl: no audit records yet at " << current_path << "\n";
    return kExitOk;
  }
  if (*current != nullptr) {
    if (absl::Status s = (*current)->ReadNew(print(current_path)); !s.ok()) return fail(s);
  }
  std::cout.flush();
  if (!arguments.follow) return kExitOk;

  std::atomic<bool> interrupted{false};
  InterruptWatch watch([&interrupted](int) { interrupted.store(true); });
  std::unique_ptr<AuditFileReader> reader = *std::move(current);
  while (!interrupted.load()) {
    absl::SleepFor(kFollowPoll);
    if (reader != nullptr) {
      if (absl::Status s = reader->ReadNew(print(current_path)); !s.ok()) return fail(s);
    }
    if (reader == nullptr || reader->Replaced()) {
      // Rotated (or not there yet): what the old file got last was read above; the new one is
      // read from its start.
      if (reader != nullptr) {
        if (absl::Status s = reader->ReadNew(print(current_path)); !s.ok()) return fail(s);
      }
      absl::StatusOr<std::unique_ptr<AuditFileReader>> next = AuditFileReader::Open(current_path);
      if (!next.ok()) return fail(next.status());
      if (*next != nullptr || reader == nullptr) reader = *std::move(next);
      if (reader != nullptr) {
        if (absl::Status s = reader->ReadNew(print(current_path)); !s.ok()) return fail(s);
      }
    }
    std::cout.flush();
  }
  return kExitOk;
}

}  // namespace operator_auth::cli
