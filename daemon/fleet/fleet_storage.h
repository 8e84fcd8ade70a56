// AuthStorage on an etcd cluster several daemons share (issue #14): one providers document per
// fleet, sealed with the fleet key, kept current in every daemon by a watch.
//
// Keys, under "/operator-authd/<name>/":
//   providers  the CredentialDocument's JSON, sealed (FleetKey) with this key as associated data
//   claim      who may call a token endpoint now: this daemon's holder id, under a lease
//
// The refresh protocol is RefreshCoordinator's, unchanged: HoldLock() is the fleet-wide claim,
// Update() a read-modify-write. How that gives one token-endpoint call fleet-wide:
//   - A refresh takes the claim (a create-only put under a lease this daemon renews every third
//     of its TTL), re-reads the document, and calls the endpoint only if the token is still
//     stale. Everyone else waits for the claim to go (a watch on the claim key) and then finds
//     the fresh token on re-reading: no second call.
//   - The write of the rotated token is a compare-and-swap on the document's mod_revision, not
//     on still holding the claim. A holder whose lease lapsed while its HTTP call was in flight
//     can therefore still save the token it was given, unless the document changed meanwhile;
//     then RefreshCoordinator's own check (is the refresh token we spent still the stored one?)
//     decides, on the re-read document.
//   - Fencing: the claim is only a way to avoid wasted calls; correctness of the stored document
//     rests on the compare-and-swap alone. What no protocol can fix: a holder paused past its
//     lease (SIGSTOP, a VM migration, a partition) while holding the provider's answer. Another
//     daemon takes the claim, sees the old token, and spends the same refresh token; with
//     single-use refresh tokens one of the two answers is then refused by the provider. The claim
//     TTL (10 s by default) bounds how long a pause must be for that to happen.
// A token endpoint's answer is journalled on this host's disk (sealed, 0600) before its
// compare-and-swap, and replayed at the next successful read, so neither a crash nor a lost
// quorum between the answer and the write loses the rotated token (fleet_journal.h).
// Without quorum: Snapshot() keeps serving what the last read or watch delivered; Update() and
// HoldLock() fail UNAVAILABLE, so no refresh happens locally. A document that does not open with
// this daemon's key is a load error: nothing of it is served and nothing is written.
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/core/auth_storage.h"
#include "daemon/core/change_listeners.h"
#include "daemon/core/trusted_path.h"
#include "daemon/fleet/fleet_journal.h"
#include "daemon/fleet/fleet_key.h"
#include "daemon/fleet/fleet_kv.h"

namespace operator_auth {

struct FleetStorageOptions {
  std::string name;    // the fleet's name: its keys live under /operator-authd/<name>/
  std::string holder;  // this daemon's name in claims (host, pid): for status and logs
  // HoldLock's wait for another holder: longer than the claim's lease, so that a holder that
  // died or stopped is outlasted and its claim taken over, rather than every waiter failing.
  absl::Duration lock_timeout = absl::Seconds(15);
  int64_t claim_ttl_seconds = 10;  // the claim's lease
  absl::Duration resync_pause = absl::Seconds(1);   // between attempts to re-read and re-watch
  absl::Duration probe_every = absl::Seconds(5);    // asks each member how it is, for status
  // Where refresh answers wait until the fleet holds them (fleet_journal.h); empty: no journal.
  std::string journal_directory;
  TrustBoundary journal_boundary = TrustBoundary::ForThisProcess();
};

class FleetStorage : public AuthStorage {
 public:
  // Reads the document and starts watching it. An unreachable cluster or a document sealed
  // under another key is not an error here: the storage starts empty and says so (load_error,
  // status()), and keeps trying.
  static std::unique_ptr<FleetStorage> Open(std::shared_ptr<FleetKv> kv, FleetKey key,
                                            FleetStorageOptions options);
  ~FleetStorage() override;

  // Creates the fleet's document from `initial` if there is none yet (create-if-absent: of two
  // daemons seeding at once exactly one wins). True when this call created it.
  absl::StatusOr<bool> SeedIfEmpty(const CredentialDocument& initial);

  std::shared_ptr<const CredentialSnapshot> Snapshot() override;
  absl::Status Update(const Mutation& mutate) override;
  absl::StatusOr<LockHold> HoldLock() override;
  std::vector<StorageError> DrainErrors() override { return errors_.Drain(); }
  std::string Describe() const override;
  uint64_t AddChangeListener(std::function<void()> listener) override;
  void RemoveChangeListener(uint64_t id) override;
  // kind "fleet", location the fleet's name; `reachable` while the last read or watch event came
  // through and opened.
  StorageStatus Status() override;
  // Reads the document and re-watches now (SIGHUP).
  void ForceReload() override;
  // The journal (options.journal_directory): written before the compare-and-swap, removed once it
  // is settled, replayed at every successful read of the fleet.
  void JournalRefresh(const std::string& key, const SecretString& spent_refresh,
                      const Credential& fresh) override;
  void RefreshSettled(const std::string& key) override;

  const std::string& document_key() const { return document_key_; }
  const std::string& claim_key() const { return claim_key_; }

 private:
  class Claim;
  FleetStorage(std::shared_ptr<FleetKv> kv, FleetKey key, FleetStorageOptions options);

  // Reads the document, installs it, and watches from the revision after. False when the read
  // failed (the storage keeps what it had).
  bool Resync();
  // Opens and parses `entry` (nullopt: no document yet).
  absl::StatusOr<CredentialDocument> Decode(const std::optional<KvEntry>& entry) const;
  // Replaces the snapshot when `mod_revision` is newer than what is held, and notifies.
  void Install(const CredentialDocument& document, int64_t mod_revision);
  void Problem(std::string message);
  void OnWatch(absl::StatusOr<std::vector<KvEvent>> events);
  void ResyncLoop();
  // Writes what the journal holds into the document where the refresh token it spent is still
  // stored, and forgets entries the fleet has moved past. Keeps them when the cluster does not
  // answer.
  void ReplayJournal();
  bool ShouldWake() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || resync_needed_; }

  const std::shared_ptr<FleetKv> kv_;
  const FleetKey key_;
  const FleetStorageOptions options_;
  const std::string document_key_;
  const std::string claim_key_;
  StorageErrorLog errors_;
  const std::unique_ptr<FleetJournal> journal_;  // null without a journal directory

  mutable absl::Mutex mu_;
  std::shared_ptr<const CredentialSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  StorageStatus status_ ABSL_GUARDED_BY(mu_);
  ChangeListeners on_change_ ABSL_GUARDED_BY(mu_);
  bool resync_needed_ ABSL_GUARDED_BY(mu_) = true;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::weak_ptr<Claim> claim_ ABSL_GUARDED_BY(mu_);

  absl::Mutex claim_mu_;            // one acquisition at a time; taken before mu_
  std::unique_ptr<KvWatch> watch_;  // only the resync thread (and the destructor) touch it
  std::thread resync_thread_;
};

}  // namespace operator_auth
