// A daemon joining a fleet brings its local auth/providers.json along, once (issue #14):
//   - An empty fleet takes the local document whole (FleetStorage::SeedIfEmpty, create-if-absent:
//     of two first daemons exactly one wins).
//   - A fleet that has a document gains the local credentials it lacks, each entry copied as it
//     is; a provider's default account it gains keeps the name it goes by locally ("_accounts"
//     "default"), unless the fleet already names its default or holds a named account by that
//     name. Where both hold a credential the fleet's copy is kept: a local copy of a token the
//     fleet has since rotated is stale, and spending its refresh token could get the login revoked
//     by reuse detection. The one exception is an OAuth login that expires later than the fleet's:
//     a rotated successor always expires after the copy it came from, so that one is a newer
//     login made on this host, and it replaces the fleet's.
//   - Then the local file is emptied to "{}" (an atomic replace, under providers.lock, so a
//     py-filelock tool finds a valid file), and from then on no refresh token stays on this host:
//     a local tool cannot refresh by itself and burn the fleet's token. No .bak is kept, since it
//     would keep the refresh token; the old disk blocks are not wiped.
// Idempotent: a crash between the fleet write and emptying the file re-runs as a merge at the
// next start, which adds nothing the fleet already holds. providers.lock is held throughout, so
// no py-filelock writer slips a credential in between the copy and the emptying.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/core/file_auth_storage.h"
#include "daemon/fleet/fleet_storage.h"

namespace operator_auth {

struct FleetImportReport {
  bool seeded = false;              // this daemon created the fleet's document
  std::vector<std::string> added;   // credential keys copied into the fleet
  std::vector<std::string> kept;    // keys both held: the fleet's copy was kept
  std::vector<std::string> replaced;  // keys both held: a newer local OAuth login replaced it
  // Empty when the local file holds no credential any more; otherwise why it still does (the
  // daemon serves the fleet anyway, and status shows this).
  std::string local_problem;
};

// FAILED_PRECONDITION when the local file does not load (nothing is imported, nothing is
// changed) or when the fleet's document does not open; UNAVAILABLE when the cluster cannot take
// the write (then the local file is left as it was).
absl::StatusOr<FleetImportReport> ImportLocalDocument(FileAuthStorage& local, FleetStorage& fleet);

}  // namespace operator_auth
