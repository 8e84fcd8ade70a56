// What the fleet backend needs of etcd v3, and nothing more: linearizable reads, writes that are
// compare-and-swap on a key's mod_revision, leases, and watches that resume from a revision. An
// interface so the protocol built on it (claims, fencing, journal) is tested against an in-memory
// fake with etcd's semantics (tests/unit/in_memory_kv.h) as well as a real cluster
// (EtcdKv, daemon/fleet/etcd_kv.h). No gRPC in this header.
//
// Semantics every implementation keeps (etcd's, see etcd's api/v3rpc and mvcc packages):
//   - one store-wide revision, raised by one for every transaction that changes something;
//   - a key's mod_revision is the revision of its last change, create_revision that of its
//     creation; an absent key has both 0, so "expected_mod_revision == 0" means "create only";
//   - a key put with a lease is deleted when the lease expires or is revoked;
//   - a watch from revision R delivers every change with revision >= R in order, or says the
//     history was compacted (then the caller re-reads and watches again from the new revision).
// Errors: UNAVAILABLE when no member with quorum answered in time (the caller keeps serving what
// it has and refuses writes); other codes are etcd's answers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/core/auth_storage.h"

namespace operator_auth {

struct KvEntry {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t lease = 0;
};

struct KvRead {
  int64_t revision = 0;  // the store's revision the read saw
  std::optional<KvEntry> entry;
};

struct KvSwap {
  bool succeeded = false;
  int64_t revision = 0;            // the store's revision after the transaction
  std::optional<KvEntry> current;  // when it failed: what the key holds now (nullopt: absent)
};

struct KvEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KvEntry entry;  // for kDelete: key and mod_revision (the deletion's revision) only
};

// A running watch; destroying it stops it (no callback runs after the destructor returns).
class KvWatch {
 public:
  virtual ~KvWatch() = default;
};

// One member of the cluster as it answered a probe (FleetKv::ProbeMembers).
using KvMember = StorageMember;

class FleetKv {
 public:
  // Events in revision order, a batch per callback. A status instead ends the watch: OUT_OF_RANGE
  // when `start_revision` was compacted away, UNAVAILABLE when the cluster could not be reached.
  using WatchCallback = absl::AnyInvocable<void(absl::StatusOr<std::vector<KvEvent>>)>;

  virtual ~FleetKv() = default;

  virtual absl::StatusOr<KvRead> Get(absl::string_view key) = 0;
  // Every key under `prefix`, and the revision they were read at.
  virtual absl::StatusOr<std::vector<KvEntry>> List(absl::string_view prefix,
                                                    int64_t* revision) = 0;
  // Puts `value` if the key's mod_revision is `expected_mod_revision` (0: only if absent).
  // With `lease` non-zero the key goes when the lease does.
  virtual absl::StatusOr<KvSwap> PutIf(absl::string_view key, int64_t expected_mod_revision,
                                       absl::string_view value, int64_t lease) = 0;
  absl::StatusOr<KvSwap> PutIf(absl::string_view key, int64_t expected_mod_revision,
                               absl::string_view value) {
    return PutIf(key, expected_mod_revision, value, 0);
  }
  // Deletes the key if its mod_revision is `expected_mod_revision`.
  virtual absl::StatusOr<KvSwap> DeleteIf(absl::string_view key, int64_t expected_mod_revision) = 0;

  // A lease of `ttl_seconds`; its id.
  virtual absl::StatusOr<int64_t> GrantLease(int64_t ttl_seconds) = 0;
  // Renews it once; NOT_FOUND when it already expired. Returns the remaining TTL in seconds.
  virtual absl::StatusOr<int64_t> KeepAlive(int64_t lease) = 0;
  virtual absl::Status RevokeLease(int64_t lease) = 0;

  // Watches every key under `prefix` from `start_revision` on; `callback` runs on a thread of
  // the implementation's.
  virtual absl::StatusOr<std::unique_ptr<KvWatch>> Watch(absl::string_view prefix,
                                                         int64_t start_revision,
                                                         WatchCallback callback) = 0;

  // The server calls go to now, for status ("" where there is no such thing).
  virtual std::string CurrentEndpoint() const { return ""; }

  // Asks every member how it is, for status; each answer within `timeout`. Empty where the
  // store has no members to ask.
  virtual std::vector<KvMember> ProbeMembers(absl::Duration timeout) {
    (void)timeout;
    return {};
  }
};

}  // namespace operator_auth
