// The daemon's open client connections and the calls on each, so that a cap on connections can
// shed the one that matters least instead of locking new clients out.
//
// Identity. The server names a connection by its fd number ("fd:N"), and numbers are reused: once
// the server closes N, the next accept (or any open in the process) may get N again. So:
//  - Admit(fd) keeps a dup of the accepted fd. Shedding calls shutdown(SHUT_RDWR) on that dup,
//    which reaches exactly the socket we accepted whatever number N names by then (the server
//    sees EOF and closes its own fd); it never touches fd N itself.
//  - Each admitted connection gets a generation id. A call records (N, id) when it begins and its
//    end only counts against the entry that still has that id, so a late end never lands on a
//    newer connection that reused N.
//  - An accept that returns N proves the old N was closed: Admit replaces a stale entry for N.
//    Entries whose socket hung up (POLLHUP / POLLRDHUP on the dup) are forgotten when room is
//    needed, closing the dup.
// A call that begins on N after N was reused would count for the new connection; that only
// protects it, never exposes a busy one.
//
// Shedding order when the table is full (or the process is out of descriptors):
//  1. the connection idle (no call in flight) the longest;
//  2. else the one that has only streams (WatchApiKey) in flight, least recently active: a
//     watcher reconnects with back-off and gets the current key at once, so a flood of watchers
//     cannot lock everyone out;
//  3. else none: every connection has a unary call or a login in flight, which are short or
//     bounded elsewhere; the new connection is refused instead.
// Each entry also keeps who is on the other end (PeerIdentity), read once when it is admitted;
// every Call on the connection carries it, so client rules and the audit trail cost no syscall
// per call.
// Thread-safe. Admit / ShedOne run on the accept thread, BeginCall / ~Call on server threads.
#pragma once

#include <sys/resource.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/core/peer_identity.h"

namespace operator_auth {

class ConnectionTable {
 public:
  using Clock = std::function<absl::Time()>;
  enum class CallKind { kUnary, kStream };

  // The cap the daemon uses unless told otherwise.
  static constexpr size_t kDefaultMaxConnections = 256;
  // Descriptors kept for everything but client connections (gRPC's own, files, HTTP, logins).
  static constexpr rlim_t kReservedDescriptors = 64;
  static constexpr size_t kMinMaxConnections = 16;
  // kDefaultMaxConnections, lowered so that connections alone cannot exhaust `open_files`
  // (RLIMIT_NOFILE): each costs two descriptors, the server's and the table's dup.
  static size_t CapacityFor(rlim_t open_files);

  // The calls of one connection in flight; ends the call when destroyed. Movable.
  class Call {
   public:
    Call() = default;
    Call(Call&& other) noexcept
        : table_(std::exchange(other.table_, nullptr)),
          fd_(other.fd_),
          id_(other.id_),
          kind_(other.kind_),
          identity_(std::move(other.identity_)) {}
    Call& operator=(Call&&) = delete;
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    ~Call() {
      if (table_ != nullptr) table_->EndCall(fd_, id_, kind_);
    }

    // Who made the call: the connection's peer as read when it was admitted; null when the
    // connection is unknown to the table (shed, never admitted) or its peer could not be read.
    const PeerIdentityPtr& identity() const { return identity_; }

   private:
    friend class ConnectionTable;
    Call(ConnectionTable* table, int fd, uint64_t id, CallKind kind, PeerIdentityPtr identity)
        : table_(table), fd_(fd), id_(id), kind_(kind), identity_(std::move(identity)) {}
    ConnectionTable* table_ = nullptr;
    int fd_ = -1;
    uint64_t id_ = 0;
    CallKind kind_ = CallKind::kUnary;
    PeerIdentityPtr identity_;
  };

  explicit ConnectionTable(size_t max_connections, Clock now = absl::Now);
  ~ConnectionTable();  // closes the dups; the connections themselves are the server's
  ConnectionTable(const ConnectionTable&) = delete;
  ConnectionTable& operator=(const ConnectionTable&) = delete;

  // Records the accepted connection `fd` before the server gets it, shedding one first when the
  // table is full. RESOURCE_EXHAUSTED when the table is full of busy connections, or when no
  // descriptor is left for the dup even after shedding: the caller then closes `fd`. Reads the
  // peer's identity (ReadPeerIdentity) before taking the table's lock.
  absl::Status Admit(int fd);
  // The same with the identity given (tests; null: unknown).
  absl::Status Admit(int fd, PeerIdentityPtr identity);
  // Sheds one idle connection (for EMFILE); false when none is idle. Never a watcher: out of
  // descriptors, most are held by connections already shed that the server has yet to close,
  // so ending a live stream would free nothing in time.
  bool ShedOne();

  // A call on the connection the server calls "fd:<fd>". A connection the table does not know
  // (shed, or never admitted) yields a Call that counts nothing.
  Call BeginCall(int fd, CallKind kind);

  size_t max_connections() const { return max_connections_; }
  size_t size() const;
  uint64_t shed_count() const;

 private:
  struct Entry {
    uint64_t id = 0;
    int dup_fd = -1;
    absl::Time last_active;
    int unary_in_flight = 0;
    int streams_in_flight = 0;
    PeerIdentityPtr identity;
  };

  void EndCall(int fd, uint64_t id, CallKind kind);
  // Forgets entries whose socket hung up.
  void ReapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  enum class Shed { kIdleOrWatcher, kIdleOnly };
  std::optional<int> ShedCandidateLocked(Shed which) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ShedLocked(Shed which) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ForgetLocked(int fd) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_connections_;
  const Clock now_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<int, Entry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t shed_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace operator_auth
