// operator-authd: the per-user daemon that owns provider credentials and answers agents over a
// peer-checked Unix socket. Wires the parts: hygiene, logging, storage, manager, gRPC, listener,
// signals.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/server_posix.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/default_paths.h"
#include "daemon/core/api_key_watch_hub.h"
#include "daemon/core/audit_log.h"
#include "daemon/core/blocking_executor.h"
#include "daemon/core/channel_auth_manager.h"
#include "daemon/core/client_gate.h"
#include "daemon/core/connection_table.h"
#include "daemon/core/credential_completion.h"
#include "daemon/core/file_auth_storage.h"
#include "daemon/core/overflow_uid.h"
#include "daemon/core/private_directory.h"
#include "daemon/core/proactive_refresher.h"
#include "daemon/core/provider_auth_manager.h"
#include "daemon/core/provider_registry.h"
#include "daemon/core/refresh_coordinator.h"
#include "daemon/core/trusted_path.h"
#include "daemon/fleet/fleet_local_import.h"
#include "daemon/fleet/fleet_start.h"
#include "daemon/oauth/authd_config_file.h"
#include "daemon/oauth/http_client.h"
#include "daemon/oauth/provider_oauth_service.h"
#include "daemon/process_hygiene.h"
#include "daemon/server/auth_service.h"
#include "daemon/server/call_tracker.h"
#include "daemon/server/channel_service.h"
#include "daemon/server/daemon_service.h"
#include "daemon/server/peer_checked_listener.h"
#include "daemon/server/request_counter.h"
#include "daemon/systemd_notifier.h"
#include "daemon/vendor/vendor_sync.h"

namespace operator_auth {
namespace {

// Requests larger than this are refused by gRPC before they reach a service.
constexpr int kMaxMessageBytes = 64 * 1024;
constexpr int kWriterThreads = 2;
constexpr size_t kMaxQueuedWrites = 1024;
constexpr absl::Duration kShutdownGrace = absl::Seconds(5);
// Per connection: a client multiplexing more calls than this waits for a free stream.
constexpr int kMaxStreamsPerConnection = 128;
// gRPC's buffers for all connections together; past it gRPC shrinks reads instead of growing.
constexpr size_t kGrpcMemoryBytes = 256 * 1024 * 1024;
constexpr int kGrpcMaxThreads = 64;
// A connection with no call for this long is closed (GOAWAY); clients reconnect when they need
// to. Watch streams keep theirs open.
constexpr int kMaxConnectionIdleMs = 5 * 60 * 1000;

struct Flags {
  std::string home;
  std::string socket;
  std::string config;
  int refresh_check_seconds = 30;
  std::string log_level = "info";
  int max_connections = 0;  // 0: ConnectionTable::CapacityFor(RLIMIT_NOFILE)
};

size_t ConnectionCap(int flag) {
  if (flag > 0) return static_cast<size_t>(flag);
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return ConnectionTable::kDefaultMaxConnections;
  return ConnectionTable::CapacityFor(files.rlim_cur);
}

// An alias must not shadow an id that holds a stored credential: callers naming it would get
// another provider's key.
absl::Status CheckAliasesAgainstStored(const ProviderRegistry& registry,
                                       const CredentialSnapshot& snapshot) {
  for (const auto& [alias, target] : registry.aliases()) {
    if (snapshot.credentials.contains(alias)) {
      return absl::InvalidArgumentError(
          absl::StrCat("alias \"", alias, "\" (for ", target,
                       ") shadows a credential stored under that id in providers.json"));
    }
  }
  return absl::OkStatus();
}

// This daemon's name in fleet claims and status: "host:pid".
std::string FleetHolderName() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    return absl::StrCat("unknown-host:", getpid());
  }
  return absl::StrCat(host, ":", getpid());
}

// The signals sigwait() takes in Run. main() blocks them before any thread exists (gRPC starts
// threads in grpc_init), so that no thread gets them with their default, fatal action.
sigset_t ShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  return signals;
}

