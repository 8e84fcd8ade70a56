// Starting a thread without the exception: std::thread throws std::system_error when the system
// refuses (EAGAIN: the thread or process limit), and a throw on a gRPC or server thread would
// terminate the daemon. One login or one request fails instead. Thread-safe.
#pragma once

#include <functional>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace operator_auth {

// Starts `body` on a new thread. RESOURCE_EXHAUSTED naming `what` (e.g. "the login thread") and
// the system's reason when the thread cannot be created.
absl::StatusOr<std::thread> StartThread(absl::string_view what, std::function<void()> body);

}  // namespace operator_auth
