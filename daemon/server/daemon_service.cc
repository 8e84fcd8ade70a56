#include "daemon/server/daemon_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "daemon/server/unary_finish.h"

namespace operator_auth {
namespace {

void AddFile(const std::string& path, const std::string& load_error, v1::DaemonStatus& out) {
  v1::CredentialsFileStatus* file = out.add_files();
  file->set_path(path);
  file->set_load_error(load_error);
  if (!load_error.empty()) out.add_problems(absl::StrCat("cannot load ", path, ": ", load_error));
}

void FillRefresher(ProviderAuthManager& manager, const ProactiveRefresher& refresher,
                   v1::RefresherStatus& out) {
  out.set_running(refresher.running());
  absl::Time next = absl::InfiniteFuture();
  for (const ProviderListing& p : manager.ListProviders(ProviderAuthManager::View::kLastTaken)) {
    if (p.status.stored_type != StoredType::kOAuth) continue;
    out.set_oauth_credentials(out.oauth_credentials() + 1);
    switch (p.status.refresh.phase) {
      case RefreshPhase::kRefreshing:
        out.set_refreshing(out.refreshing() + 1);
        break;
      case RefreshPhase::kBackoff:
        out.set_backoff(out.backoff() + 1);
        break;
      case RefreshPhase::kNeedsLogin:
        out.set_needs_login(out.needs_login() + 1);
        break;
      case RefreshPhase::kIdle:
        break;
    }
    next = std::min(next, p.status.refresh.scheduled);
  }
  if (next != absl::InfiniteFuture()) out.set_next_refresh_unix_ms(absl::ToUnixMillis(next));
}

void FillFleet(const DaemonServiceImpl::FleetIdentity& identity, const StorageStatus& storage,
               v1::DaemonStatus& out) {
  v1::FleetStatus& fleet = *out.mutable_fleet();
  fleet.set_name(identity.name);
  for (const std::string& endpoint : identity.endpoints) fleet.add_endpoints(endpoint);
  fleet.set_current_endpoint(storage.endpoint);
  fleet.set_healthy(storage.reachable && storage.load_error.empty());
  fleet.set_revision(storage.revision);
  if (storage.last_event != absl::InfinitePast()) {
    fleet.set_last_event_unix_ms(absl::ToUnixMillis(storage.last_event));
  }
  fleet.set_problem(!storage.load_error.empty() ? storage.load_error : storage.problem);
  fleet.set_key_fingerprint(identity.key_fingerprint);
  fleet.set_holder(identity.holder);
  for (const StorageMember& m : storage.members) {
    v1::FleetMember& member = *fleet.add_members();
    member.set_endpoint(m.endpoint);
    member.set_reachable(m.reachable);
    member.set_leader(m.leader);
    member.set_version(m.version);
    member.set_problem(m.problem);
  }
  if (!fleet.healthy()) {
    out.add_problems(absl::StrCat("fleet ", identity.name, ": ", fleet.problem()));
  }
  // One member down is no problem (the others answer); one that answers with an alarm (NOSPACE
  // refuses every write) is.
  for (const StorageMember& m : storage.members) {
    if (m.reachable && !m.problem.empty()) {
      out.add_problems(absl::StrCat("fleet ", identity.name, ": etcd member ", m.endpoint, ": ",
                                    m.problem));
    }
  }
  if (identity.local_file_problem) {
    std::string problem = identity.local_file_problem();
    if (!problem.empty()) out.add_problems(std::move(problem));
  }
}

}  // namespace

void DaemonServiceImpl::RecordReload(absl::Time when, std::string config_error) {
  absl::MutexLock lock(&mu_);
  last_reload_ = when;
  config_error_ = std::move(config_error);
}

grpc::ServerUnaryReactor* DaemonServiceImpl::GetDaemonStatus(grpc::CallbackServerContext* context,
                                                             const v1::GetDaemonStatusRequest*,
                                                             v1::DaemonStatus* response) {
  // Answered on the gRPC thread from what is in memory: status must answer while writes wait
  // for providers.lock or a token endpoint.
  CallTracker::Call call = calls_.Track(context);
  Fill(*response);
  return FinishNow(context, absl::OkStatus(), get_status_);
}

void DaemonServiceImpl::Fill(v1::DaemonStatus& out) {
  const absl::Time now = absl::Now();
  out.set_version(identity_.version);
  out.set_pid(identity_.pid);
  out.set_started_unix_ms(absl::ToUnixMillis(identity_.started));
  out.set_uptime_ms(absl::ToInt64Milliseconds(now - identity_.started));
  out.set_socket_path(sources_.listener->socket_path());
  out.set_socket_origin(sources_.listener->adopted() ? "systemd" : "bound");
  out.set_home(identity_.home);
  out.set_config_path(identity_.config_path);
  {
    absl::MutexLock lock(&mu_);
    out.set_config_error(config_error_);
    if (last_reload_ != absl::InfinitePast()) {
      out.set_last_reload_unix_ms(absl::ToUnixMillis(last_reload_));
    }
  }
  if (!out.config_error().empty()) {
    out.add_problems(
        absl::StrCat("the last reload of ", identity_.config_path,
                     " failed, so the previous configuration is in force: ", out.config_error()));
  }
  const StorageStatus storage = sources_.providers->Status();
  out.set_storage(storage.kind);
  if (identity_.fleet.has_value()) {
    FillFleet(*identity_.fleet, storage, out);
  } else {
    AddFile(storage.location, storage.load_error, out);
  }
  AddFile(sources_.channels->path(), sources_.channels->LastSnapshot()->load_error, out);
  FillRefresher(*sources_.manager, *sources_.refresher, *out.mutable_refresher());
  for (const RequestCounter::MethodCount& m : sources_.requests->Counts()) {
    v1::MethodCount* count = out.add_requests();
    count->set_method(m.method);
    count->set_calls(m.calls);
    count->set_errors(m.errors);
  }
  out.set_refused_connections(sources_.listener->refused_connections());
  out.set_healthy(out.problems().empty());
}

}  // namespace operator_auth
