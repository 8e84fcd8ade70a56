#include "daemon/core/storage_error_log.h"

#include "absl/strings/str_cat.h"

namespace operator_auth {

void StorageErrorLog::Record(std::string file, std::string message) {
  absl::MutexLock lock(&mu_);
  if (errors_.size() == kMaxEntries) {
    errors_.pop_front();
    ++dropped_;
  }
  errors_.push_back({std::move(file), std::move(message), absl::Now()});
}

std::vector<StorageError> StorageErrorLog::Drain() {
  absl::MutexLock lock(&mu_);
  std::vector<StorageError> out;
  if (dropped_ > 0) {
    out.push_back({"", absl::StrCat(dropped_, " older errors were dropped"), absl::Now()});
    dropped_ = 0;
  }
  out.insert(out.end(), std::make_move_iterator(errors_.begin()),
             std::make_move_iterator(errors_.end()));
  errors_.clear();
  return out;
}

}  // namespace operator_auth
