#include "daemon/core/login_slots.h"

#include "absl/strings/str_cat.h"

namespace operator_auth {

absl::StatusOr<LoginSlots::Slot> LoginSlots::Acquire(const std::string& provider) {
  absl::MutexLock lock(&mu_);
  if (running_.contains(provider)) {
    return absl::AlreadyExistsError(
        absl::StrCat("a login for ", provider, " is already running; finish or cancel it first"));
  }
  if (running_.size() >= max_logins_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        max_logins_, " logins are already running; finish or cancel one and try again"));
  }
  running_.insert(provider);
  return Slot(this, provider);
}

size_t LoginSlots::running() const {
  absl::MutexLock lock(&mu_);
  return running_.size();
}

void LoginSlots::Release(const std::string& provider) {
  absl::MutexLock lock(&mu_);
  running_.erase(provider);
}

}  // namespace operator_auth
