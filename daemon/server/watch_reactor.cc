#include "daemon/server/watch_reactor.h"

#include "common/credential_key.h"
#include "daemon/server/key_conversion.h"
#include "daemon/server/status_conversion.h"

namespace operator_auth {
namespace {

v1::ApiKeyUpdate ToProto(const KeyUpdate& in, const std::string& provider) {
  v1::ApiKeyUpdate out;
  out.set_present(in.present);
  out.set_provider(std::string(ProviderOfKey(provider)));
  out.set_account(std::string(AccountOfKey(provider)));
  if (in.present) {
    FillKeyFields(in.key, out);
  } else {
    out.set_reason(in.reason);
    out.set_code(static_cast<int32_t>(in.code));
  }
  return out;
}

}  // namespace

WatchReactor::WatchReactor(ApiKeyWatchHub& hub, const std::string& provider,
                           const std::string& peer, ConnectionTable::Call connection,
                           absl::Status admitted)
    : hub_(hub), provider_(provider), connection_(std::move(connection)) {
  if (!admitted.ok()) {
    absl::MutexLock lock(&mu_);
    finished_ = true;
    Finish(ToGrpcStatus(admitted));
    return;
  }
  if (absl::Status s = ParseCredentialSelector(provider).status(); !s.ok()) {
    absl::MutexLock lock(&mu_);
    finished_ = true;
    Finish(ToGrpcStatus(s));
    return;
  }
  // The hub may offer the first update from inside Watch(); Offer takes mu_, so not held here.
  absl::StatusOr<uint64_t> id = hub_.Watch(
      provider, [this](const KeyUpdate& u) { Offer(u); }, peer);
  absl::MutexLock lock(&mu_);
  if (!id.ok()) {
    finished_ = true;
    Finish(ToGrpcStatus(id.status()));
    return;
  }
  watch_id_ = *id;
}

void WatchReactor::Offer(const KeyUpdate& update) {
  absl::MutexLock lock(&mu_);
  if (finished_ || cancelled_) return;
  if (writing_) {
    pending_ = ToProto(update, provider_);  // replaces an older update the client has not received
    return;
  }
  writing_ = true;
  in_flight_ = ToProto(update, provider_);
  StartWrite(&in_flight_);
}

void WatchReactor::OnWriteDone(bool ok) {
  if (!ok) StopWatching();  // the stream is broken: take no more updates
  absl::MutexLock lock(&mu_);
  writing_ = false;
  if (finished_) return;
  if (cancelled_ || !ok) {
    // OnCancel waited for this write before finishing; or the write failed.
    finished_ = true;
    Finish(ok ? grpc::Status::CANCELLED
              : grpc::Status(grpc::StatusCode::UNAVAILABLE, "the update could not be sent"));
    return;
  }
  if (pending_.has_value()) {
    writing_ = true;
    in_flight_ = *std::move(pending_);
    pending_.reset();
    StartWrite(&in_flight_);
  }
}

void WatchReactor::StopWatching() {
  std::optional<uint64_t> id;
  {
    absl::MutexLock lock(&mu_);
    id = watch_id_;
    watch_id_.reset();
  }
  // Outside mu_: the hub calls Offer (which takes mu_) while holding its own lock.
  if (id.has_value()) hub_.Unwatch(*id);
}

void WatchReactor::OnCancel() {
  StopWatching();
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  pending_.reset();
  // Finish once no write is in flight: here, or in OnWriteDone.
  if (!finished_ && !writing_) {
    finished_ = true;
    Finish(grpc::Status::CANCELLED);
  }
}

void WatchReactor::OnDone() {
  StopWatching();
  delete this;
}

}  // namespace operator_auth
