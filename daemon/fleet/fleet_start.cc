#include "daemon/fleet/fleet_start.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/fleet/fleet_key.h"
#include "daemon/fleet/fleet_local_import.h"
#include "spdlog/spdlog.h"

namespace operator_auth {

absl::StatusOr<FleetStart> StartFleet(const FleetStartOptions& options,
                                      const TrustBoundary& boundary) {
  absl::StatusOr<FleetKey> key = FleetKey::Load(options.key_file, boundary);
  if (!key.ok()) {
    return absl::Status(key.status().code(), absl::StrCat("refusing the fleet key ",
                                                          options.key_file, ": ",
                                                          key.status().message()));
  }
  EtcdKvOptions etcd = options.etcd;
  etcd.boundary = boundary;
  absl::StatusOr<std::unique_ptr<EtcdKv>> kv = EtcdKv::Create(etcd);
  if (!kv.ok()) return kv.status();
  FleetStart start;
  start.key_fingerprint = key->Fingerprint();
  FleetStorageOptions storage_options;
  storage_options.name = options.name;
  storage_options.holder = options.holder;
  storage_options.journal_directory = options.auth_directory + "/fleet-journal";
  storage_options.journal_boundary = boundary;
  start.storage = FleetStorage::Open(std::shared_ptr<FleetKv>(*std::move(kv)), *std::move(key),
                                     storage_options);

  absl::StatusOr<std::unique_ptr<FileAuthStorage>> local =
      FileAuthStorage::Open(options.auth_directory);
  if (!local.ok()) return local.status();
  absl::StatusOr<FleetImportReport> imported = ImportLocalDocument(**local, *start.storage);
  const std::string path = (*local)->path();
  start.local = *std::move(local);
  if (absl::IsFailedPrecondition(imported.status())) {
    // The local file does not load, or the fleet's document does not open with our key: serve
    // the fleet as it is (nothing, for a wrong key), unhealthy, and keep the file untouched.
    start.import.local_problem = LocalImportProblem(path, options.name, imported.status());
    spdlog::error("{}", start.import.local_problem);
    return start;
  }
  if (!imported.ok())
    return absl::Status(imported.status().code(),
                        LocalImportProblem(path, options.name, imported.status()));
  start.import = *std::move(imported);
  LogLocalImport(path, options.name, start.import);
  if (!start.import.local_problem.empty()) spdlog::error("{}", start.import.local_problem);
  return start;
}

}  // namespace operator_auth
