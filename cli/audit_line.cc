#include "cli/audit_line.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace operator_auth::cli {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxLineBytes = 64 * 1024;
constexpr double kMaxSinceDays = 100 * 365;

std::string Text(const Json& line, const char* key) {
  auto it = line.find(key);
  if (it == line.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// A field for the terminal: control characters (an exe name may hold escape sequences) become
// '?', and an empty field "-".
std::string OrDash(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  return s.empty() ? "-" : s;
}

absl::Time TimeOf(const Json& line) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, Text(line, "time"), &time, &error)) {
    return absl::InfinitePast();
  }
  return time;
}

}  // namespace

absl::StatusOr<Json> ParseAuditLine(absl::string_view line) {
  if (line.size() > kMaxLineBytes) {
    return absl::InvalidArgumentError(absl::StrCat("longer than ", kMaxLineBytes, " bytes"));
  }
  Json parsed = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return absl::InvalidArgumentError("not valid JSON");
  if (!parsed.is_object()) return absl::InvalidArgumentError("not a JSON object");
  if (TimeOf(parsed) == absl::InfinitePast()) {
    return absl::InvalidArgumentError("no valid \"time\" (RFC 3339)");
  }
  return parsed;
}

bool AuditLineMatches(const Json& line, const AuditFilter& filter) {
  if (TimeOf(line) < filter.since) return false;
  if (filter.provider.empty() || line.contains("dropped")) return true;
  return Text(line, "provider") == filter.provider;
}

absl::StatusOr<absl::Duration> ParseSinceDuration(absl::string_view text) {
  const std::string trimmed(absl::StripAsciiWhitespace(text));
  absl::Duration duration;
  bool parsed = false;
  if (!trimmed.empty() && trimmed.back() == 'd') {
    double days = 0;
    if (absl::SimpleAtod(trimmed.substr(0, trimmed.size() - 1), &days) && std::isfinite(days) &&
        days <= kMaxSinceDays) {
      duration = absl::Hours(24) * days;
      parsed = true;
    }
  } else {
    parsed = absl::ParseDuration(trimmed, &duration);
  }
  if (!parsed || duration <= absl::ZeroDuration() || duration == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        "--since expects a positive duration such as 30s, 15m, 2h or 7d");
  }
  return duration;
}

std::string AuditTableHeader() {
  return absl::StrFormat("%-19s %7s %-16s %-24s %-12s %-16s %-28s %s", "TIME", "PID", "EXE", "UNIT",
                         "RULE", "METHOD", "PROVIDER", "OUTCOME");
}

std::string AuditTableRow(const Json& line, absl::TimeZone zone) {
  const std::string time = absl::FormatTime("%Y-%m-%d %H:%M:%S", TimeOf(line), zone);
  if (auto dropped = line.find("dropped"); dropped != line.end()) {
    return absl::StrCat(time, " (", dropped->is_number_unsigned() ? dropped->get<uint64_t>() : 0,
                        " record(s) not written: ", OrDash(Text(line, "reason")), ")");
  }
  std::string pid = "-";
  if (auto it = line.find("pid"); it != line.end() && it->is_number_integer()) {
    pid = absl::StrCat(it->get<int64_t>());
  }
  std::string exe = Text(line, "exe");
  if (const size_t slash = exe.rfind('/'); slash != std::string::npos) exe = exe.substr(slash + 1);
  std::string provider = Text(line, "provider");
  if (const std::string account = Text(line, "account"); !account.empty()) {
    provider = absl::StrCat(provider, "@", account);
  }
  return absl::StrFormat("%-19s %7s %-16s %-24s %-12s %-16s %-28s %s", time, pid, OrDash(exe),
                         OrDash(Text(line, "unit")), OrDash(Text(line, "rule")),
                         OrDash(Text(line, "method")), OrDash(provider),
                         OrDash(Text(line, "outcome")));
}

}  // namespace operator_auth::cli
