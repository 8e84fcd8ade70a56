// The fleet's refresh journal (issue #14): a token endpoint's answer, kept on this host's disk
// from the moment it arrives until the fleet holds it. Between the provider's answer and the
// compare-and-swap that stores it, the daemon may crash or the cluster may lose quorum; the
// provider has then rotated the refresh token, and without the answer every host would be logged
// out. FleetStorage writes the answer here first (AuthStorage::JournalRefresh), removes it once
// the write is settled, and replays what is left whenever it reads the fleet again.
//
// One file per credential key in the journal directory (auth/fleet-journal/, 0700), named by the
// key in hex, 0600, written atomically. Its contents are sealed with the fleet key
// (fleet_key.h), with "/operator-authd/<fleet>/journal/<credential key>" as associated data, so a
// copy under another name or from another fleet does not open. Thread-safe (each call works on
// its own file; concurrent calls for one key are serialized by RefreshCoordinator's single
// flight per provider).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/core/credential.h"
#include "daemon/core/secret_string.h"
#include "daemon/core/trusted_path.h"
#include "daemon/fleet/fleet_key.h"

namespace operator_auth {

class FleetJournal {
 public:
  struct Entry {
    std::string key;            // the credential key the refresh was for
    SecretString spent_refresh;  // the refresh token the endpoint took
    Credential fresh;           // what it gave back
  };

  // `directory` is created (0700) on the first Record.
  FleetJournal(std::string directory, FleetKey key, std::string fleet_name,
               TrustBoundary boundary);

  absl::Status Record(const Entry& entry);
  // Forgets the entry for `key` (no error when there is none).
  absl::Status Remove(const std::string& key);
  // Every entry that opens. One that does not (another fleet key, a damaged file) is left on disk
  // and described in `problems`, never quoted.
  std::vector<Entry> Entries(std::vector<std::string>* problems) const;

  const std::string& directory() const { return directory_; }

 private:
  std::string PathOf(const std::string& key) const;
  std::string AssociatedData(const std::string& key) const;

  const std::string directory_;
  const FleetKey key_;
  const std::string fleet_name_;
  const TrustBoundary boundary_;
};

}  // namespace operator_auth
