// A provider's key kept current in this process, for agents that make many LLM calls: the daemon
// pushes every change over one WatchApiKey stream, and Get() answers from memory with no socket
// round trip and no lock.
//
//   operator_auth::WatchedApiKey openai("openai");
//   absl::StatusOr<operator_auth::ApiKey> key = openai.Await(std::chrono::seconds(2));  // first
//   ... later, per request:  key = openai.Get();
//
// Rotation, refresh, unset, logout and runtime overrides reach Get() as soon as the daemon sends
// them. A key whose expiry has passed is never handed out; Get() says UNAVAILABLE until the fresh
// one arrives (Await() waits for it). When the daemon restarts, the stream reconnects with
// exponential back-off; meanwhile the last key the daemon sent is still served (until it expires).
// When the daemon has no key (NOT_FOUND), or has never answered, the caller's {ID}_API_KEY (read
// once, at construction) stands in if allowed, as with AuthClient::GetApiKey; any other answer
// (a failed refresh) is reported as the daemon's error.
// Thread-safety: Get() and Await() may be called from any number of threads at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "operator_auth/auth_client.h"

namespace grpc {
class ClientContext;
}  // namespace grpc

namespace operator_auth {

struct WatchedApiKeyOptions {
  // Empty: the same default as AuthClient's.
  std::string socket_path;
  // Whether the caller's {ID}_API_KEY may stand in when the daemon has no key or is away (for the
  // default account only).
  bool env_fallback = true;
  // As AuthClientOptions::account: empty means $OPERATOR_AUTH_ACCOUNT, else the default account.
  std::string account;
  // Reconnect back-off: doubles from initial to max, with ±20 % jitter.
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
};

class WatchedApiKey {
 public:
  // Starts watching at once (a background thread holds the stream).
  explicit WatchedApiKey(std::string provider, WatchedApiKeyOptions options = {});
  ~WatchedApiKey();
  WatchedApiKey(const WatchedApiKey&) = delete;
  WatchedApiKey& operator=(const WatchedApiKey&) = delete;

  // The current key, from memory. NOT_FOUND when the daemon has none and no fallback applies;
  // UNAVAILABLE before the daemon's first answer (without a fallback) or while the held key has
  // expired and a fresh one is awaited; INVALID_ARGUMENT for a bad provider id.
  absl::StatusOr<ApiKey> Get() const;
  // Get(), waiting up to `timeout` for it to succeed (the first answer, a fresh key).
  absl::StatusOr<ApiKey> Await(std::chrono::milliseconds timeout) const;

  // Updates received from the daemon so far, and whether the stream is up now.
  uint64_t updates_received() const { return updates_.load(std::memory_order_acquire); }
  bool connected() const { return connected_.load(std::memory_order_acquire); }
  const std::string& provider() const { return provider_; }

 private:
  // What the daemon last said.
  struct State {
    enum class Kind { kNoAnswer, kKey, kNone, kRefused };
    Kind kind = Kind::kNoAnswer;
    ApiKey key;
    std::string reason;                                   // kNone / kRefused: the daemon's words
    absl::StatusCode code = absl::StatusCode::kNotFound;  // kNone: what GetApiKey would say
  };
  // Readers count themselves in before copying; the one writer reuses a slot only when its count
  // is zero and it is not current.
  struct alignas(64) Slot {
    State state;
    // Own cache line: readers bump it, and the state beside it is read-mostly.
    alignas(64) mutable std::atomic<int> readers{0};
  };

  void Run();
  void Publish(State state);
  absl::StatusOr<ApiKey> Answer(const State& state) const;
  bool SleepUnlessStopping(std::chrono::milliseconds duration);

  const std::string provider_;
  const WatchedApiKeyOptions options_;
  const std::string socket_path_;
  const std::string env_var_;
  const std::optional<std::string> env_value_;

  Slot slots_[2];
  std::atomic<int> current_{0};
  std::atomic<uint64_t> updates_{0};
  std::atomic<bool> connected_{false};

  mutable absl::Mutex mu_;
  mutable absl::CondVar changed_;  // signalled on every Publish
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;  // the open stream's
  std::thread thread_;
};

}  // namespace operator_auth
