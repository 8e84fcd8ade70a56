#include "daemon/fleet/fleet_start.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/core/file_auth_storage.h"
#include "daemon/fleet/fleet_key.h"
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
  if (absl::IsFailedPrecondition(imported.status())) {
    // The local file does not load, or the fleet's document does not open with our key: serve
    // the fleet as it is (nothing, for a wrong key), unhealthy, and keep the file untouched.
    start.import.local_problem =
        absl::StrCat((*local)->path(), " was not brought into fleet '", options.name,
                     "' and is kept as it is: ", imported.status().message());
    spdlog::error("{}", start.import.local_problem);
    return start;
  }
  if (!imported.ok()) {
    return absl::Status(imported.status().code(),
                        absl::StrCat("cannot bring ", (*local)->path(), " into fleet '",
                                     options.name, "': ", imported.status().message()));
  }
  start.import = *std::move(imported);
  // Credential keys name a provider and an account, never a secret.
  if (start.import.seeded) {
    spdlog::info("fleet '{}': created from {} ({})", options.name, (*local)->path(),
                 absl::StrJoin(start.import.added, ", "));
  } else if (!start.import.added.empty() || !start.import.kept.empty() ||
             !start.import.replaced.empty()) {
    auto list = [](const std::vector<std::string>& keys) {
      return keys.empty() ? std::string("nothing") : absl::StrJoin(keys, ", ");
    };
    spdlog::info(
        "fleet '{}': from {}, added {}; replaced with a newer local login {}; kept the fleet's "
        "copy of {}",
        options.name, (*local)->path(), list(start.import.added), list(start.import.replaced),
        list(start.import.kept));
  }
  if (!start.import.local_problem.empty()) spdlog::error("{}", start.import.local_problem);
  return start;
}

}  // namespace operator_auth