// `systemd_socket`: the listening fd systemd passed, if any (socket activation).
int Run(const Flags& flags, std::optional<int> systemd_socket) {
  if (absl::Status s = HardenProcess(); !s.ok()) {
    spdlog::critical("start-up hygiene failed: {}", std::string(s.message()));
    return 1;
  }
  const sigset_t signals = ShutdownSignals();
  // Every process of another user namespace whose uid has no mapping here shows up as this uid,
  // and "nobody" is it too: a daemon running as it could not tell its owner from them.
  if (geteuid() == OverflowUid()) {
    spdlog::critical(
        "refusing to run as uid {}, the overflow uid (/proc/sys/kernel/overflowuid): it stands "
        "for every unmapped user of another user namespace; run operator-authd as your own user",
        geteuid());
    return 1;
  }
  // The home holds auth/ and, by default, authd.json: whoever may write it (or a directory above
  // it) could swap either. Created 0700 when missing; never chmodded.
  if (absl::Status s = EnsurePrivateDirectory(flags.home, ExistingDirectory::kVerify); !s.ok()) {
    spdlog::critical("refusing the operator home {}: {}", flags.home, std::string(s.message()));
    return 1;
  }

  const bool config_named = !flags.config.empty();
  const std::string config_path = config_named ? flags.config : flags.home + "/authd.json";
  absl::StatusOr<DaemonConfig> config = LoadDaemonConfig(config_path, config_named);
  if (!config.ok()) {
    spdlog::critical("bad configuration: {}", std::string(config.status().message()));
    return 1;
  }

  // Where provider credentials live: auth/providers.json, or the fleet's etcd cluster, which
  // then takes over what the local file held.
  std::unique_ptr<AuthStorage> storage;
  std::optional<DaemonServiceImpl::FleetIdentity> fleet_identity;
  // Fleet mode: goes on bringing what other tools write to the local file into the fleet.
  std::unique_ptr<FleetLocalImport> local_import;
  if (config->fleet.has_value()) {
    const FleetConfig& fleet = *config->fleet;
    FleetStartOptions fleet_options;
    fleet_options.name = fleet.name;
    fleet_options.key_file = fleet.key_file;
    fleet_options.etcd.endpoints = fleet.etcd_endpoints;
    fleet_options.etcd.tls = {fleet.tls.ca_file, fleet.tls.cert_file, fleet.tls.key_file};
    fleet_options.auth_directory = flags.home + "/auth";
    fleet_options.holder = FleetHolderName();
    absl::StatusOr<FleetStart> started =
        StartFleet(fleet_options, TrustBoundary::ForThisProcess());
    if (!started.ok()) {
      spdlog::critical("cannot join fleet '{}': {}", fleet.name,
                       std::string(started.status().message()));
      return 1;
    }
    FleetLocalImport::Options import_options;
    import_options.fleet_name = fleet.name;
    local_import = std::make_unique<FleetLocalImport>(std::move(started->local), *started->storage,
                                                      started->import.local_problem,
                                                      std::move(import_options));
    fleet_identity = DaemonServiceImpl::FleetIdentity{
        fleet.name, fleet.etcd_endpoints, started->key_fingerprint, fleet_options.holder,
        [importer = local_import.get()] { return importer->problem(); }};
    storage = std::move(started->storage);
    spdlog::info("credentials: fleet '{}' on {} (key {}, change detection: etcd watch)",
                 fleet.name, absl::StrJoin(fleet.etcd_endpoints, ", "),
                 fleet_identity->key_fingerprint);
  } else {
    absl::StatusOr<std::unique_ptr<FileAuthStorage>> file =
        FileAuthStorage::Open(flags.home + "/auth");
    if (!file.ok()) {
      spdlog::critical("cannot open the credentials directory: {}",
                       std::string(file.status().message()));
      return 1;
    }
    spdlog::info("credentials: {} (change detection: {})", (*file)->path(),
                 (*file)->watching_with_inotify() ? "inotify" : "stat");
    storage = *std::move(file);
  }
  if (absl::Status s = CheckAliasesAgainstStored(config->registry, *storage->Snapshot());
      !s.ok()) {
    spdlog::critical("bad configuration: {}: {}", config_path, std::string(s.message()));
    return 1;
  }
  absl::StatusOr<std::unique_ptr<ChannelsFile>> channels_file =
      OpenChannelsFile(flags.home + "/auth");
  if (!channels_file.ok()) {
    spdlog::critical("cannot open the credentials directory: {}",
                     std::string(channels_file.status().message()));
    return 1;
  }
  ChannelAuthManager channels(**channels_file);
  // The audit trail (auth/audit.jsonl). Before the services and their executor, so it outlives
  // every call that may record; its destructor writes what is still queued.
  std::unique_ptr<AuditLog> audit_log;
  if (config->audit.enabled) {
    AuditLog::Options audit_options;
    audit_options.max_bytes = static_cast<size_t>(config->audit.max_bytes);
    absl::StatusOr<std::unique_ptr<AuditLog>> opened =
        AuditLog::Open(flags.home + "/auth", std::move(audit_options));
    if (!opened.ok()) {
      spdlog::critical(
          "refusing the audit log: {} (fix it, or set \"audit\": {{\"enabled\": "
          "false}} in {})",
          std::string(opened.status().message()), config_path);
      return 1;
    }
    audit_log = *std::move(opened);
    spdlog::info("audit trail: {} (rotated at {} bytes)", audit_log->path(),
                 config->audit.max_bytes);
  } else {
    spdlog::info("audit trail: off (\"audit\": {{\"enabled\": false}} in {})", config_path);
  }
  // Declared first so they outlive everything that may still hold a call's guard: the write
  // executor's and the refresh coordinator's threads release theirs after answering.
  ConnectionTable connections(ConnectionCap(flags.max_connections));
  CallTracker calls(&connections);
  CurlHttpClient http;
  ProviderOAuthService oauth_service(config->oauth_providers, http);
  RefreshCoordinator refresh_coordinator(*storage, oauth_service, nullptr);
  CredentialCompletion completion(*storage, oauth_service);
  ProviderAuthManager manager(*storage, config->registry, nullptr, nullptr, &refresh_coordinator,
                              &completion);
  ProactiveRefresher::Options proactive_options;
  proactive_options.max_sleep = absl::Seconds(flags.refresh_check_seconds);
  ProactiveRefresher proactive(*storage, refresh_coordinator, nullptr, proactive_options);
  // Installs its change listeners now, before any thread can write the storage.
  ApiKeyWatchHub watches(manager, *storage);
  // The agent CLIs' own credential files kept in sync; a participant in every refresh.
  VendorSync::Options vendor_options;
  if (fleet_identity.has_value()) {
    vendor_options.keep_in_sync_refused =
        "in fleet mode a vendor CLI's lock covers this host only, so the CLI could spend a "
        "refresh token that another host's daemon is spending";
  }
  auto vendor_sync = std::make_shared<VendorSync>(*storage, refresh_coordinator,
                                                  flags.home + "/auth",
                                                  TrustBoundary::ForThisProcess(),
                                                  std::move(vendor_options));
  (void)vendor_sync->Load();  // a bad links file is logged and shown in status
  refresh_coordinator.SetParticipant(vendor_sync);
  // Before the coordinator goes, refreshes in flight keep their own reference.
  struct ParticipantReset {
    RefreshCoordinator& coordinator;
    ~ParticipantReset() { coordinator.SetParticipant(nullptr); }
  } participant_reset{refresh_coordinator};

  absl::StatusOr<std::unique_ptr<PeerCheckedListener>> listener =
      systemd_socket.has_value() ? PeerCheckedListener::Adopt(*systemd_socket)
                                 : PeerCheckedListener::Bind(flags.socket);
  if (!listener.ok()) {
    spdlog::critical("cannot serve {}: {}", flags.socket, std::string(listener.status().message()));
    return 1;
  }
  const std::string& socket_path = (*listener)->socket_path();
  if (socket_path != flags.socket) {
    spdlog::warn("serving the socket systemd passed, {}, not {}", socket_path, flags.socket);
  }

  // Only the instance that owns the socket renews tokens.
  proactive.Start();
  watches.Start();
  vendor_sync->Start();
  if (local_import != nullptr) local_import->Start();
  BlockingExecutor writes(kWriterThreads, kMaxQueuedWrites);
  RequestCounter requests;
  // The client rules of authd.json, swapped whole at SIGHUP, and the audit trail.
  ClientGate gate(std::make_shared<const ClientRules>(std::move(config->client_rules)),
                  audit_log.get(), [&manager](absl::string_view provider) {
                    return manager.DefaultAccountName(manager.Canonical(provider));
                  });
  AuthServiceImpl auth_service(manager, oauth_service, writes, calls, watches, requests,
                               *vendor_sync, gate);
  ChannelServiceImpl channel_service(channels, writes, calls, requests, gate);
  DaemonServiceImpl daemon_service(
      {AUTHD_VERSION, getpid(), absl::Now(), flags.home, config_path, fleet_identity},
      {storage.get(), channels_file->get(), &manager, &proactive, &requests, listener->get()},
      calls);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  grpc::ResourceQuota quota("operator-authd");
  quota.Resize(kGrpcMemoryBytes).SetMaxThreads(kGrpcMaxThreads);
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, kMaxStreamsPerConnection);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, kMaxConnectionIdleMs);
  builder.RegisterService(&auth_service);
  builder.RegisterService(&channel_service);
  builder.RegisterService(&daemon_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    spdlog::critical("gRPC server failed to start");
    return 1;
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  (*listener)->Start([&server](int fd) { grpc::AddInsecureChannelFromFd(server.get(), fd); },
                     &connections);
  spdlog::info("operator-authd serving on {} (pid {}, at most {} connections)", socket_path,
               getpid(), connections.max_connections());
  if (std::shared_ptr<const ClientRules> rules = gate.rules(); !rules->AllowsEverything()) {
    spdlog::info("client rules: {} rule(s), clients_default {}", rules->size(),
                 rules->default_decision() == ClientsDefault::kDeny ? "deny" : "allow");
  }
  SystemdNotifier systemd;
  systemd.Ready(absl::StrCat("serving on ", socket_path));

  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      // Connections and calls in flight are untouched: only what they read next changes.
      systemd.Reloading();
      spdlog::info("SIGHUP: re-reading {} and the credentials files", config_path);
      std::string config_error;
      absl::StatusOr<DaemonConfig> reloaded = LoadDaemonConfig(config_path, config_named);
      if (reloaded.ok()) {
        if (absl::Status s = CheckAliasesAgainstStored(reloaded->registry, *storage->Snapshot());
            !s.ok()) {
          reloaded = absl::InvalidArgumentError(absl::StrCat(config_path, ": ", s.message()));
        }
      }
      // "fleet" is read at start only: the rest of the file takes effect, and status reports
      // (unhealthy) that the fleet change waits for a restart.
      std::string start_only_changed;
      if (reloaded.ok() && reloaded->fleet != config->fleet) start_only_changed = "\"fleet\"";
      if (reloaded.ok()) {
        oauth_service.Reconfigure(reloaded->oauth_providers);
        // A refresh or completion refused under the old configuration (a wrong client id, a
        // missing project) may work now.
        for (const OAuthProviderConfig& provider : reloaded->oauth_providers) {
          refresh_coordinator.Forget(provider.id);
          completion.Forget(provider.id);
        }
        manager.SetRegistry(reloaded->registry);
        const size_t rule_count = reloaded->client_rules.size();
        const bool deny = reloaded->client_rules.default_decision() == ClientsDefault::kDeny;
        gate.SetRules(std::make_shared<const ClientRules>(std::move(reloaded->client_rules)));
        spdlog::info(
            "configuration reloaded: {} OAuth provider(s), {} alias(es), {} client rule(s), "
            "clients_default {}",
            reloaded->oauth_providers.size(), reloaded->registry.aliases().size(), rule_count,
            deny ? "deny" : "allow");
        if (!start_only_changed.empty()) {
          config_error = absl::StrCat(config_path, ": ", start_only_changed,
                                      " changed; that takes effect at the next restart");
          spdlog::warn("{}", config_error);
        }
      } else {
        config_error = std::string(reloaded.status().message());
        spdlog::error("keeping the previous configuration: {}", config_error);
      }
      storage->ForceReload();
      (*channels_file)->ForceReload();
      storage->Snapshot();  // re-read now, so a bad file is reported at once
      (*channels_file)->Snapshot();
      daemon_service.RecordReload(absl::Now(), config_error);
      systemd.Ready(config_error.empty() ? absl::StrCat("serving on ", socket_path)
                                         : absl::StrCat("serving on ", socket_path,
                                                        "; reload failed: ", config_error));
      continue;
    }
    spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    systemd.Stopping();
    break;
  }
  (*listener)->Stop();  // no new connections; our own socket is removed, systemd's is kept
  server->GetHealthCheckService()->SetServingStatus(false);
  // Let calls in flight finish, then close: gRPC's own grace period would also wait for idle
  // clients to hang up, which they need not do.
  if (!calls.WaitUntilIdle(kShutdownGrace)) {
    spdlog::warn("calls still in flight after {}; cancelling them",
                 absl::FormatDuration(kShutdownGrace));
  }
  server->Shutdown(std::chrono::system_clock::now());
  server->Wait();
  // Refreshes and revocations still waiting for a provider end now, not at their timeout.
  http.CancelAll();
  spdlog::info("stopped");
  return 0;
}

}  // namespace
}  // namespace operator_auth

