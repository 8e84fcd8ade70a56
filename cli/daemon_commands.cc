#include "cli/daemon_commands.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/exit_status.h"
#include "cli/output.h"

namespace operator_auth::cli {
namespace {

std::string Uptime(int64_t ms) {
  return absl::FormatDuration(absl::Trunc(absl::Milliseconds(ms), absl::Seconds(1)));
}

// fleet       NAME via ENDPOINT: healthy, revision R, last heard T, key FP, holder H
//   member    URL: leader, 3.4.23
void PrintFleet(const v1::FleetStatus& f, std::ostream& out) {
  out << "  fleet       " << f.name();
  if (!f.current_endpoint().empty()) out << " via " << f.current_endpoint();
  out << ": " << (f.healthy() ? "healthy" : "UNHEALTHY") << ", revision " << f.revision();
  if (f.last_event_unix_ms() != 0) {
    out << ", last heard " << FormatUnixMillisUtc(f.last_event_unix_ms());
  }
  out << ", key " << f.key_fingerprint() << ", holder " << f.holder() << "\n";
  if (!f.problem().empty()) out << "              problem: " << f.problem() << "\n";
  for (const v1::FleetMember& m : f.members()) {
    out << "    member    " << m.endpoint() << ": ";
    if (m.reachable()) {
      out << (m.leader() ? "leader" : "follower") << ", etcd " << m.version();
      if (!m.problem().empty()) out << ", " << m.problem();
    } else {
      out << "unreachable (" << m.problem() << ")";
    }
    out << "\n";
  }
  if (f.members().empty()) {
    for (const std::string& endpoint : f.endpoints()) {
      out << "    member    " << endpoint << ": not probed yet\n";
    }
  }
}

void PrintText(const v1::DaemonStatus& s, std::ostream& out) {
  out << "operator-authd " << s.version() << " (pid " << s.pid()
      << "): " << (s.healthy() ? "healthy" : "UNHEALTHY") << "\n";
  for (const std::string& problem : s.problems()) out << "  problem: " << problem << "\n";
  out << "  up since    " << FormatUnixMillisUtc(s.started_unix_ms()) << " ("
      << Uptime(s.uptime_ms()) << ")\n";
  out << "  socket      " << s.socket_path() << " (" << s.socket_origin() << ")\n";
  out << "  home        " << s.home() << "\n";
  out << "  config      " << s.config_path();
  if (s.last_reload_unix_ms() != 0) {
    out << " (reloaded " << FormatUnixMillisUtc(s.last_reload_unix_ms()) << ")";
  }
  out << "\n";
  if (!s.config_error().empty()) out << "              error: " << s.config_error() << "\n";
  if (s.storage() == "fleet") PrintFleet(s.fleet(), out);
  for (const v1::CredentialsFileStatus& f : s.files()) {
    out << "  file        " << f.path() << ": "
        << (f.load_error().empty() ? "ok" : "cannot load: " + f.load_error()) << "\n";
  }
  const v1::RefresherStatus& r = s.refresher();
  out << "  refresher   " << (r.running() ? "running" : "stopped") << ", " << r.oauth_credentials()
      << " OAuth credential(s): " << r.refreshing() << " refreshing, " << r.backoff()
      << " in back-off, " << r.needs_login() << " need login";
  if (r.next_refresh_unix_ms() != 0) {
    out << "; next renewal " << FormatUnixMillisUtc(r.next_refresh_unix_ms());
  }
  out << "\n";
  out << "  refused     " << s.refused_connections() << " connection(s) from other users\n";
  uint64_t total = 0;
  size_t width = 0;
  for (const v1::MethodCount& m : s.requests()) {
    total += m.calls();
    width = std::max(width, m.method().size());
  }
  out << "  requests    " << total << " served\n";
  for (const v1::MethodCount& m : s.requests()) {
    out << "    " << Padded(m.method(), width) << "  " << m.calls() << " calls";
    if (m.errors() > 0) out << ", " << m.errors() << " errors";
    out << "\n";
  }
}

}  // namespace

int RunDaemonStatus(const GlobalOptions& options) {
  AuthClient client(ClientOptionsFor(options));
  absl::StatusOr<v1::DaemonStatus> status = client.GetDaemonStatus();
  if (!status.ok()) return ReportFailure(status.status(), client.socket_path());
  if (options.json) {
    google::protobuf::util::JsonPrintOptions print;
    print.add_whitespace = true;
    print.always_print_primitive_fields = true;
    print.preserve_proto_field_names = true;
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(*status, &json, print).ok()) {
      std::cerr << "operatorctl: cannot print the daemon's status as JSON\n";
      return kExitFailure;
    }
    std::cout << json;
    if (json.empty() || json.back() != '\n') std::cout << "\n";
  } else {
    PrintText(*status, std::cout);
  }
  return status->healthy() ? kExitOk : kExitUnhealthy;
}

}  // namespace operator_auth::cli
