#include "daemon/fleet/etcd_kv.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "daemon/core/secret_string.h"
#include "etcd/etcdserver/etcdserverpb/maintenance_status.grpc.pb.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace operator_auth {
namespace {

namespace pb = ::etcdserverpb;

struct Endpoint {
  std::string url;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::KV::Stub> kv;
  std::unique_ptr<pb::Lease::Stub> lease;
  std::unique_ptr<pb::Watch::Stub> watch;
  std::unique_ptr<pb::Maintenance::Stub> maintenance;
};

// A PEM file of the TLS set-up, under the rules every file the daemon trusts is read by
// (trusted_path.h): no symlink, ours or root's, not writable by others; errors never quote it.
absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view what,
                                    const TrustBoundary& boundary) {
  constexpr size_t kMaxPemBytes = 1 << 20;
  absl::StatusOr<std::string> text = ReadTrustedFile(path, kMaxPemBytes, boundary);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("fleet tls ", what, ": ", text.status().message()));
  }
  return text;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentials(
    const EtcdTls& tls, const TrustBoundary& boundary) {
  grpc::SslCredentialsOptions ssl;
  if (!tls.ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(tls.ca_file, "ca_file", boundary);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError("fleet tls: cert_file and key_file go together");
  }
  if (!tls.cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadPem(tls.cert_file, "cert_file", boundary);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem(tls.key_file, "key_file", boundary);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::SslCredentials(ssl);
  CleanseString(ssl.pem_private_key);  // gRPC keeps its own copy
  return credentials;
}

// "http://host:port" -> ("host:port", false); "https://..." -> (..., true).
absl::StatusOr<std::pair<std::string, bool>> ParseEndpoint(absl::string_view url) {
  absl::string_view rest = url;
  bool tls = false;
  if (absl::ConsumePrefix(&rest, "https://")) {
    tls = true;
  } else if (!absl::ConsumePrefix(&rest, "http://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("fleet endpoint '", url, "': expected http://HOST:PORT or https://HOST:PORT"));
  }
  absl::ConsumeSuffix(&rest, "/");
  const size_t colon = rest.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(rest.substr(colon + 1), &port) || port <= 0 || port > 65535 ||
      absl::StrContains(rest, '/')) {
    return absl::InvalidArgumentError(
        absl::StrCat("fleet endpoint '", url, "': expected http://HOST:PORT or https://HOST:PORT"));
  }
  return std::make_pair(std::string(rest), tls);
}

// Transient for one member: another may answer (etcd says "no leader", "leader changed" and
// "request timed out" as UNAVAILABLE).
bool TryAnotherMember(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat("etcd: ", status.error_message()));
}

KvEntry FromProto(const ::mvccpb::KeyValue& kv) {
  KvEntry entry;
  entry.key = kv.key();
  entry.value = kv.value();
  entry.create_revision = kv.create_revision();
  entry.mod_revision = kv.mod_revision();
  entry.lease = kv.lease();
  return entry;
}

}  // namespace

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key (etcd's convention for "to the end")
}

struct EtcdKv::Impl {
  EtcdKvOptions options;
  std::vector<Endpoint> endpoints;
  mutable absl::Mutex mu;
  size_t current ABSL_GUARDED_BY(mu) = 0;

  // Runs `call(endpoint, context)` on the current member, then on each other one while members
  // answer UNAVAILABLE or run out of time.
  template <typename Call>
  absl::Status OnSomeMember(Call&& call) {
    size_t start;
    {
      absl::MutexLock lock(&mu);
      start = current;
    }
    grpc::Status last;
    for (size_t i = 0; i < endpoints.size(); ++i) {
      const size_t at = (start + i) % endpoints.size();
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + options.call_timeout));
      // Wait for a connection within the deadline instead of failing at once on a channel in
      // backoff: a member that has come back is then used as soon as it answers.
      context.set_wait_for_ready(true);
      last = call(endpoints[at], context);
      if (!TryAnotherMember(last)) {
        if (at != start) {
          absl::MutexLock lock(&mu);
          current = at;
        }
        return last.ok() ? absl::OkStatus() : FromGrpc(last);
      }
    }
    return absl::UnavailableError(absl::StrCat("no etcd member answered in time (",
                                               absl::StrJoin(options.endpoints, ", "),
                                               "): ", last.error_message()));
  }
};

