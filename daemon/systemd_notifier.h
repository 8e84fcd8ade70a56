// Tells the service manager how the daemon is doing (sd_notify(3), for a Type=notify unit): ready,
// a status line for `systemctl status`, reloading, stopping. When the daemon was not started by
// systemd (no NOTIFY_SOCKET) every call does nothing. Thread-safe: each call is one datagram and
// no state is kept.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace operator_auth {

class SystemdNotifier {
 public:
  // READY=1 with STATUS=`status`: the socket answers; systemd may now report the unit started.
  void Ready(absl::string_view status);
  // STATUS=`status` alone.
  void Status(absl::string_view status);
  // RELOADING=1 (with the MONOTONIC_USEC= newer systemd asks for); follow with Ready() once done.
  void Reloading();
  // STOPPING=1: shutdown has begun.
  void Stopping();

 private:
  void Send(const std::string& state);
};

}  // namespace operator_auth
