#include "daemon/server/call_tracker.h"

#include <charconv>
#include <system_error>

#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace operator_auth {

std::optional<int> PeerFd(absl::string_view peer) {
  // Digits only (std::from_chars: no sign, no space, no locale; cheaper than SimpleAtoi on the
  // hot path), all of them, and no overflow.
  int fd = -1;
  if (!absl::ConsumePrefix(&peer, "fd:") || peer.empty()) return std::nullopt;
  const auto [end, error] = std::from_chars(peer.data(), peer.data() + peer.size(), fd);
  if (error != std::errc() || end != peer.data() + peer.size() || fd < 0) return std::nullopt;
  return fd;
}

ConnectionTable::Call CallTracker::OnConnection(const grpc::ServerContextBase* context,
                                                ConnectionTable::CallKind kind) {
  if (connections_ == nullptr || context == nullptr) return ConnectionTable::Call();
  std::optional<int> fd = PeerFd(context->peer());
  if (!fd.has_value()) return ConnectionTable::Call();
  return connections_->BeginCall(*fd, kind);
}

bool CallTracker::WaitUntilIdle(absl::Duration timeout) {
  // Shutdown is rare and short: polling keeps the per-call cost to two atomic operations.
  const absl::Time deadline = absl::Now() + timeout;
  while (in_flight_.load(std::memory_order_acquire) != 0) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

}  // namespace operator_auth
