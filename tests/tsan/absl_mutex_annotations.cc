// ThreadSanitizer cannot see Debian's absl::Mutex: libabsl_synchronization is not built with
// -fsanitize=thread, and it blocks on futexes itself, so TSan would see no happens-before edge
// between a Mutex's unlock and its next lock and report every access it guards as a race. This
// file, linked into TSan builds only (AUTHD_TSAN), interposes the Mutex and CondVar entry points
// our code calls: each forwards to the library's own function (dlsym RTLD_NEXT) and tells TSan
// about the acquire or release. Reader locks are annotated like writer locks, which can hide a
// race between two readers but never invents one.
// It also turns absl's deadlock detection off in TSan builds: see kDeadlockGraphOff.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace {

template <typename Fn>
Fn Real(const char* mangled) {
  void* symbol = dlsym(RTLD_NEXT, mangled);
  if (symbol == nullptr) {
    std::fprintf(stderr, "absl_mutex_annotations: %s not found in libabsl_synchronization\n",
                 mangled);
    std::abort();
  }
  return reinterpret_cast<Fn>(symbol);
}

#define AUTHD_REAL(type, mangled) static const auto real = Real<type>(mangled)

// Debian's abseil is built without NDEBUG, so Mutex::Lock records every lock order in a global
// graph (GraphCycles) under the library's internal SpinLock, which TSan cannot see either; and
// TSan intercepts the graph's memmove. Two threads taking a new pair of nested mutexes at once
// (FleetLocalImportTest: the importer and a tool writing the same file, each through its own
// SharedDocumentFile) were then reported as a race inside GraphCycles::InsertEdge. The plain and
// ASan runs of the same tests keep the detection, and with it the lock-order checks.
[[maybe_unused]] const bool kDeadlockGraphOff = [] {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return true;
}();

// The library evaluates a waiter's Condition under the mutex it took internally, which TSan does
// not see either: this Condition tells TSan about that acquisition before evaluating the real one,
// and about the release that may follow.
struct AnnotatedCondition {
  const absl::Condition* inner;
  absl::Mutex* mu;

  static bool Eval(void* self) {
    auto* c = static_cast<AnnotatedCondition*>(self);
    __tsan_acquire(c->mu);
    const bool met = c->inner->Eval();
    // The library may next release the mutex internally (the waiter blocks again): publish what
    // the evaluation read, or the next holder's writes look concurrent with it.
    __tsan_release(c->mu);
    return met;
  }
  absl::Condition Wrap() { return absl::Condition(&AnnotatedCondition::Eval, this); }
};

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  AUTHD_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  real(this);
  __tsan_acquire(this);
}

void Mutex::ReaderLock() {
  AUTHD_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  real(this);
  __tsan_acquire(this);
}

bool Mutex::TryLock() {
  AUTHD_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  const bool locked = real(this);
  if (locked) __tsan_acquire(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  AUTHD_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  const bool locked = real(this);
  if (locked) __tsan_acquire(this);
  return locked;
}

void Mutex::Unlock() {
  AUTHD_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  __tsan_release(this);
  real(this);
}

void Mutex::ReaderUnlock() {
  AUTHD_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  __tsan_release(this);
  real(this);
}

void Mutex::LockWhen(const Condition& cond) {
  AUTHD_REAL(void (*)(Mutex*, const Condition&),
             "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  AnnotatedCondition wrapped{&cond, this};
  real(this, wrapped.Wrap());
  __tsan_acquire(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  AUTHD_REAL(void (*)(Mutex*, const Condition&),
             "_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE");
  AnnotatedCondition wrapped{&cond, this};
  real(this, wrapped.Wrap());
  __tsan_acquire(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  AUTHD_REAL(bool (*)(Mutex*, const Condition&, Duration),
             "_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  AnnotatedCondition wrapped{&cond, this};
  const bool met = real(this, wrapped.Wrap(), timeout);
  __tsan_acquire(this);  // held on return either way
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  AUTHD_REAL(bool (*)(Mutex*, const Condition&, Time),
             "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  AnnotatedCondition wrapped{&cond, this};
  const bool met = real(this, wrapped.Wrap(), deadline);
  __tsan_acquire(this);
  return met;
}

void Mutex::Await(const Condition& cond) {
  AUTHD_REAL(void (*)(Mutex*, const Condition&), "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  AnnotatedCondition wrapped{&cond, this};
  __tsan_release(this);
  real(this, wrapped.Wrap());
  __tsan_acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  AUTHD_REAL(bool (*)(Mutex*, const Condition&, Duration),
             "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  AnnotatedCondition wrapped{&cond, this};
  __tsan_release(this);
  const bool met = real(this, wrapped.Wrap(), timeout);
  __tsan_acquire(this);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  AUTHD_REAL(bool (*)(Mutex*, const Condition&, Time),
             "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  AnnotatedCondition wrapped{&cond, this};
  __tsan_release(this);
  const bool met = real(this, wrapped.Wrap(), deadline);
  __tsan_acquire(this);
  return met;
}

void CondVar::Wait(Mutex* mu) {
  AUTHD_REAL(void (*)(CondVar*, Mutex*), "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  __tsan_release(mu);
  real(this, mu);
  __tsan_acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  AUTHD_REAL(bool (*)(CondVar*, Mutex*, Duration),
             "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  __tsan_release(mu);
  const bool timed_out = real(this, mu, timeout);
  __tsan_acquire(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  AUTHD_REAL(bool (*)(CondVar*, Mutex*, Time),
             "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  __tsan_release(mu);
  const bool timed_out = real(this, mu, deadline);
  __tsan_acquire(mu);
  return timed_out;
}

// absl::Notification: Notify() stores its flag inside the library, so a waiter that finds it
// already set (the fast path never blocks on the Mutex) has no edge to what the notifier wrote
// before. Notify releases on the Notification; every wait acquires on it when it returns.
void Notification::Notify() {
  AUTHD_REAL(void (*)(Notification*), "_ZN4absl7debian312Notification6NotifyEv");
  __tsan_release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  AUTHD_REAL(void (*)(const Notification*),
             "_ZNK4absl7debian312Notification19WaitForNotificationEv");
  real(this);
  __tsan_acquire(const_cast<Notification*>(this));
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  AUTHD_REAL(bool (*)(const Notification*, Duration),
             "_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  const bool notified = real(this, timeout);
  __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  AUTHD_REAL(bool (*)(const Notification*, Time),
             "_ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  const bool notified = real(this, deadline);
  __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