// A watch stream on gRPC's callback API, so that no thread of ours waits on it. A synchronous
// reader sits in CompletionQueue::Pluck on gRPC's process-wide poll set, which the daemon's own
// server connections share, and their traffic wakes it: measured in authd_fleet_bench, about 0.7
// extra context switches per GetApiKey on a fleet daemon. Callbacks run on gRPC's threads, one
// reaction at a time per kind; `callback_` gets events in order and at most one error.
class EtcdWatch : public KvWatch,
                  public grpc::ClientBidiReactor<pb::WatchRequest, pb::WatchResponse> {
 public:
  EtcdWatch(pb::Watch::Stub* stub, pb::WatchRequest request, FleetKv::WatchCallback callback)
      : request_(std::move(request)), callback_(std::move(callback)) {
    // Without a leader the member cannot promise to deliver every event: end the watch then
    // (etcd's clientv3.WithRequireLeader), so the caller re-watches through another member.
    context_.AddMetadata("hasleader", "true");
    stub->async()->Watch(&context_, this);
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }
  // Never called from one of this watch's own callbacks (it waits for OnDone).
  ~EtcdWatch() override {
    ended_.store(true);  // our own cancel is not an end to report
    context_.TryCancel();
    done_.WaitForNotification();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended: OnDone says how
    if (response_.compact_revision() > 0) {
      End(absl::OutOfRangeError(absl::StrCat("etcd watch: history before revision ",
                                             response_.compact_revision(), " was compacted")));
      return;
    }
    if (response_.canceled()) {
      End(absl::UnavailableError(
          absl::StrCat("etcd watch cancelled by the member: ", response_.cancel_reason())));
      return;
    }
    // No events: "created", or a progress notification.
    if (response_.events_size() > 0) {
      std::vector<KvEvent> events;
      events.reserve(static_cast<size_t>(response_.events_size()));
      for (const ::mvccpb::Event& event : response_.events()) {
        KvEvent out;
        out.type =
            event.type() == ::mvccpb::Event::DELETE ? KvEvent::Type::kDelete : KvEvent::Type::kPut;
        out.entry = FromProto(event.kv());
        events.push_back(std::move(out));
      }
      callback_(std::move(events));
    }
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    // Every end the caller did not ask for is reported, CANCELLED included: etcd cancels a watch
    // itself ("etcdserver: watch canceled", a member shutting down). Our destructor and End()
    // set ended_ first, so theirs is not reported again.
    End(absl::UnavailableError(absl::StrCat("etcd watch ended: ", status.error_message())));
    done_.Notify();  // the last touch of this object: the destructor may run from here on
  }

 private:
  void End(absl::Status status) {
    if (ended_.exchange(true)) return;
    context_.TryCancel();
    callback_(std::move(status));
  }

  const pb::WatchRequest request_;
  pb::WatchResponse response_;
  FleetKv::WatchCallback callback_;
  grpc::ClientContext context_;
  std::atomic<bool> ended_{false};
  absl::Notification done_;  // OnDone ran
};

