#include "daemon/fleet/fleet_import.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"

namespace operator_auth {

absl::StatusOr<FleetImportReport> ImportLocalDocument(FileAuthStorage& local, FleetStorage& fleet) {
  absl::StatusOr<AuthStorage::LockHold> hold = local.HoldLock();
  if (!hold.ok()) return hold.status();
  CredentialDocument copy;
  absl::Status read = local.Update([&copy](CredentialDocument& document) -> absl::StatusOr<bool> {
    copy = document;
    return false;
  });
  if (!read.ok()) {
    // The load error names the file and why ("PATH: not valid JSON (error at byte 54)"); the
    // refused read wraps the same in a write's words.
    std::string why = local.Snapshot()->load_error;
    if (why.empty()) why = std::string(read.message());
    return absl::FailedPreconditionError(absl::StrCat(why, "; fix or remove it"));
  }
  FleetImportReport report;
  const std::map<std::string, Credential> credentials = copy.Credentials();
  if (credentials.empty()) return report;

  absl::StatusOr<bool> seeded = fleet.SeedIfEmpty(copy);
  if (!seeded.ok()) return seeded.status();
  report.seeded = *seeded;
  if (report.seeded) {
    for (const auto& [key, credential] : credentials) report.added.push_back(key);
  } else {
    absl::Status merged = fleet.Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
      report.added.clear();
      report.kept.clear();
      report.replaced.clear();
      const std::map<std::string, Credential> held = document.Credentials();
      for (const auto& [key, credential] : credentials) {
        auto theirs = held.find(key);
        if (theirs == held.end()) {
          document.CopyEntry(copy, key);  // as it is: fields this daemon does not know survive
          // A default account added here keeps the name it goes by ("anthropic@personal").
          if (key.find('@') == std::string::npos) document.CopyDefaultAccountName(copy, key);
          report.added.push_back(key);
        } else if (!document.SameEntry(copy, key) && credential.type == CredentialType::kOAuth &&
                   theirs->second.type == CredentialType::kOAuth &&
                   credential.expires_unix_ms > theirs->second.expires_unix_ms) {
          // A login made here after the fleet's: newer than anything the fleet rotated from an
          // older copy, which always expires earlier than its successor.
          document.CopyEntry(copy, key);
          report.replaced.push_back(key);
        } else {
          report.kept.push_back(key);
        }
      }
      return !report.added.empty() || !report.replaced.empty();
    });
    if (!merged.ok()) return merged;
  }
  // Only an emptied file can be trusted not to hold what the fleet lacks: check before emptying.
  std::shared_ptr<const CredentialSnapshot> held = fleet.Snapshot();
  for (const auto& [key, credential] : credentials) {
    if (!held->credentials.contains(key)) {
      return absl::UnavailableError(absl::StrCat(
          "the fleet does not hold ", key, " after the import; ", local.path(), " is kept"));
    }
  }
  absl::Status emptied = local.Update([](CredentialDocument& document) -> absl::StatusOr<bool> {
    document = CredentialDocument();
    return true;
  });
  if (!emptied.ok()) {
    report.local_problem = absl::StrCat(local.path(),
                                        " still holds credentials the fleet now owns (emptying it "
                                        "failed: ",
                                        emptied.message(), "); remove them by hand");
  }
  return report;
}

}  // namespace operator_auth
