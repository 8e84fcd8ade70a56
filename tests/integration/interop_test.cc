// The daemon beside the older Python tools that edit providers.json under py-filelock
// (Debian's python3-filelock): mutual exclusion, freshness, and no lost updates in a race.
#include <atomic>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/daemon_fixture.h"

namespace operator_auth::testing {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

using InteropTest = DaemonTest;

TEST_F(InteropTest, WriteByPythonIsReturnedByTheNextGetApiKey) {
  ASSERT_TRUE(client_->SetApiKey("other", "sk-daemon").ok());
  for (int i = 0; i < 10; ++i) {
    // Same length every time: a stat-based check with coarse timestamps could miss these.
    std::string key = "sk-python-" + std::to_string(i);
    ProcessOptions options;
    options.stdin_data = key;
    ProcessResult py = RunProcess(PyWriterArgv({"set", "openai"}), options);
    ASSERT_EQ(py.exit_code, 0) << py.err;
    auto got = client_->GetApiKey("openai");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->key, key);
  }
  EXPECT_EQ(client_->GetApiKey("other")->key, "sk-daemon");
}

TEST_F(InteropTest, SetApiKeyWaitsWhilePythonHoldsTheLockThenSucceeds) {
  ASSERT_TRUE(client_->SetApiKey("seed", "sk-seed").ok());
  ProcessOptions options;
  options.stdin_data = "sk-held-by-python";
  ChildProcess python(PyWriterArgv({"hold", "1.5", "python-entry"}), options);
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (python.PeekStdout().find("locked") == std::string::npos && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_THAT(python.PeekStdout(), HasSubstr("locked"));

  AuthClientOptions slow;
  slow.socket_path = daemon_.socket_path();
  slow.deadline = std::chrono::seconds(10);
  AuthClient client(slow);
  absl::Time start = absl::Now();
  auto set = client.SetApiKey("openai", "sk-daemon-after-wait");
  absl::Duration waited = absl::Now() - start;
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_GE(waited, absl::Milliseconds(500)) << "SetApiKey did not wait for Python's lock";
  ProcessResult py = python.Wait(absl::Seconds(10));
  EXPECT_EQ(py.exit_code, 0) << py.err;

  // Both writes are there: the daemon re-read Python's write under the lock.
  Json file = Json::parse(ReadFileOrDie(daemon_.providers_path()));
  EXPECT_EQ(file["python-entry"]["key"], "sk-held-by-python");
  EXPECT_EQ(file["openai"]["key"], "sk-daemon-after-wait");
  EXPECT_EQ(file["seed"]["key"], "sk-seed");
}

TEST_F(InteropTest, EightProcessesRacingLoseNoUpdate) {
  constexpr int kPerProcess = 12;
  std::vector<std::unique_ptr<ChildProcess>> children;
  // Four operatorctl writers, each setting its own ids one after another (keys via stdin)...
  std::vector<std::thread> ctl_writers;
  std::atomic<int> ctl_failures{0};
  for (int w = 0; w < 4; ++w) {
    ctl_writers.emplace_back([&, w] {
      for (int i = 0; i < kPerProcess; ++i) {
        std::string id = "ctl" + std::to_string(w) + "-" + std::to_string(i);
        ProcessResult r = Ctl({"auth", "set", id, "--api-key", "-"}, "ctlkey-" + id);
        if (r.exit_code != 0) ++ctl_failures;
      }
    });
  }
  // ...and four Python read-modify-write loops under FileLock("providers.lock"), at once.
  for (int p = 0; p < 4; ++p) {
    children.push_back(std::make_unique<ChildProcess>(
        PyWriterArgv({"add-many", "py" + std::to_string(p), std::to_string(kPerProcess)}),
        ProcessOptions{}));
  }
  for (auto& t : ctl_writers) t.join();
  for (auto& c : children) {
    ProcessResult r = c->Wait(absl::Seconds(60));
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(ctl_failures.load(), 0);

  Json file = Json::parse(ReadFileOrDie(daemon_.providers_path()));
  EXPECT_EQ(file.size(), 8u * kPerProcess);
  for (int w = 0; w < 4; ++w) {
    for (int i = 0; i < kPerProcess; ++i) {
      std::string ctl_id = "ctl" + std::to_string(w) + "-" + std::to_string(i);
      std::string py_id = "py" + std::to_string(w) + "-" + std::to_string(i);
      EXPECT_EQ(file[ctl_id]["key"], "ctlkey-" + ctl_id);
      EXPECT_EQ(file[py_id]["key"], "pykey-" + py_id);
      auto got = client_->GetApiKey(py_id);
      ASSERT_TRUE(got.ok()) << py_id << ": " << got.status();
      EXPECT_EQ(got->key, "pykey-" + py_id);
    }
  }
}

}  // namespace
}  // namespace operator_auth::testing
