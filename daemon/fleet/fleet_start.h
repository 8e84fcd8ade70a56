// Joining the fleet at start (authd.json "fleet"): the key, the etcd client, the shared storage,
// and the import of the local providers.json (fleet_import.h). main.cc turns the config into
// FleetStartOptions and serves the storage this returns in place of the local file, and hands the
// local file to FleetLocalImport (fleet_local_import.h), which goes on importing it.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "daemon/core/file_auth_storage.h"
#include "daemon/core/trusted_path.h"
#include "daemon/fleet/etcd_kv.h"
#include "daemon/fleet/fleet_import.h"
#include "daemon/fleet/fleet_storage.h"

namespace operator_auth {

struct FleetStartOptions {
  std::string name;
  std::string key_file;
  EtcdKvOptions etcd;
  std::string auth_directory;  // where the local providers.json lives
  std::string holder;          // this daemon's name in claims, e.g. "host:pid"
};

struct FleetStart {
  std::unique_ptr<FleetStorage> storage;
  // The local providers.json, for FleetLocalImport to go on bringing into the fleet.
  std::unique_ptr<FileAuthStorage> local;
  std::string key_fingerprint;
  FleetImportReport import;
};

// An error for a key file that cannot be trusted or read or bad TLS files; UNAVAILABLE when the
// local file holds credentials and the cluster cannot take them (the file is then left as it
// was, and a restart tries again). A local file that does not load, or a fleet document that does
// not open with this key, is not an error: the file is kept, and `import.local_problem` says why
// (status shows it). A cluster that is down is not an error when there is nothing to import: the
// storage starts and says so in its status.
absl::StatusOr<FleetStart> StartFleet(const FleetStartOptions& options,
                                      const TrustBoundary& boundary);

}  // namespace operator_auth