absl::StatusOr<std::unique_ptr<EtcdKv>> EtcdKv::Create(const EtcdKvOptions& options) {
  if (options.endpoints.empty()) {
    return absl::InvalidArgumentError("fleet: etcd_endpoints lists no endpoint");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  for (const std::string& url : options.endpoints) {
    absl::StatusOr<std::pair<std::string, bool>> target = ParseEndpoint(url);
    if (!target.ok()) return target.status();
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
    if (target->second) {
      absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tls = TlsCredentials(options.tls, options.boundary);
      if (!tls.ok()) return tls.status();
      credentials = *std::move(tls);
    }
    grpc::ChannelArguments arguments;
    // A member that went away is noticed within seconds, not at the next call's deadline.
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
    // A member that comes back is used within 2 s; gRPC's default backoff grows to 120 s, which
    // would keep a daemon off a recovered cluster for minutes.
    // (The minimum backoff is also gRPC's connect timeout: left at its default, since a member
    // that has just started accepts connections a while before it answers on them.)
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    Endpoint endpoint;
    endpoint.url = url;
    endpoint.channel = grpc::CreateCustomChannel(target->first, credentials, arguments);
    endpoint.kv = pb::KV::NewStub(endpoint.channel);
    endpoint.lease = pb::Lease::NewStub(endpoint.channel);
    endpoint.watch = pb::Watch::NewStub(endpoint.channel);
    endpoint.maintenance = pb::Maintenance::NewStub(endpoint.channel);
    impl->endpoints.push_back(std::move(endpoint));
  }
  return std::unique_ptr<EtcdKv>(new EtcdKv(std::move(impl)));
}

EtcdKv::EtcdKv(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EtcdKv::~EtcdKv() = default;

std::string EtcdKv::CurrentEndpoint() const {
  absl::MutexLock lock(&impl_->mu);
  return impl_->endpoints[impl_->current].url;
}

std::vector<KvMember> EtcdKv::ProbeMembers(absl::Duration timeout) {
  std::vector<KvMember> members(impl_->endpoints.size());
  std::vector<std::thread> probes;
  probes.reserve(members.size());
  // All at once, so a dead member costs one timeout in all, not one each.
  for (size_t i = 0; i < members.size(); ++i) {
    probes.emplace_back([this, i, timeout, &members] {
      const Endpoint& endpoint = impl_->endpoints[i];
      KvMember& member = members[i];
      member.endpoint = endpoint.url;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
      pb::StatusResponse response;
      const grpc::Status status =
          endpoint.maintenance->Status(&context, pb::StatusRequest(), &response);
      if (!status.ok()) {
        member.problem = std::string(FromGrpc(status).message());
        return;
      }
      member.reachable = true;
      member.leader = response.leader() != 0 && response.leader() == response.header().member_id();
      member.version = response.version();
      // Alarms (NOSPACE, CORRUPT) and "no leader" come as errors on an answering member.
      member.problem = absl::StrJoin(response.errors(), "; ");
      if (response.leader() == 0) {
        member.problem = member.problem.empty() ? "no leader" : member.problem + "; no leader";
      }
    });
  }
  for (std::thread& probe : probes) probe.join();
  return members;
}

absl::StatusOr<KvRead> EtcdKv::Get(absl::string_view key) {
  pb::RangeRequest request;
  request.set_key(std::string(key));
  pb::RangeResponse response;
  absl::Status status = impl_->OnSomeMember([&](Endpoint& e, grpc::ClientContext& context) {
    return e.kv->Range(&context, request, &response);
  });
  if (!status.ok()) return status;
  KvRead read;
  read.revision = response.header().revision();
  if (response.kvs_size() > 0) read.entry = FromProto(response.kvs(0));
  return read;
}

absl::StatusOr<std::vector<KvEntry>> EtcdKv::List(absl::string_view prefix, int64_t* revision) {
  pb::RangeRequest request;
  request.set_key(std::string(prefix));
  request.set_range_end(PrefixEnd(prefix));
  pb::RangeResponse response;
  absl::Status status = impl_->OnSomeMember([&](Endpoint& e, grpc::ClientContext& context) {
    return e.kv->Range(&context, request, &response);
  });
  if (!status.ok()) return status;
  std::vector<KvEntry> entries;
  entries.reserve(static_cast<size_t>(response.kvs_size()));
  for (const ::mvccpb::KeyValue& kv : response.kvs()) entries.push_back(FromProto(kv));
  if (revision != nullptr) *revision = response.header().revision();
  return entries;
}

namespace {

// Txn: if mod_revision(key) == expected then `success` else read the key.
pb::TxnRequest CompareModRevision(absl::string_view key, int64_t expected) {
  pb::TxnRequest txn;
  pb::Compare* compare = txn.add_compare();
  compare->set_key(std::string(key));
  compare->set_target(pb::Compare::MOD);
  compare->set_result(pb::Compare::EQUAL);
  compare->set_mod_revision(expected);
  txn.add_failure()->mutable_request_range()->set_key(std::string(key));
  return txn;
}

KvSwap SwapFrom(const pb::TxnResponse& response) {
  KvSwap swap;
  swap.succeeded = response.succeeded();
  swap.revision = response.header().revision();
  if (!swap.succeeded && response.responses_size() > 0 &&
      response.responses(0).response_range().kvs_size() > 0) {
    swap.current = FromProto(response.responses(0).response_range().kvs(0));
  }
  return swap;
}

}  // namespace

absl::StatusOr<KvSwap> EtcdKv::PutIf(absl::string_view key, int64_t expected_mod_revision,
                                     absl::string_view value, int64_t lease) {
  pb::TxnRequest txn = CompareModRevision(key, expected_mod_revision);
  pb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(std::string(key));
  put->set_value(std::string(value));
  put->set_lease(lease);
  pb::TxnResponse response;
  absl::Status status = impl_->OnSomeMember([&](Endpoint& e, grpc::ClientContext& context) {
    return e.kv->Txn(&context, txn, &response);
  });
  if (!status.ok()) return status;
  return SwapFrom(response);
}

absl::StatusOr<KvSwap> EtcdKv::DeleteIf(absl::string_view key, int64_t expected_mod_revision) {
  pb::TxnRequest txn = CompareModRevision(key, expected_mod_revision);
  txn.add_success()->mutable_request_delete_range()->set_key(std::string(key));
  pb::TxnResponse response;
  absl::Status status = impl_->OnSomeMember([&](Endpoint& e, grpc::ClientContext& context) {
    return e.kv->Txn(&context, txn, &response);
  });
  if (!status.ok()) return status;
  return SwapFrom(response);
}

absl::StatusOr<int64_t> EtcdKv::GrantLease(int64_t ttl_seconds) {
  pb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  pb::LeaseGrantResponse response;
  absl::Status status = impl_->OnSomeMember([&](Endpoint& e, grpc::ClientContext& context) {
    return e.lease->LeaseGrant(&context, request, &response);
  });
  if (!status.ok()) return status;
  if (!response.error().empty()) {
    return absl::FailedPreconditionError(absl::StrCat("etcd lease grant: ", response.error()));
  }
  return response.id();
}

absl::StatusOr<int64_t> EtcdKv::KeepAlive(int64_t lease) {
  pb::LeaseKeepAliveRequest request;
  request.set_id(lease);
  pb::LeaseKeepAliveResponse response;
  absl::Status status = impl_->OnSomeMember([&](Endpoint& e, grpc::ClientContext& context) {
    auto stream = e.lease->LeaseKeepAlive(&context);
    if (stream->Write(request) && stream->Read(&response)) {
      context.TryCancel();  // the member keeps the stream open for more renewals otherwise
      stream->Finish();
      return grpc::Status::OK;
    }
    const grpc::Status finished = stream->Finish();
    return finished.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "no keep-alive answer")
                         : finished;
  });
  if (!status.ok()) return status;
  if (response.ttl() <= 0) {
    return absl::NotFoundError(absl::StrCat("etcd lease ", lease, " has expired"));
  }
  return response.ttl();
}

absl::Status EtcdKv::RevokeLease(int64_t lease) {
  pb::LeaseRevokeRequest request;
  request.set_id(lease);
  pb::LeaseRevokeResponse response;
  return impl_->OnSomeMember([&](Endpoint& e, grpc::ClientContext& context) {
    return e.lease->LeaseRevoke(&context, request, &response);
  });
}

absl::StatusOr<std::unique_ptr<KvWatch>> EtcdKv::Watch(absl::string_view prefix,
                                                       int64_t start_revision,
                                                       WatchCallback callback) {
  pb::WatchRequest request;
  pb::WatchCreateRequest* create = request.mutable_create_request();
  create->set_key(std::string(prefix));
  create->set_range_end(PrefixEnd(prefix));
  create->set_start_revision(start_revision);
  size_t at;
  {
    absl::MutexLock lock(&impl_->mu);
    at = impl_->current;
  }
  return std::unique_ptr<KvWatch>(
      new EtcdWatch(impl_->endpoints[at].watch.get(), std::move(request), std::move(callback)));
}

}  // namespace operator_auth
