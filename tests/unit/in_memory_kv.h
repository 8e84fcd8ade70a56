// FleetKv in memory with etcd's semantics, for the fleet protocol's unit tests: one store-wide
// revision raised by each change, compare-and-swap on mod_revision, keys that go with their lease,
// watches that replay history from a revision and report compaction, and an "unavailable" switch
// that stands for a lost quorum. Hooks let a test slip another daemon's write in between a read
// and the compare-and-swap. Watch callbacks run on one delivery thread, in revision order, never
// after their KvWatch is destroyed. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "daemon/fleet/fleet_kv.h"

namespace operator_auth::testing {

class InMemoryKv : public FleetKv {
 public:
  InMemoryKv() : delivery_([this] { Deliver(); }) {}
  ~InMemoryKv() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    delivery_.join();
  }

  absl::StatusOr<KvRead> Get(absl::string_view key) override {
    absl::MutexLock lock(&mu_);
    if (!available_) return Down();
    ++reads_;
    KvRead read;
    read.revision = revision_;
    if (auto it = kvs_.find(std::string(key)); it != kvs_.end()) read.entry = it->second;
    return read;
  }

  absl::StatusOr<std::vector<KvEntry>> List(absl::string_view prefix, int64_t* revision) override {
    absl::MutexLock lock(&mu_);
    if (!available_) return Down();
    std::vector<KvEntry> entries;
    for (const auto& [key, entry] : kvs_) {
      if (absl::StartsWith(key, prefix)) entries.push_back(entry);
    }
    if (revision != nullptr) *revision = revision_;
    return entries;
  }

  using FleetKv::PutIf;
  absl::StatusOr<KvSwap> PutIf(absl::string_view key, int64_t expected_mod_revision,
                               absl::string_view value, int64_t lease) override {
    RunHook();
    absl::MutexLock lock(&mu_);
    if (!available_) return Down();
    if (lease != 0 && !leases_.contains(lease)) {
      return absl::NotFoundError("etcdserver: requested lease not found");
    }
    KvSwap swap = Compare(std::string(key), expected_mod_revision);
    if (!swap.succeeded) return swap;
    KvEntry& entry = kvs_[std::string(key)];
    if (entry.create_revision == 0) entry.create_revision = revision_ + 1;
    if (entry.lease != 0) leases_[entry.lease].erase(entry.key);
    entry.key = std::string(key);
    entry.value = std::string(value);
    entry.mod_revision = ++revision_;
    entry.lease = lease;
    if (lease != 0) leases_[lease].insert(entry.key);
    Record(KvEvent::Type::kPut, entry);
    swap.revision = revision_;
    return swap;
  }

  absl::StatusOr<KvSwap> DeleteIf(absl::string_view key, int64_t expected_mod_revision) override {
    absl::MutexLock lock(&mu_);
    if (!available_) return Down();
    KvSwap swap = Compare(std::string(key), expected_mod_revision);
    if (!swap.succeeded) return swap;
    if (kvs_.contains(std::string(key))) {
      ++revision_;
      EraseLocked(std::string(key));
    }
    swap.revision = revision_;
    return swap;
  }

  absl::StatusOr<int64_t> GrantLease(int64_t ttl_seconds) override {
    absl::MutexLock lock(&mu_);
    if (!available_) return Down();
    leases_[++last_lease_];
    ttls_[last_lease_] = ttl_seconds;
    return last_lease_;
  }

  absl::StatusOr<int64_t> KeepAlive(int64_t lease) override {
    absl::MutexLock lock(&mu_);
    if (!available_) return Down();
    if (!leases_.contains(lease)) return absl::NotFoundError("lease expired");
    ++keep_alives_;
    return ttls_[lease];
  }

  absl::Status RevokeLease(int64_t lease) override {
    absl::MutexLock lock(&mu_);
    if (!available_) return Down();
    return RevokeLocked(lease);
  }

  absl::StatusOr<std::unique_ptr<KvWatch>> Watch(absl::string_view prefix, int64_t start_revision,
                                                 WatchCallback callback) override {
    absl::MutexLock lock(&mu_);
    if (!available_) return Down();
    const uint64_t id = ++last_watch_;
    Watcher& watcher = watchers_[id];
    watcher.prefix = std::string(prefix);
    watcher.callback = std::move(callback);
    if (start_revision <= compacted_) {
      queue_.push_back({id, absl::OutOfRangeError(absl::StrCat("compacted at ", compacted_))});
      watcher.ended = true;
    } else {
      std::vector<KvEvent> replay;
      for (const KvEvent& event : history_) {
        if (event.entry.mod_revision >= start_revision &&
            absl::StartsWith(event.entry.key, watcher.prefix)) {
          replay.push_back(event);
        }
      }
      if (!replay.empty()) queue_.push_back({id, std::move(replay)});
    }
    return std::unique_ptr<KvWatch>(new Handle(this, id));
  }

