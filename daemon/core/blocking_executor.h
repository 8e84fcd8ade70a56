// A small fixed pool of threads for work that may block (waiting for providers.lock while another
// process holds it, fsync, a token endpoint), so gRPC's callback threads never do. The queue is
// bounded: Submit() refuses work beyond it and the caller reports RESOURCE_EXHAUSTED.
// Thread-safe. The destructor runs what is queued, then joins.
#pragma once

#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace operator_auth {

class BlockingExecutor {
 public:
  BlockingExecutor(int threads, size_t max_queued);
  ~BlockingExecutor();
  BlockingExecutor(const BlockingExecutor&) = delete;
  BlockingExecutor& operator=(const BlockingExecutor&) = delete;

  // Move-only, so work can own what it needs (a call guard) without a shared_ptr.
  using Work = absl::AnyInvocable<void()>;

  // False when the queue is full; `work` is then not run.
  bool Submit(Work work);

 private:
  void Run();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<Work> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace operator_auth
