// FleetKv on a real etcd v3 cluster over gRPC (KV, Lease and Watch only; stable from etcd 3.4 to
// 3.6). One channel per endpoint; a call that finds its member unreachable, without a leader, or
// too slow is retried on the next endpoint, so one member of three down costs one timeout at
// most, and the endpoint that answered is kept for the next call. Reads are linearizable
// (etcd's default), so a member cut off from quorum cannot answer with stale data.
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/core/trusted_path.h"
#include "daemon/fleet/fleet_kv.h"

namespace operator_auth {

struct EtcdTls {
  std::string ca_file;    // PEM roots that sign the members' certificates
  std::string cert_file;  // client certificate, for clusters that ask for one (optional)
  std::string key_file;
};

struct EtcdKvOptions {
  std::vector<std::string> endpoints;  // "http://127.0.0.1:2379" or "https://host:2379"
  EtcdTls tls;                         // used for https:// endpoints
  // Who may own the TLS files and the directories above them (trusted_path.h).
  TrustBoundary boundary = TrustBoundary::ForThisProcess();
  absl::Duration call_timeout = absl::Seconds(2);
};

class EtcdKv : public FleetKv {
 public:
  // INVALID_ARGUMENT for an endpoint that is not http(s)://host:port, or TLS files that cannot
  // be read or trusted (ReadTrustedFile: no symlink, ours or root's, not writable by others).
  // Connects lazily: a cluster that is down is not an error here.
  static absl::StatusOr<std::unique_ptr<EtcdKv>> Create(const EtcdKvOptions& options);
  ~EtcdKv() override;

  using FleetKv::PutIf;
  absl::StatusOr<KvRead> Get(absl::string_view key) override;
  absl::StatusOr<std::vector<KvEntry>> List(absl::string_view prefix, int64_t* revision) override;
  absl::StatusOr<KvSwap> PutIf(absl::string_view key, int64_t expected_mod_revision,
                               absl::string_view value, int64_t lease) override;
  absl::StatusOr<KvSwap> DeleteIf(absl::string_view key, int64_t expected_mod_revision) override;
  absl::StatusOr<int64_t> GrantLease(int64_t ttl_seconds) override;
  absl::StatusOr<int64_t> KeepAlive(int64_t lease) override;
  absl::Status RevokeLease(int64_t lease) override;
  absl::StatusOr<std::unique_ptr<KvWatch>> Watch(absl::string_view prefix, int64_t start_revision,
                                                 WatchCallback callback) override;

  // The endpoint calls go to now (the last one that answered).
  std::string CurrentEndpoint() const override;
  // Maintenance.Status on every member at once, without waiting for a connection.
  std::vector<KvMember> ProbeMembers(absl::Duration timeout) override;

  struct Impl;

 private:
  explicit EtcdKv(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The first key after every key that starts with `prefix` (etcd's range_end for a prefix).
std::string PrefixEnd(absl::string_view prefix);

}  // namespace operator_auth
