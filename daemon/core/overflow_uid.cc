#include "daemon/core/overflow_uid.h"

#include <fstream>

namespace operator_auth {

uid_t OverflowUid() {
  static const uid_t overflow_uid = [] {
    std::ifstream in("/proc/sys/kernel/overflowuid");
    long value = -1;
    if (in >> value && value >= 0) return static_cast<uid_t>(value);
    return kDefaultOverflowUid;
  }();
  return overflow_uid;
}

}  // namespace operator_auth
