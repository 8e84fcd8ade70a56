// AuthStorage kept in memory only: for tests and for running without a home directory.
// Thread-safe.
#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "daemon/core/auth_storage.h"
#include "daemon/core/change_listeners.h"

namespace operator_auth {

class InMemoryAuthStorage : public AuthStorage {
 public:
  InMemoryAuthStorage() = default;
  explicit InMemoryAuthStorage(CredentialDocument initial);

  std::shared_ptr<const CredentialSnapshot> Snapshot() override;
  absl::Status Update(const Mutation& mutate) override;
  std::vector<StorageError> DrainErrors() override { return errors_.Drain(); }
  std::string Describe() const override { return "memory"; }
  uint64_t AddChangeListener(std::function<void()> listener) override {
    absl::MutexLock lock(&mu_);
    return on_change_.Add(std::move(listener));
  }
  void RemoveChangeListener(uint64_t id) override {
    absl::MutexLock lock(&mu_);
    on_change_.Remove(id);
  }

  // The document as it would be written, for tests.
  std::string Serialized();

 private:
  absl::Mutex mu_;
  CredentialDocument document_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const CredentialSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  StorageErrorLog errors_;
  ChangeListeners on_change_ ABSL_GUARDED_BY(mu_);
};

}  // namespace operator_auth
