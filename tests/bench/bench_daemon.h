// The daemon a benchmark measures: the real operator-authd on a temp home, logging warnings only
// (a trace line per call would be what gets measured), optionally with an authd.json (e.g. every
// provider pointed at a fake). The one start / connect / stop plumbing the benchmarks share; each
// failure is reported on stderr under the benchmark's name. Not thread-safe: the benchmark's main
// thread owns it.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::bench {

class BenchDaemon {
 public:
  // `binary` empty: the build's operator-authd. `config` empty: DaemonProcess's default (every
  // endpoint on a closed loopback port).
  explicit BenchDaemon(std::string bench_name, const std::string& binary = "",
                       const std::string& config = "");

  // False, with a message, when the daemon did not come up.
  bool Start();
  // A channel of its own to the daemon, connected; nullptr, with a message, when it did not
  // connect within 10 s.
  std::shared_ptr<grpc::Channel> ConnectedChannel();
  // False, with a message, when the daemon did not exit 0 on SIGTERM.
  bool Stop();

  testing::DaemonProcess& process() { return daemon_; }
  const testing::DaemonProcess& process() const { return daemon_; }

 private:
  const std::string name_;
  testing::TempDir dir_;
  testing::DaemonProcess daemon_;
};

}  // namespace operator_auth::bench
