#include "daemon/core/in_memory_auth_storage.h"

namespace operator_auth {

InMemoryAuthStorage::InMemoryAuthStorage(CredentialDocument initial)
    : document_(std::move(initial)) {}

std::shared_ptr<const CredentialSnapshot> InMemoryAuthStorage::Snapshot() {
  absl::MutexLock lock(&mu_);
  if (snapshot_ == nullptr) {
    snapshot_ =
        std::make_shared<const CredentialSnapshot>(CredentialSnapshot{document_.Credentials(), "", document_.DefaultAccountNames()});
  }
  return snapshot_;
}

absl::Status InMemoryAuthStorage::Update(const Mutation& mutate) {
  absl::MutexLock lock(&mu_);
  CredentialDocument working = document_;
  absl::StatusOr<bool> changed = mutate(working);
  if (!changed.ok()) return changed.status();
  if (!*changed) return absl::OkStatus();
  document_ = std::move(working);
  snapshot_ = nullptr;
  on_change_.NotifyAll();
  return absl::OkStatus();
}

std::string InMemoryAuthStorage::Serialized() {
  absl::MutexLock lock(&mu_);
  return document_.Serialize();
}

}  // namespace operator_auth
