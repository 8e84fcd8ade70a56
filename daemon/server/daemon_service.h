// operator_auth.v1.DaemonService: the daemon's own state for `operatorctl daemon status`:
// identity, socket, where the credentials live (files and their load errors, or the etcd fleet and
// its members), the OAuth refresher, requests served, and the outcome of the last SIGHUP. Healthy
// means every credentials file loads, the fleet (if any) answers and opens, and the configuration
// in force is the one on disk. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/core/auth_storage.h"
#include "daemon/core/channel_auth_manager.h"
#include "daemon/core/proactive_refresher.h"
#include "daemon/core/provider_auth_manager.h"
#include "daemon/server/call_tracker.h"
#include "daemon/server/peer_checked_listener.h"
#include "daemon/server/request_counter.h"
#include "operator_auth/v1/auth.grpc.pb.h"

namespace operator_auth {

class DaemonServiceImpl final : public v1::DaemonService::CallbackService {
 public:
  // The fleet's side of the identity (authd.json "fleet"); fixed for the life of the process.
  struct FleetIdentity {
    std::string name;
    std::vector<std::string> endpoints;
    std::string key_fingerprint;
    std::string holder;
    // Why the local providers.json still holds credentials the fleet lacks (it did not load, or
    // the cluster could not take them, or it could not be emptied); empty when it does not.
    // Asked at every status call: the import goes on after start. Unset: never a problem.
    std::function<std::string()> local_file_problem;
  };
  // Fixed for the life of the process.
  struct Identity {
    std::string version;
    int64_t pid = 0;
    absl::Time started;
    std::string home;
    std::string config_path;
    std::optional<FleetIdentity> fleet;
  };
  // What the status is read from; each must outlive the service.
  struct Sources {
    AuthStorage* providers = nullptr;
    ChannelsFile* channels = nullptr;
    ProviderAuthManager* manager = nullptr;
    ProactiveRefresher* refresher = nullptr;
    RequestCounter* requests = nullptr;
    PeerCheckedListener* listener = nullptr;
  };

  // The status is gathered from memory on the gRPC thread: it never waits for a file's lock, a
  // write or a token endpoint.
  DaemonServiceImpl(Identity identity, Sources sources, CallTracker& calls)
      : identity_(std::move(identity)),
        sources_(sources),
        calls_(calls),
        get_status_(sources.requests->Register("/operator_auth.v1.DaemonService/GetDaemonStatus")) {
  }

  // The outcome of a SIGHUP: `config_error` empty when the new configuration took effect.
  void RecordReload(absl::Time when, std::string config_error);

  grpc::ServerUnaryReactor* GetDaemonStatus(grpc::CallbackServerContext* context,
                                            const v1::GetDaemonStatusRequest* request,
                                            v1::DaemonStatus* response) override;

 private:
  void Fill(v1::DaemonStatus& out);

  const Identity identity_;
  const Sources sources_;
  CallTracker& calls_;
  RequestCounter::Slot& get_status_;

  absl::Mutex mu_;
  absl::Time last_reload_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::string config_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace operator_auth
