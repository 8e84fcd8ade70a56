#include "daemon/systemd_notifier.h"

#include <time.h>

#include <cstdint>
#include <cstring>
#include <string>

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace operator_auth {
namespace {

// The protocol is one VARIABLE=value per line, so a status must stay on one line.
std::string OneLine(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\n", " "}, {"\r", " "}});
}

// CLOCK_MONOTONIC in microseconds, which is what MONOTONIC_USEC= is measured in.
uint64_t MonotonicMicros() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000u + static_cast<uint64_t>(now.tv_nsec) / 1000u;
}

}  // namespace

void SystemdNotifier::Ready(absl::string_view status) {
  Send(absl::StrCat("READY=1\nSTATUS=", OneLine(status)));
}

void SystemdNotifier::Status(absl::string_view status) {
  Send(absl::StrCat("STATUS=", OneLine(status)));
}

void SystemdNotifier::Reloading() {
  Send(absl::StrCat("RELOADING=1\nMONOTONIC_USEC=", MonotonicMicros(), "\nSTATUS=reloading"));
}

void SystemdNotifier::Stopping() { Send("STOPPING=1\nSTATUS=stopping"); }

void SystemdNotifier::Send(const std::string& state) {
  // 0 when NOTIFY_SOCKET is unset: not run by systemd, nothing to tell. The environment is kept
  // (unset_environment=0) so that later notifications reach it too.
  const int sent = sd_notify(/*unset_environment=*/0, state.c_str());
  if (sent < 0) {
    spdlog::warn("could not notify systemd ({}): {}", OneLine(state), std::strerror(-sent));
  }
}

}  // namespace operator_auth
