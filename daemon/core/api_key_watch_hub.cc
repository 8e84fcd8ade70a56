#include "daemon/core/api_key_watch_hub.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace operator_auth {

bool KeyUpdate::operator==(const KeyUpdate& other) const {
  if (present != other.present) return false;
  if (!present) return reason == other.reason && code == other.code;
  return key.key == other.key.key && key.source == other.key.source &&
         key.label == other.key.label && key.expires_unix_ms == other.key.expires_unix_ms &&
         key.provider == other.key.provider && key.usage == other.key.usage;
}

ApiKeyWatchHub::ApiKeyWatchHub(ProviderAuthManager& manager, AuthStorage& storage, Options options)
    : manager_(manager), storage_(storage), options_(options) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  storage_listener_ = storage_.AddChangeListener([this] { Notify(); });
  manager_.SetRuntimeChangeListener([this] { Notify(); });
}

ApiKeyWatchHub::~ApiKeyWatchHub() {
  // First, so that no write or refresh still running elsewhere can reach us after this.
  storage_.RemoveChangeListener(storage_listener_);
  manager_.SetRuntimeChangeListener(nullptr);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  Notify();
  if (thread_.joinable()) thread_.join();
  // A resolution waiting for a refresh calls back into us when the refresh ends.
  mu_.LockWhen(absl::Condition(this, &ApiKeyWatchHub::NoneOutstanding));
  mu_.Unlock();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void ApiKeyWatchHub::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void ApiKeyWatchHub::Notify() {
  if (wake_fd_ < 0) return;
  uint64_t one = 1;
  // A full counter already means "wake up"; nothing to do when this write fails.
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

size_t ApiKeyWatchHub::watcher_count() const {
  absl::MutexLock lock(&mu_);
  return watcher_of_.size();
}

absl::StatusOr<uint64_t> ApiKeyWatchHub::Watch(const std::string& provider, Sink sink,
                                               const std::string& peer) {
  absl::MutexLock lock(&mu_);
  if (watcher_of_.size() >= options_.max_watchers) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the daemon already serves ", options_.max_watchers, " key watchers"));
  }
  size_t& of_peer = watchers_per_peer_[peer];
  if (of_peer >= options_.max_watchers_per_peer) {
    return absl::ResourceExhaustedError(
        absl::StrCat("this client already has ", of_peer, " key watchers, the most one may have"));
  }
  ++of_peer;
  const uint64_t id = next_id_++;
  Watched& w = watched_[provider];
  if (w.last.has_value()) {
    sink(*w.last);
  } else {
    w.waiting_for_first.insert(id);
  }
  w.sinks.emplace(id, std::move(sink));
  watcher_of_.emplace(id, Watcher{provider, peer});
  if (!w.last.has_value()) Notify();
  return id;
}

void ApiKeyWatchHub::Unwatch(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = watcher_of_.find(id);
  if (it == watcher_of_.end()) return;
  auto w = watched_.find(it->second.provider);
  if (w != watched_.end()) {
    w->second.sinks.erase(id);
    w->second.waiting_for_first.erase(id);
    // Forget a provider nobody watches, unless a resolution for it is still in flight.
    if (w->second.sinks.empty() && !w->second.resolving) watched_.erase(w);
  }
  if (auto peer = watchers_per_peer_.find(it->second.peer);
      peer != watchers_per_peer_.end() && --peer->second == 0) {
    watchers_per_peer_.erase(peer);
  }
  watcher_of_.erase(it);
}

void ApiKeyWatchHub::Publish(const std::string& provider, KeyUpdate update) {
  auto it = watched_.find(provider);
  if (it == watched_.end()) return;
  Watched& w = it->second;
  if (w.last.has_value() && *w.last == update) {
    for (uint64_t id : w.waiting_for_first) w.sinks.at(id)(update);
  } else {
    for (auto& [id, sink] : w.sinks) sink(update);
    w.last = std::move(update);
  }
  w.waiting_for_first.clear();
}

void ApiKeyWatchHub::Resolve(const std::string& provider) {
  {
    absl::MutexLock lock(&mu_);
    auto it = watched_.find(provider);
    if (it == watched_.end()) return;
    if (it->second.resolving) {
      it->second.again = true;
      return;
    }
    it->second.resolving = true;
    ++outstanding_;
  }
  // Inline when nothing needs refreshing; from the refresh thread when a token had to be renewed.
  manager_.GetApiKeyAsync(provider, [this, provider](absl::StatusOr<ResolvedKey> key) {
    KeyUpdate update;
    if (key.ok()) {
      update.present = true;
      update.key = *std::move(key);
    } else {
      update.reason = std::string(key.status().message());
      update.code = key.status().code();
    }
    absl::MutexLock lock(&mu_);
    --outstanding_;
    auto it = watched_.find(provider);
    if (it == watched_.end()) return;
    it->second.resolving = false;
    Publish(provider, std::move(update));
    if (it->second.sinks.empty()) {
      watched_.erase(it);
    } else if (it->second.again) {
      it->second.again = false;
      Notify();
    }
  });
}

void ApiKeyWatchHub::ResolveAll() {
  std::vector<std::string> providers;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [provider, w] : watched_) providers.push_back(provider);
  }
  for (const std::string& provider : providers) Resolve(provider);
}

absl::Time ApiKeyWatchHub::NextDeadline() {
  absl::Time next = absl::InfiniteFuture();
  for (const auto& [provider, w] : watched_) {
    // A resolution in flight (a refresh) publishes when it ends; no need to look before.
    if (w.resolving) continue;
    if (w.last.has_value() && w.last->present && w.last->key.expires_unix_ms != 0) {
      // The manager counts a token as expired kOAuthExpiryMargin early and refreshes it then.
      next = std::min(next, absl::FromUnixMillis(w.last->key.expires_unix_ms) - kOAuthExpiryMargin +
                                absl::Milliseconds(1));
    }
  }
  // A token that lives less than the margin is due at once every time: look at most once a
  // second, not in a loop.
  if (next != absl::InfiniteFuture()) next = std::max(next, last_expiry_look_ + absl::Seconds(1));
  return next;
}

void ApiKeyWatchHub::Loop() {
  const int external_fd = storage_.ExternalChangeFd();
  while (true) {
    absl::Time deadline;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      deadline = NextDeadline();
    }
    if (external_fd < 0) deadline = std::min(deadline, absl::Now() + options_.stat_poll);
    int timeout_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      timeout_ms = static_cast<int>(
          std::clamp<int64_t>(absl::ToInt64Milliseconds(deadline - absl::Now()) + 1, 0,
                              absl::ToInt64Milliseconds(absl::Minutes(10))));
    }
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {external_fd, POLLIN, 0}};
    int ready = poll(fds, external_fd >= 0 ? 2 : 1, timeout_ms);
    if (ready < 0 && errno != EINTR) {
      spdlog::error("key watch: poll failed (errno {}); retrying in 1 s", errno);
      absl::SleepFor(absl::Seconds(1));
    }
    // Reads a pending external edit. Its change listener writes the eventfd, which is drained
    // after, so our own look does not wake us again; ResolveAll below sees what it read.
    storage_.Snapshot();
    uint64_t count = 0;
    [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof(count));
    if (ready == 0) {
      absl::MutexLock lock(&mu_);
      last_expiry_look_ = absl::Now();
    }
    ResolveAll();
  }
}

}  // namespace operator_auth
