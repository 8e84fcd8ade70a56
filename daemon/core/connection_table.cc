#include "daemon/core/connection_table.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace operator_auth {

size_t ConnectionTable::CapacityFor(rlim_t open_files) {
  if (open_files == RLIM_INFINITY ||
      open_files > 2 * kDefaultMaxConnections + kReservedDescriptors) {
    return kDefaultMaxConnections;
  }
  const rlim_t spare = open_files > kReservedDescriptors ? open_files - kReservedDescriptors : 0;
  return std::max<size_t>(kMinMaxConnections, static_cast<size_t>(spare / 2));
}

ConnectionTable::ConnectionTable(size_t max_connections, Clock now)
    : max_connections_(std::max<size_t>(1, max_connections)), now_(std::move(now)) {}

ConnectionTable::~ConnectionTable() {
  absl::MutexLock lock(&mu_);
  for (const auto& [fd, entry] : entries_) close(entry.dup_fd);
}

absl::Status ConnectionTable::Admit(int fd) { return Admit(fd, ReadPeerIdentity(fd)); }

absl::Status ConnectionTable::Admit(int fd, PeerIdentityPtr identity) {
  absl::MutexLock lock(&mu_);
  // The kernel handed out `fd` again, so the connection we knew by that number is closed.
  if (entries_.contains(fd)) ForgetLocked(fd);
  if (entries_.size() >= max_connections_) {
    ReapLocked();
    if (entries_.size() >= max_connections_ && !ShedLocked(Shed::kIdleOrWatcher)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "all ", max_connections_, " connections have calls in flight; try again shortly"));
    }
  }
  int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0 && (errno == EMFILE || errno == ENFILE) && ShedLocked(Shed::kIdleOnly)) {
    dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  }
  if (dup_fd < 0) {
    return absl::ResourceExhaustedError(
        "out of file descriptors for a new connection; raise the daemon's open-file limit");
  }
  Entry& entry = entries_[fd];
  entry.id = next_id_++;
  entry.dup_fd = dup_fd;
  entry.last_active = now_();
  entry.identity = std::move(identity);
  return absl::OkStatus();
}

bool ConnectionTable::ShedOne() {
  absl::MutexLock lock(&mu_);
  ReapLocked();
  return ShedLocked(Shed::kIdleOnly);
}

ConnectionTable::Call ConnectionTable::BeginCall(int fd, CallKind kind) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(fd);
  if (it == entries_.end()) return Call();
  Entry& entry = it->second;
  (kind == CallKind::kUnary ? entry.unary_in_flight : entry.streams_in_flight) += 1;
  entry.last_active = now_();
  return Call(this, fd, entry.id, kind, entry.identity);
}

void ConnectionTable::EndCall(int fd, uint64_t id, CallKind kind) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(fd);
  if (it == entries_.end() || it->second.id != id) return;  // shed, or the number was reused
  Entry& entry = it->second;
  (kind == CallKind::kUnary ? entry.unary_in_flight : entry.streams_in_flight) -= 1;
  entry.last_active = now_();
}

size_t ConnectionTable::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

uint64_t ConnectionTable::shed_count() const {
  absl::MutexLock lock(&mu_);
  return shed_;
}

void ConnectionTable::ReapLocked() {
  std::vector<pollfd> fds;
  std::vector<int> keys;
  fds.reserve(entries_.size());
  keys.reserve(entries_.size());
  for (const auto& [fd, entry] : entries_) {
    fds.push_back({entry.dup_fd, POLLRDHUP, 0});
    keys.push_back(fd);
  }
  if (fds.empty() || poll(fds.data(), fds.size(), 0) <= 0) return;
  for (size_t i = 0; i < fds.size(); ++i) {
    if ((fds[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) ForgetLocked(keys[i]);
  }
}

std::optional<int> ConnectionTable::ShedCandidateLocked(Shed which) const {
  std::optional<int> idle;
  absl::Time idle_since = absl::InfiniteFuture();
  std::optional<int> watcher;
  absl::Time watcher_since = absl::InfiniteFuture();
  for (const auto& [fd, entry] : entries_) {
    if (entry.unary_in_flight > 0) continue;
    if (entry.streams_in_flight == 0) {
      if (entry.last_active < idle_since) {
        idle = fd;
        idle_since = entry.last_active;
      }
    } else if (entry.last_active < watcher_since) {
      watcher = fd;
      watcher_since = entry.last_active;
    }
  }
  if (idle.has_value() || which == Shed::kIdleOnly) return idle;
  return watcher;
}

bool ConnectionTable::ShedLocked(Shed which) {
  std::optional<int> victim = ShedCandidateLocked(which);
  if (!victim.has_value()) return false;
  // The dup is the very socket we accepted: the server's fd sees EOF and is closed by it.
  const Entry& entry = entries_[*victim];
  spdlog::debug("connection cap: shed fd:{} ({}, last active {} ago)", *victim,
                entry.streams_in_flight > 0 ? "watching" : "idle",
                absl::FormatDuration(now_() - entry.last_active));
  shutdown(entry.dup_fd, SHUT_RDWR);
  ForgetLocked(*victim);
  ++shed_;
  return true;
}

void ConnectionTable::ForgetLocked(int fd) {
  auto it = entries_.find(fd);
  if (it == entries_.end()) return;
  close(it->second.dup_fd);
  entries_.erase(it);
}

}  // namespace operator_auth
