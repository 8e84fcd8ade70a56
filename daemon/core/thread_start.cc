#include "daemon/core/thread_start.h"

#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"

namespace operator_auth {

absl::StatusOr<std::thread> StartThread(absl::string_view what, std::function<void()> body) {
  try {
    return std::thread(std::move(body));
  } catch (const std::system_error& e) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot start ", what, ": ", e.code().message(),
        "; the daemon is at its thread limit, try again when other logins have ended"));
  }
}

}  // namespace operator_auth