int main(int argc, char** argv) {
  // Debian's abseil is built without NDEBUG, so every absl::Mutex (ours and gRPC's) records its
  // lock order in a global graph under a global lock: about 7% of the daemon's CPU at 16 calls
  // in flight, and a point every thread serializes on. The tests keep it on
  // (AUTHD_DEADLOCK_DETECTION=1, set by DaemonProcess) to catch lock-order cycles.
  if (const char* detect = std::getenv("AUTHD_DEADLOCK_DETECTION");
      detect == nullptr || std::string(detect) != "1") {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  using operator_auth::Flags;
  Flags flags;
  CLI::App app{"operator-authd: owns LLM provider credentials and serves them over a Unix socket"};
  app.add_option("--home", flags.home,
                 "operator home holding auth/providers.json (default $OPERATOR_HOME, else "
                 "~/.operator)");
  app.add_option("--socket", flags.socket,
                 "socket path (default $OPERATOR_AUTHD_SOCKET, else "
                 "$XDG_RUNTIME_DIR/operator/authd.sock, else $OPERATOR_HOME/run/authd.sock)");
  app.add_option("--config", flags.config,
                 "daemon config with \"oauth_providers\", \"aliases\", \"audit\", \"clients\" "
                 "and \"fleet\" (default "
                 "<home>/authd.json; "
                 "optional)");
  app.add_option("--refresh-check-seconds", flags.refresh_check_seconds,
                 "how often the background refresher looks for OAuth tokens to renew")
      ->check(CLI::Range(1, 3600));
  app.add_option("--max-connections", flags.max_connections,
                 "client connections kept open at once; when full the longest-idle one is closed "
                 "(default 256, lowered to (open-file limit - 64) / 2)")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error, critical, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.set_version_flag("--version", std::string("operator-authd ") + AUTHD_VERSION);
  CLI11_PARSE(app, argc, argv);

  if (flags.home.empty()) flags.home = operator_auth::DefaultOperatorHome();
  if (flags.socket.empty()) flags.socket = operator_auth::DefaultSocketPath(flags.home);

  auto logger = spdlog::stderr_color_mt("authd");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(flags.log_level));
  spdlog::set_default_logger(logger);
  // Before grpc_init starts threads: taking the socket clears LISTEN_* from the environment.
  absl::StatusOr<std::optional<int>> systemd_socket =
      operator_auth::PeerCheckedListener::TakeSystemdSocket();
  if (!systemd_socket.ok()) {
    spdlog::critical("cannot serve {}: {}", flags.socket,
                     std::string(systemd_socket.status().message()));
    return 1;
  }
  // Keep gRPC's library initialised until the process exits. Otherwise ~Server runs the global
  // grpc_shutdown, which joins gRPC's executor thread; after a burst of calls that thread can sit
  // in a 10 s poll, and SIGTERM would take that long. Our own teardown (server drained and
  // waited for, refreshes finished, files closed) happens before exit either way.
  const sigset_t signals = operator_auth::ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  grpc_init();
  return operator_auth::Run(flags, *systemd_socket);
}
