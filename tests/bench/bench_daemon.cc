#include "tests/bench/bench_daemon.h"

#include <chrono>
#include <cstdio>

namespace operator_auth::bench {
namespace {

constexpr std::chrono::seconds kConnectTimeout{10};

}  // namespace

BenchDaemon::BenchDaemon(std::string bench_name, const std::string& binary,
                         const std::string& config)
    : name_(std::move(bench_name)), daemon_(dir_.path(), binary) {
  if (!config.empty()) daemon_.SetConfig(config);
  daemon_.SetLogLevel("warn");
  // Measured as deployed: without absl's lock-order cycle detection (DaemonProcess enables it).
  daemon_.SetEnv("AUTHD_DEADLOCK_DETECTION", "0");
}

bool BenchDaemon::Start() {
  if (absl::Status s = daemon_.Start(); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", name_.c_str(), s.ToString().c_str());
    return false;
  }
  return true;
}

std::shared_ptr<grpc::Channel> BenchDaemon::ConnectedChannel() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      "unix:" + daemon_.socket_path(), grpc::InsecureChannelCredentials(), args);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + kConnectTimeout)) {
    std::fprintf(stderr, "%s: the channel to %s did not connect\n", name_.c_str(),
                 daemon_.socket_path().c_str());
    return nullptr;
  }
  return channel;
}

bool BenchDaemon::Stop() {
  testing::ProcessResult stopped = daemon_.Stop();
  if (stopped.exit_code != 0) {
    std::fprintf(stderr, "%s: the daemon did not stop cleanly (exit %d, signal %d)\n",
                 name_.c_str(), stopped.exit_code, stopped.signal);
    return false;
  }
  return true;
}

}  // namespace operator_auth::bench
