// Makes the daemon the one refresher of logins that agent CLIs keep in their own files (issue
// #12): `operatorctl auth import SOURCE` copies a vendor's logins into the storage, and with
// --keep-in-sync the daemon keeps the two in step from then on:
//  - Every refresh of a linked provider runs under the vendor's own lock (VendorLock), after
//    bringing in what changed in the vendor's file, and its result is written back into that
//    file before the lock is released. So neither side ever spends a refresh token the other
//    still holds, and the vendor's file never holds a spent refresh token for longer than the
//    write takes, even if the daemon is then stopped for a day.
//  - The daemon renews a linked token before the vendor's CLI would (RenewLead).
//  - A change on either side is carried to the other by a three-way merge against the login
//    both held at the last sync (VendorLink::synced): the vendor's side changed (a new login
//    with the vendor's CLI, or its own refresh while the daemon was stopped) -> adopted; only
//    ours changed -> written to the vendor's file, keeping every field the daemon does not own.
//    Both changed -> the vendor's wins: it is the newer login the user made there.
// A background thread looks when the vendor's file or the storage changes (inotify, ~1 s) and
// at least every minute. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/vendor_source.h"
#include "daemon/core/auth_storage.h"
#include "daemon/core/refresh_coordinator.h"
#include "daemon/core/refresh_participant.h"
#include "daemon/core/trusted_path.h"
#include "daemon/vendor/vendor_links.h"

namespace operator_auth {

struct ImportedLogin {
  std::string provider;
  CredentialType type = CredentialType::kUnknown;
  int64_t expires_unix_ms = 0;
  bool replaced = false;  // the storage held a credential for the provider before
};

struct ImportResult {
  std::string path;  // the real path read
  std::vector<ImportedLogin> logins;
  bool linked = false;
};

// What status shows about a link. No secret.
struct VendorLinkStatus {
  VendorSource source = VendorSource::kClaudeCode;
  std::string path;
  std::vector<std::string> providers;
  absl::Time last_sync = absl::InfinitePast();
  std::string last_error;  // empty when the last look succeeded
};

class VendorSync final : public RefreshParticipant {
 public:
  struct Options {
    absl::Duration poll_interval = absl::Seconds(1);
    absl::Duration full_look = absl::Minutes(1);
    // Longest wait for a vendor's lock held by its CLI.
    absl::Duration lock_timeout = absl::Seconds(10);
    // Added to a vendor's refresh lead: the daemon renews this much earlier than the vendor.
    absl::Duration lead_margin = absl::Minutes(5);
    // Non-empty: no vendor file is kept in sync, and this says why (in fleet mode a vendor's
    // lock covers one host only, so its CLI could spend a refresh token another host's daemon
    // is spending). Plain imports still work.
    std::string keep_in_sync_refused;
  };

  // Links live in `<auth_directory>/vendor_links.json`. `storage` and `coordinator` must outlive
  // this object. The owner makes it the coordinator's participant (SetParticipant), which keeps
  // it alive while a refresh uses it, and clears that before the coordinator goes.
  VendorSync(AuthStorage& storage, RefreshCoordinator& coordinator, std::string auth_directory,
             TrustBoundary boundary, Options options);
  ~VendorSync() override;

  // Reads the links file. An unreadable file leaves no link and is reported in status.
  absl::Status Load();
  // Starts the background thread.
  void Start();

  // Reads `path` (the vendor's file) and stores every login in it; with `keep_in_sync` links it.
  // NOT_FOUND when the file does not exist or holds no login; the ReadVendorFile errors for an
  // untrusted or malformed file. Nothing is written then. `account` (empty: the default) names
  // the account the logins are stored as; keep_in_sync works with the default account only.
  // `may_import`, when set, is asked about each login's provider after the file is read and
  // before anything is written; the first error it returns is the import's, and nothing is
  // written.
  using ProviderCheck = std::function<absl::Status(const std::string& provider)>;
  absl::StatusOr<ImportResult> Import(VendorSource source, const std::string& path,
                                      bool keep_in_sync, const std::string& account = "",
                                      const ProviderCheck& may_import = nullptr);
  // Ends the link of `source`; false when there was none. The files stay as they are.
  absl::StatusOr<bool> Unlink(VendorSource source);

  std::optional<VendorLinkStatus> LinkFor(const std::string& provider) const;
  std::vector<VendorLinkStatus> Links() const;
  std::string load_error() const;

  // RefreshParticipant.
  absl::StatusOr<Hold> BeforeRefresh(const std::string& provider) override;
  void AfterRefresh(const std::string& provider) override;
  absl::Duration RenewLead(const std::string& provider) const override;

  // One look at every link, as the thread takes it. Exposed for tests.
  void SyncAll(bool force);

 private:
  struct LinkState;
  struct RefreshHold;

  std::shared_ptr<LinkState> StateFor(const std::string& provider) const;
  // Brings the vendor's file and the storage in step. `state->mu` must be held; takes the
  // vendor's locks unless `locks_held`, and only when something is to be done.
  absl::Status Reconcile(LinkState& state, bool locks_held);
  absl::Status SaveLinks();
  void Loop();
  std::string LinksPath() const;

  AuthStorage& storage_;
  RefreshCoordinator& coordinator_;
  const std::string auth_directory_;
  const TrustBoundary boundary_;
  const Options options_;

  mutable absl::Mutex mu_;
  std::map<VendorSource, std::shared_ptr<LinkState>> links_ ABSL_GUARDED_BY(mu_);
  std::string load_error_ ABSL_GUARDED_BY(mu_);
  // Serializes writes of the links file.
  std::mutex save_mu_;

  absl::Mutex wake_mu_;
  bool stopping_ ABSL_GUARDED_BY(wake_mu_) = false;
  bool storage_changed_ ABSL_GUARDED_BY(wake_mu_) = true;
  uint64_t storage_listener_ = 0;
  std::thread thread_;
};

}  // namespace operator_auth
