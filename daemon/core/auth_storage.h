// Where provider credentials live. Readers take cheap immutable snapshots; writers run a
// read-modify-write function on the freshly re-read document under the storage's lock.
// Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/core/credential.h"
#include "daemon/core/credential_document.h"
#include "daemon/core/storage_error_log.h"

namespace operator_auth {

struct CredentialSnapshot {
  // Keyed by credential key: "PROVIDER" (default account) and "PROVIDER@ACCOUNT".
  std::map<std::string, Credential> credentials;
  // Non-empty while the backing file cannot be read or parsed. `credentials` then holds the last
  // successfully loaded state (empty if there never was one), and nothing is written.
  std::string load_error;
  // Provider id -> the name of its default account, where one was given (CredentialDocument).
  std::map<std::string, std::string> default_accounts;
};

// A server of remote storage as it answered its last probe.
struct StorageMember {
  std::string endpoint;
  bool reachable = false;
  bool leader = false;   // it is the leader it names
  std::string version;   // the server's version
  std::string problem;   // why not reachable, or the alarms it reported
};

// What `operatorctl daemon status` shows of where the credentials live. Gathered from memory: it
// never waits for a file, a lock or a server, and it holds no secret.
struct StorageStatus {
  std::string kind;        // "file", "fleet" or "memory"
  std::string location;    // the file's path, or the fleet's name
  std::string load_error;  // LastSnapshot()->load_error
  // Remote storage only. `reachable`: the last read or watch event came through; when false,
  // `problem` says why and the last snapshot is still served.
  bool reachable = true;
  std::string problem;
  int64_t revision = 0;  // the revision of the document held (0: none yet)
  absl::Time last_event = absl::InfinitePast();
  std::string endpoint;  // the server in use
  std::vector<StorageMember> members;  // as they answered the last probe
};

class AuthStorage {
 public:
  // Changes the document; returns true when it changed and must be written, false to leave the
  // file untouched, or an error that aborts the update.
  using Mutation = std::function<absl::StatusOr<bool>(CredentialDocument&)>;

  virtual ~AuthStorage() = default;

  // The current credentials, including changes other processes made since the last call.
  virtual std::shared_ptr<const CredentialSnapshot> Snapshot() = 0;

  // Re-reads the document under the storage's lock, applies `mutate`, and persists the result
  // when `mutate` says it changed. Fails without writing when the document cannot be loaded.
  virtual absl::Status Update(const Mutation& mutate) = 0;

  // Keeps the storage's cross-process lock while any copy lives (null where there is none).
  using LockHold = std::shared_ptr<const void>;
  // Takes the storage's lock for a slow step that must run under it (a token-endpoint call), or
  // shares the one this process already holds. Other processes wait for it; this process's
  // writers (Update) go on under it. UNAVAILABLE when another process keeps it past the lock
  // timeout.
  virtual absl::StatusOr<LockHold> HoldLock() { return LockHold(); }

  // The last snapshot taken, without looking for changes: never waits for a file or a lock.
  virtual std::shared_ptr<const CredentialSnapshot> LastSnapshot() { return Snapshot(); }

  // Errors recorded since the last drain.
  virtual std::vector<StorageError> DrainErrors() = 0;

  // A name for messages ("providers.json", "memory").
  virtual std::string Describe() const = 0;

  // For `daemon status`; see StorageStatus.
  virtual StorageStatus Status() {
    StorageStatus status;
    status.kind = "memory";
    status.location = Describe();
    status.load_error = LastSnapshot()->load_error;
    return status;
  }

  // Look for changes now rather than at the next scheduled look (SIGHUP).
  virtual void ForceReload() {}

  // A token endpoint's answer, about to be written by Update: `fresh` replaces the credential
  // whose refresh token `spent_refresh` the endpoint just took. The provider has rotated the
  // refresh token, so losing this answer logs the user out. A storage whose write can fail after
  // the answer came (a remote one: a crash, or the cluster losing quorum) keeps it durable until
  // RefreshSettled, and writes it itself later if need be. Never fails the refresh: a journal
  // that cannot be written is logged. Default: nothing (a local file's write is the journal).
  virtual void JournalRefresh(const std::string& key, const SecretString& spent_refresh,
                              const Credential& fresh) {
    (void)key;
    (void)spent_refresh;
    (void)fresh;
  }
  // The refresh's write is settled (stored, or made moot by a newer credential): forget the
  // journal entry. Not called when the write failed UNAVAILABLE.
  virtual void RefreshSettled(const std::string& key) { (void)key; }

  // Calls `listener` whenever the snapshot is replaced (our writes, and external edits once a
  // Snapshot() has read them), besides every other listener added. It runs under the storage's
  // lock: it must not block or call back into the storage. Returns the id that removes it; a
  // removed listener is never called after RemoveChangeListener returns.
  virtual uint64_t AddChangeListener(std::function<void()> listener) = 0;
  virtual void RemoveChangeListener(uint64_t id) = 0;
  // A descriptor that poll(2) reports readable while an external edit waits to be read by the
  // next Snapshot(); -1 when the storage cannot tell (then poll Snapshot() now and then).
  virtual int ExternalChangeFd() const { return -1; }
};

}  // namespace operator_auth
