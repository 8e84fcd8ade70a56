// The storage errors recorded since the last drain (load failures, refused or failed writes), for
// DrainErrors. Bounded: past kMaxEntries the oldest are dropped and counted. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace operator_auth {

struct StorageError {
  std::string file;
  std::string message;  // never contains a secret
  absl::Time when;
};

class StorageErrorLog {
 public:
  static constexpr size_t kMaxEntries = 256;

  void Record(std::string file, std::string message);
  // Returns every recorded error, oldest first, and forgets them.
  std::vector<StorageError> Drain();

 private:
  absl::Mutex mu_;
  std::deque<StorageError> errors_ ABSL_GUARDED_BY(mu_);
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace operator_auth