  // A lease lapses as if nobody renewed it in time: its keys go.
  void LapseLease(int64_t lease) {
    absl::MutexLock lock(&mu_);
    RevokeLocked(lease).IgnoreError();
  }
  // Quorum lost (false) and back (true). Losing it ends every watch with UNAVAILABLE.
  void SetAvailable(bool available) {
    absl::MutexLock lock(&mu_);
    available_ = available;
    if (available) return;
    for (auto& [id, watcher] : watchers_) {
      if (watcher.ended) continue;
      watcher.ended = true;
      queue_.push_back({id, absl::UnavailableError("etcdserver: no leader")});
    }
  }
  // Forgets the history before `revision`; watches that still need it end OUT_OF_RANGE.
  void Compact(int64_t revision) {
    absl::MutexLock lock(&mu_);
    compacted_ = revision - 1;
    std::erase_if(history_, [&](const KvEvent& e) { return e.entry.mod_revision < revision; });
  }
  // Runs once, before the next PutIf takes effect (another daemon's write slipping in).
  void BeforeNextPut(std::function<void()> hook) {
    absl::MutexLock lock(&mu_);
    hook_ = std::move(hook);
  }
  // Waits until every event so far has been delivered.
  void Drain() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &InMemoryKv::Idle));
  }

  // Calls refused while unavailable: how hard the clients press a cluster that is down.
  int64_t refused() const {
    absl::MutexLock lock(&mu_);
    return refused_;
  }
  int64_t revision() const {
    absl::MutexLock lock(&mu_);
    return revision_;
  }
  int reads() const {
    absl::MutexLock lock(&mu_);
    return reads_;
  }
  int keep_alives() const {
    absl::MutexLock lock(&mu_);
    return keep_alives_;
  }

 private:
  struct Watcher {
    std::string prefix;
    WatchCallback callback;
    bool ended = false;
  };
  struct Delivery {
    uint64_t watch;
    absl::StatusOr<std::vector<KvEvent>> what;
  };
  class Handle : public KvWatch {
   public:
    Handle(InMemoryKv* kv, uint64_t id) : kv_(kv), id_(id) {}
    ~Handle() override { kv_->Unwatch(id_); }

   private:
    InMemoryKv* kv_;
    uint64_t id_;
  };

  absl::Status Down() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ++refused_;
    return absl::UnavailableError("etcd: no member with quorum");
  }

  KvSwap Compare(const std::string& key, int64_t expected) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    KvSwap swap;
    auto it = kvs_.find(key);
    const int64_t actual = it == kvs_.end() ? 0 : it->second.mod_revision;
    swap.succeeded = actual == expected;
    swap.revision = revision_;
    if (!swap.succeeded && it != kvs_.end()) swap.current = it->second;
    return swap;
  }

  void EraseLocked(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = kvs_.find(key);
    if (it == kvs_.end()) return;
    if (it->second.lease != 0) leases_[it->second.lease].erase(key);
    KvEntry gone;
    gone.key = key;
    gone.mod_revision = revision_;
    kvs_.erase(it);
    Record(KvEvent::Type::kDelete, gone);
  }

  absl::Status RevokeLocked(int64_t lease) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = leases_.find(lease);
    if (it == leases_.end()) return absl::NotFoundError("lease not found");
    const std::set<std::string> keys = it->second;
    leases_.erase(it);
    if (keys.empty()) return absl::OkStatus();
    ++revision_;  // one transaction deletes them all
    for (const std::string& key : keys) EraseLocked(key);
    return absl::OkStatus();
  }

  void Record(KvEvent::Type type, const KvEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    KvEvent event;
    event.type = type;
    event.entry = entry;
    history_.push_back(event);
    for (auto& [id, watcher] : watchers_) {
      if (!watcher.ended && absl::StartsWith(entry.key, watcher.prefix)) {
        queue_.push_back({id, std::vector<KvEvent>{event}});
      }
    }
  }

  void RunHook() {
    std::function<void()> hook;
    {
      absl::MutexLock lock(&mu_);
      hook.swap(hook_);
    }
    if (hook) hook();
  }

  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return queue_.empty() && delivering_ == 0;
  }
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); }

  void Unwatch(uint64_t id) {
    absl::MutexLock lock(&mu_);
    struct Pending {
      InMemoryKv* kv;
      uint64_t id;
    } pending{this, id};
    // Not while its callback runs: afterwards it is never called again.
    mu_.Await(absl::Condition(
        +[](Pending* p) { return p->kv->delivering_ != p->id; }, &pending));
    watchers_.erase(id);
  }

  void Deliver() {
    absl::MutexLock lock(&mu_);
    while (true) {
      mu_.Await(absl::Condition(this, &InMemoryKv::HasWork));
      if (stopping_ && queue_.empty()) return;
      Delivery next = std::move(queue_.front());
      queue_.pop_front();
      auto it = watchers_.find(next.watch);
      if (it == watchers_.end()) continue;
      delivering_ = next.watch;
      WatchCallback& callback = it->second.callback;
      mu_.Unlock();
      callback(std::move(next.what));
      mu_.Lock();
      delivering_ = 0;
    }
  }

  mutable absl::Mutex mu_;
  bool available_ ABSL_GUARDED_BY(mu_) = true;
  int64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 1;  // etcd starts at 1
  int64_t compacted_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, KvEntry> kvs_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, std::set<std::string>> leases_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, int64_t> ttls_ ABSL_GUARDED_BY(mu_);
  int64_t last_lease_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<KvEvent> history_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  uint64_t last_watch_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Delivery> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t delivering_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void()> hook_ ABSL_GUARDED_BY(mu_);
  int reads_ ABSL_GUARDED_BY(mu_) = 0;
  int keep_alives_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread delivery_;  // last: started once every member above is constructed
};

}  // namespace operator_auth::testing
