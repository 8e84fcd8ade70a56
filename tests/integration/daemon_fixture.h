// A fixture with the real operator-authd on a temp home and socket, a client bound to it, and a
// way to run operatorctl and the Python writer against it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "operator_auth/auth_client.h"
#include "tests/support/child_process.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::testing {

class DaemonTest : public ::testing::Test {
 protected:
  DaemonTest() : daemon_(dir_.path()) {}

  void SetUp() override {
    ASSERT_TRUE(daemon_.Start().ok()) << daemon_.Log();
    client_ = NewClient();
  }

  void TearDown() override {
    if (daemon_.running()) {
      ProcessResult r = daemon_.Stop();
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
  }

  std::unique_ptr<AuthClient> NewClient() {
    AuthClientOptions options;
    options.socket_path = daemon_.socket_path();
    options.env_fallback = false;
    return std::make_unique<AuthClient>(options);
  }

  // operatorctl --socket <ours> ARGS...
  ProcessResult Ctl(const std::vector<std::string>& args, const std::string& stdin_data = "") {
    std::vector<std::string> argv = {AUTHD_CTL_PATH, "--socket", daemon_.socket_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.stdin_data = stdin_data;
    return RunProcess(argv, options);
  }

  // providers_writer.py <auth dir> ARGS... with Debian's python3 (which has python3-filelock).
  std::vector<std::string> PyWriterArgv(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {AUTHD_PYTHON3, AUTHD_PY_WRITER, daemon_.auth_dir()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  TempDir dir_;
  DaemonProcess daemon_;
  std::unique_ptr<AuthClient> client_;
};

}  // namespace operator_auth::testing
