// The logins running now, so that clients cannot start one thread and one loopback port per
// request: at most one login per provider (a second one would fight the first for the redirect
// port and the stored entry) and at most `max_logins` in all.
// Thread-safe. A Slot is held for the life of one login and frees its place when destroyed.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace operator_auth {

class LoginSlots {
 public:
  static constexpr size_t kDefaultMaxLogins = 4;

  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept
        : slots_(std::exchange(other.slots_, nullptr)), provider_(std::move(other.provider_)) {}
    Slot& operator=(Slot&& other) noexcept {
      if (this != &other) {
        Release();
        slots_ = std::exchange(other.slots_, nullptr);
        provider_ = std::move(other.provider_);
      }
      return *this;
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { Release(); }

   private:
    friend class LoginSlots;
    Slot(LoginSlots* slots, std::string provider) : slots_(slots), provider_(std::move(provider)) {}
    void Release() {
      if (slots_ != nullptr) std::exchange(slots_, nullptr)->Release(provider_);
    }
    LoginSlots* slots_ = nullptr;
    std::string provider_;
  };

  explicit LoginSlots(size_t max_logins = kDefaultMaxLogins) : max_logins_(max_logins) {}

  // A place for a login of `provider` (its canonical id). ALREADY_EXISTS naming the provider when
  // one is running for it; RESOURCE_EXHAUSTED when `max_logins` are running.
  absl::StatusOr<Slot> Acquire(const std::string& provider);

  size_t running() const;
  size_t max_logins() const { return max_logins_; }

 private:
  void Release(const std::string& provider);

  const size_t max_logins_;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> running_ ABSL_GUARDED_BY(mu_);
};

}  // namespace operator_auth
