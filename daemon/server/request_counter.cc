#include "daemon/server/request_counter.h"

namespace operator_auth {

RequestCounter::Slot& RequestCounter::Register(const std::string& method) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Slot>& slot = slots_[method];
  if (slot == nullptr) slot = std::make_unique<Slot>();
  return *slot;
}

std::vector<RequestCounter::MethodCount> RequestCounter::Counts() const {
  std::vector<MethodCount> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [method, slot] : slots_) {
    const uint64_t calls = slot->calls_.load(std::memory_order_relaxed);
    if (calls == 0) continue;
    out.push_back({method, calls, slot->errors_.load(std::memory_order_relaxed)});
  }
  return out;
}

}  // namespace operator_auth
