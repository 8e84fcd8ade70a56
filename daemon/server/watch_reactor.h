// One WatchApiKey stream: registers with the ApiKeyWatchHub and writes each update it is offered.
// At most one write is in flight; an update offered meanwhile replaces any older one still
// waiting, so a slow client receives the latest state and never holds up the hub. Deletes itself
// when gRPC is done with it.
#pragma once

#include <cstdint>
#include <optional>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "daemon/core/api_key_watch_hub.h"
#include "daemon/core/connection_table.h"
#include "operator_auth/v1/auth.grpc.pb.h"

namespace operator_auth {

class WatchReactor final : public grpc::ServerWriteReactor<v1::ApiKeyUpdate> {
 public:
  // `hub` must outlive the server. `provider` is the canonical id (the caller resolved aliases).
  // `peer` names the caller, whose share of the watch slots is bounded; `connection` marks the
  // stream's connection busy for the connection cap until OnDone.
  // A watch the client rules refused (`admitted` not OK) finishes at once with that status.
  WatchReactor(ApiKeyWatchHub& hub, const std::string& provider, const std::string& peer,
               ConnectionTable::Call connection, absl::Status admitted = absl::OkStatus());

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  void Offer(const KeyUpdate& update);
  void StopWatching();

  ApiKeyWatchHub& hub_;
  const std::string provider_;
  ConnectionTable::Call connection_;
  absl::Mutex mu_;
  std::optional<uint64_t> watch_id_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  v1::ApiKeyUpdate in_flight_ ABSL_GUARDED_BY(mu_);
  std::optional<v1::ApiKeyUpdate> pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace operator_auth
