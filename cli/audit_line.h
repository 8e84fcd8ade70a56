// One line of the audit trail (auth/audit.jsonl, written by the daemon's AuditLog) as
// `operatorctl audit` sees it: parsed, judged against --provider and --since, and shown as a table
// row. A line is either a record ({"time", "pid", ..., "outcome"}) or a notice that records were
// dropped ({"time", "dropped", "reason"}). Pure functions; thread-safe.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace operator_auth::cli {

struct AuditFilter {
  std::string provider;                     // canonical id; empty: every provider
  absl::Time since = absl::InfinitePast();  // records at or after this time
};

// The line as a JSON object with a parseable "time"; INVALID_ARGUMENT saying what is wrong
// (never quoting the line).
absl::StatusOr<nlohmann::json> ParseAuditLine(absl::string_view line);

// Whether a parsed line passes `filter`. Drop notices pass any provider filter: the dropped
// records may have been for it.
bool AuditLineMatches(const nlohmann::json& line, const AuditFilter& filter);

// "30s", "15m", "2h", "7d", "1h30m": a positive duration. INVALID_ARGUMENT otherwise.
absl::StatusOr<absl::Duration> ParseSinceDuration(absl::string_view text);

// The table's header and one row: local time, pid, exe (base name), unit, rule, method,
// provider[@account], outcome; "-" for an empty field. Fixed widths, so rows printed one by one
// (--follow) line up.
std::string AuditTableHeader();
std::string AuditTableRow(const nlohmann::json& line, absl::TimeZone zone);

}  // namespace operator_auth::cli
