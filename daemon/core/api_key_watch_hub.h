// Pushes each watched provider's resolved key to its watchers: the current value at once, then
// every change (refresh, rotation, set, unset, logout, runtime override, an external edit of
// providers.json). One background thread re-resolves the watched providers when the storage or a
// runtime key changes, when an external edit is pending (inotify), and when a token is about to
// expire (which starts the single-flight refresh). Sinks must not block: a slow watcher keeps
// only the latest value it has not sent yet, so it holds up neither others nor the refresher.
// Resolution is ProviderAuthManager's, so a watcher sees exactly what GetApiKey would answer.
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/core/auth_storage.h"
#include "daemon/core/provider_auth_manager.h"

namespace operator_auth {

// One provider's resolution as a watcher sees it.
struct KeyUpdate {
  bool present = false;
  ResolvedKey key;                                // when present
  std::string reason;                             // when not: why nothing resolves (never a secret)
  absl::StatusCode code = absl::StatusCode::kOk;  // when not: GetApiKey's code

  bool operator==(const KeyUpdate& other) const;
};

// One client's share of the watch slots, so that one cannot take them all.
inline constexpr size_t kMaxWatchersPerPeer = 256;

class ApiKeyWatchHub {
 public:
  // Receives updates on the hub's thread or on a refresh thread, with the hub's lock held: it
  // must hand the update off and return, never block or call back into the hub.
  using Sink = std::function<void(const KeyUpdate&)>;

  struct Options {
    // Without inotify, how often external edits are looked for.
    absl::Duration stat_poll = absl::Seconds(1);
    // Past this many watchers, Watch() says RESOURCE_EXHAUSTED; past the second, for one peer.
    size_t max_watchers = 10000;
    size_t max_watchers_per_peer = kMaxWatchersPerPeer;
  };

  // `manager` and `storage` (the manager's) must outlive the hub. Installs itself as the
  // storage's and the manager's change listener.
  ApiKeyWatchHub(ProviderAuthManager& manager, AuthStorage& storage, Options options);
  ApiKeyWatchHub(ProviderAuthManager& manager, AuthStorage& storage)
      : ApiKeyWatchHub(manager, storage, Options()) {}
  // Stops the thread and waits for resolutions still in flight (a refresh the hub started).
  ~ApiKeyWatchHub();
  ApiKeyWatchHub(const ApiKeyWatchHub&) = delete;
  ApiKeyWatchHub& operator=(const ApiKeyWatchHub&) = delete;

  void Start();

  // Registers `sink` for `provider` (a valid id) on behalf of `peer` (the caller as the server
  // names it); it gets the current value as soon as it is known, then every change. Returns the
  // id for Unwatch.
  absl::StatusOr<uint64_t> Watch(const std::string& provider, Sink sink,
                                 const std::string& peer = "");
  // After it returns, the sink is never called again.
  void Unwatch(uint64_t id);

  // Something may have changed: re-resolve the watched providers soon.
  void Notify();

  size_t watcher_count() const;

 private:
  struct Watched {
    std::map<uint64_t, Sink> sinks;
    std::set<uint64_t> waiting_for_first;  // sinks that have not been sent anything yet
    std::optional<KeyUpdate> last;
    bool resolving = false;  // a resolution is in flight (maybe waiting for a refresh)
    bool again = false;      // something changed while it was
  };

  void Loop();
  void ResolveAll();
  void Resolve(const std::string& provider) ABSL_LOCKS_EXCLUDED(mu_);
  void Publish(const std::string& provider, KeyUpdate update) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // When the hub should next look even without an event: before the earliest token expires.
  absl::Time NextDeadline() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool NoneOutstanding() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return outstanding_ == 0; }

  ProviderAuthManager& manager_;
  AuthStorage& storage_;
  uint64_t storage_listener_ = 0;
  const Options options_;
  int wake_fd_ = -1;  // eventfd: Notify() and the destructor wake the thread

  mutable absl::Mutex mu_;
  std::map<std::string, Watched> watched_ ABSL_GUARDED_BY(mu_);
  struct Watcher {
    std::string provider;
    std::string peer;
  };
  std::map<uint64_t, Watcher> watcher_of_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, size_t> watchers_per_peer_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  int outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_expiry_look_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace operator_auth
