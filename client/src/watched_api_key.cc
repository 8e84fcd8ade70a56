#include "operator_auth/watched_api_key.h"

#include <algorithm>
#include <random>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/default_paths.h"
#include "common/provider_id.h"
#include "daemon_channel.h"
#include "key_conversion.h"

namespace operator_auth {

namespace {

// The account the watch names: the options', else $OPERATOR_AUTH_ACCOUNT, unless the provider
// names one itself ("PROVIDER@ACCOUNT"). A named account gets no fallback to the caller's
// {ID}_API_KEY, which is one key per provider.
WatchedApiKeyOptions WithAccount(WatchedApiKeyOptions options, const std::string& provider) {
  if (options.account.empty()) {
    options.account = client_internal::CallerEnv("OPERATOR_AUTH_ACCOUNT").value_or("");
  }
  if (provider.find('@') != std::string::npos) options.account.clear();
  if (!options.account.empty()) options.env_fallback = false;
  return options;
}

}  // namespace

WatchedApiKey::WatchedApiKey(std::string provider, WatchedApiKeyOptions options)
    : provider_(std::move(provider)),
      options_(WithAccount(std::move(options), provider_)),
      socket_path_(options_.socket_path.empty() ? DefaultSocketPath() : options_.socket_path),
      env_var_(ValidateProviderId(provider_).ok() ? ApiKeyEnvVarName(provider_) : ""),
      env_value_(options_.env_fallback && !env_var_.empty() ? client_internal::CallerEnv(env_var_)
                                                            : std::nullopt) {
  thread_ = std::thread([this] { Run(); });
}

WatchedApiKey::~WatchedApiKey() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
    changed_.SignalAll();
  }
  thread_.join();
}

absl::StatusOr<ApiKey> WatchedApiKey::Answer(const State& state) const {
  switch (state.kind) {
    case State::Kind::kKey:
      if (state.key.expires_unix_ms != 0 &&
          absl::ToUnixMillis(absl::Now()) >= state.key.expires_unix_ms) {
        return absl::UnavailableError(absl::StrCat(
            "the ", provider_, " token has expired; waiting for the daemon's fresh one"));
      }
      return state.key;
    case State::Kind::kRefused:
      return absl::InvalidArgumentError(state.reason);
    case State::Kind::kNone:
      // Like GetApiKey: only "no credential at all" lets the caller's environment stand in.
      if (state.code != absl::StatusCode::kNotFound) return absl::Status(state.code, state.reason);
      break;
    case State::Kind::kNoAnswer:
      break;
  }
  if (env_value_.has_value()) {
    ApiKey key;
    key.key = *env_value_;
    key.source = ApiKeySource::kCallerEnv;
    key.label = absl::StrCat(env_var_, state.kind == State::Kind::kNone
                                           ? " (daemon has no credential)"
                                           : " (daemon unreachable)");
    return key;
  }
  if (state.kind == State::Kind::kNone) return absl::NotFoundError(state.reason);
  return absl::UnavailableError(
      absl::StrCat("no answer yet from operator-authd at ", socket_path_, " for ", provider_));
}

absl::StatusOr<ApiKey> WatchedApiKey::Get() const {
  while (true) {
    const int i = current_.load();
    slots_[i].readers.fetch_add(1);
    if (current_.load() == i) {
      absl::StatusOr<ApiKey> answer = Answer(slots_[i].state);
      slots_[i].readers.fetch_sub(1);
      return answer;
    }
    // The writer switched slots in between: this one may be rewritten; use the current one.
    slots_[i].readers.fetch_sub(1);
  }
}

absl::StatusOr<ApiKey> WatchedApiKey::Await(std::chrono::milliseconds timeout) const {
  const absl::Time deadline = absl::Now() + absl::FromChrono(timeout);
  absl::MutexLock lock(&mu_);
  while (true) {
    absl::StatusOr<ApiKey> key = Get();
    // NOT_FOUND and INVALID_ARGUMENT are answers; UNAVAILABLE means "not yet".
    if (key.ok() || !absl::IsUnavailable(key.status()) || stopping_) return key;
    // Publish signals under mu_, which we hold from Get() until the wait: no update is missed.
    if (changed_.WaitWithDeadline(&mu_, deadline)) return Get();
  }
}

void WatchedApiKey::Publish(State state) {
  // Only the watch thread writes. Wait for readers still copying the other slot (an instant).
  const int next = 1 - current_.load();
  while (slots_[next].readers.load() != 0) std::this_thread::yield();
  slots_[next].state = std::move(state);
  current_.store(next);
  updates_.fetch_add(1, std::memory_order_release);
  absl::MutexLock lock(&mu_);
  changed_.SignalAll();
}

bool WatchedApiKey::SleepUnlessStopping(std::chrono::milliseconds duration) {
  const absl::Time deadline = absl::Now() + absl::FromChrono(duration);
  absl::MutexLock lock(&mu_);
  while (!stopping_ && !changed_.WaitWithDeadline(&mu_, deadline)) {
  }
  return !stopping_;
}

void WatchedApiKey::Run() {
  std::shared_ptr<grpc::Channel> channel = client_internal::DaemonChannel(socket_path_);
  std::unique_ptr<v1::AuthService::Stub> stub = v1::AuthService::NewStub(channel);
  std::mt19937_64 random(std::random_device{}());
  std::chrono::milliseconds backoff = options_.initial_backoff;
  v1::WatchApiKeyRequest request;
  request.set_provider(provider_);
  request.set_account(options_.account);
  while (true) {
    if (absl::Status peer = client_internal::CheckDaemonPeer(*channel, socket_path_); !peer.ok()) {
      // Another uid serves the path: every Get() says so (the last key is dropped), and we look
      // again later, as the real daemon may take the path back. A busy socket only delays us.
      if (absl::IsPermissionDenied(peer)) {
        State refused;
        refused.kind = State::Kind::kNone;
        refused.code = peer.code();
        refused.reason = std::string(peer.message());
        Publish(std::move(refused));
      }
      if (!SleepUnlessStopping(backoff)) return;
      backoff = std::min(backoff * 2, options_.max_backoff);
      continue;
    }
    grpc::ClientContext context;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      context_ = &context;
    }
    std::unique_ptr<grpc::ClientReader<v1::ApiKeyUpdate>> reader =
        stub->WatchApiKey(&context, request);
    v1::ApiKeyUpdate update;
    while (reader->Read(&update)) {
      connected_.store(true, std::memory_order_release);
      backoff = options_.initial_backoff;
      State state;
      if (update.present()) {
        state.kind = State::Kind::kKey;
        state.key = client_internal::ApiKeyFrom(update);
      } else {
        state.kind = State::Kind::kNone;
        state.reason = update.reason();
        state.code = update.code() == 0 ? absl::StatusCode::kNotFound
                                        : static_cast<absl::StatusCode>(update.code());
      }
      Publish(std::move(state));
    }
    grpc::Status status = reader->Finish();
    connected_.store(false, std::memory_order_release);
    {
      absl::MutexLock lock(&mu_);
      context_ = nullptr;
      if (stopping_) return;
    }
    if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      // A bad provider id stays bad: say so to every Get() and stop.
      State refused;
      refused.kind = State::Kind::kRefused;
      refused.reason = status.error_message();
      Publish(std::move(refused));
      return;
    }
    // The last key stays served while we reconnect (the daemon restarts quickly).
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    auto wait = std::chrono::milliseconds(
        static_cast<int64_t>(static_cast<double>(backoff.count()) * jitter(random)));
    if (!SleepUnlessStopping(wait)) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace operator_auth
