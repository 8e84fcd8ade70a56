#include "tests/fake_oauth/fault_plan.h"

namespace operator_auth::testing {

void FaultPlan::Set(const std::string& path, const FaultSpec& spec) {
  absl::MutexLock lock(&mu_);
  if (spec.fault == Fault::kNone || spec.count == 0 || spec.count < -1) {
    faults_.erase(path);
    return;
  }
  faults_[path] = spec;
}

FaultSpec FaultPlan::Take(const std::string& path) {
  absl::MutexLock lock(&mu_);
  auto it = faults_.find(path);
  if (it == faults_.end()) return FaultSpec{};
  FaultSpec taken = it->second;
  if (it->second.count > 0 && --it->second.count == 0) faults_.erase(it);
  return taken;
}

}  // namespace operator_auth::testing
