// Races between processes on one providers.json: the daemon (driven by operatorctl and by the C++
// client in separate processes) and py-filelock writers, all setting and unsetting at once; and
// rounds of refresh storms on a provider whose refresh tokens rotate (single use), with Python
// tools refreshing too. Zero lost updates, zero reused refresh tokens, zero unexpected logouts.
#include <atomic>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/fake_oauth/fake_oauth_server.h"
#include "tests/integration/daemon_fixture.h"

namespace operator_auth::testing {
namespace {

using Json = nlohmann::json;

// Whether churn step i leaves PREFIX-i stored: every third step unsets the one before it.
bool KeptAfterChurn(int i, int count) { return !(i % 3 == 1 && i + 1 < count); }

using RaceTest = DaemonTest;

TEST_F(RaceTest, EightProcessesSettingAndUnsettingLoseNoUpdate) {
  constexpr int kCppWriters = 3;
  constexpr int kPythonWriters = 3;
  constexpr int kCtlWriters = 2;
  constexpr int kCount = 150;    // per C++ and Python process
  constexpr int kCtlCount = 45;  // per operatorctl loop: one process per operation
  std::vector<std::unique_ptr<ChildProcess>> children;
  for (int w = 0; w < kCppWriters; ++w) {
    children.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{AUTHD_RACE_WRITER, daemon_.socket_path(), "cc" + std::to_string(w),
                                 std::to_string(kCount)},
        ProcessOptions{}));
  }
  for (int p = 0; p < kPythonWriters; ++p) {
    children.push_back(std::make_unique<ChildProcess>(
        PyWriterArgv({"churn", "py" + std::to_string(p), std::to_string(kCount)}),
        ProcessOptions{}));
  }
  std::atomic<int> ctl_failures{0};
  std::vector<std::thread> ctl_writers;
  for (int w = 0; w < kCtlWriters; ++w) {
    ctl_writers.emplace_back([&, w] {
      const std::string prefix = "ctl" + std::to_string(w);
      for (int i = 0; i < kCtlCount; ++i) {
        const std::string id = prefix + "-" + std::to_string(i);
        if (Ctl({"auth", "set", id, "--api-key", "-"}, "ctlkey-" + id).exit_code != 0) {
          ++ctl_failures;
        }
        if (i % 3 == 2 &&
            Ctl({"auth", "unset", prefix + "-" + std::to_string(i - 1)}).exit_code != 0) {
          ++ctl_failures;
        }
      }
    });
  }
  for (auto& t : ctl_writers) t.join();
  for (auto& c : children) {
    ProcessResult r = c->Wait(absl::Seconds(120));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  EXPECT_EQ(ctl_failures.load(), 0);

  Json file = Json::parse(ReadFileOrDie(daemon_.providers_path()));
  size_t expected_entries = 0;
  int lost = 0;
  auto check = [&](const std::string& prefix, int count, const std::string& key_prefix) {
    for (int i = 0; i < count; ++i) {
      const std::string id = prefix + "-" + std::to_string(i);
      if (KeptAfterChurn(i, count)) {
        ++expected_entries;
        if (!file.contains(id) || file[id]["key"] != key_prefix + id) ++lost;
      } else if (file.contains(id)) {
        ++lost;  // an unset that was undone by a stale write
      }
    }
  };
  for (int w = 0; w < kCppWriters; ++w) check("cc" + std::to_string(w), kCount, "cckey-");
  for (int p = 0; p < kPythonWriters; ++p) check("py" + std::to_string(p), kCount, "pykey-");
  for (int w = 0; w < kCtlWriters; ++w) check("ctl" + std::to_string(w), kCtlCount, "ctlkey-");
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(file.size(), expected_entries);
  // The daemon serves exactly what the file holds.
  for (const std::string id : {"cc0-0", "py1-149", "ctl1-44", "py2-3"}) {
    absl::StatusOr<ApiKey> key = client_->GetApiKey(id);
    ASSERT_TRUE(key.ok()) << id << ": " << key.status();
    EXPECT_EQ(key->key, file[id]["key"]);
  }
  EXPECT_EQ(client_->GetApiKey("py0-1").status().code(), absl::StatusCode::kNotFound);
  std::printf("race: %zu entries expected and found, %d lost, %d processes\n", expected_entries,
              lost, kCppWriters + kPythonWriters + kCtlWriters);
}

class RotationRaceTest : public DaemonTest {
 protected:
  void SetUp() override {
    fake_.Start();
    daemon_.SetConfig(LoopbackOnlyConfig(fake_.base_url()));
    DaemonTest::SetUp();
  }
  FakeOAuthServer fake_;
};

// The fake accepts each refresh token once and issues a new one with every refresh, like the
// providers that rotate. Every round expires the token and then storms it from 64 daemon callers
// and 3 Python tools refreshing by themselves; exactly one of them may spend the refresh token.
TEST_F(RotationRaceTest, RotatingRefreshTokensUnderStormsAreNeverReused) {
  constexpr int kRounds = 8;
  constexpr int kCallers = 64;
  constexpr int kPythons = 3;
  fake_.AddRefreshToken("rt-rotation-0");
  WriteFileOrDie(daemon_.providers_path(),
                 Json{{"openai-codex",
                       {{"type", "oauth"},
                        {"access", "at-rotation-0"},
                        {"refresh", "rt-rotation-0"},
                        {"expires", absl::ToUnixMillis(absl::Now() - absl::Minutes(1))}}}}
                     .dump());
  int unexpected_logouts = 0;
  int failed_calls = 0;
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) {
      ProcessResult expire = RunProcess(PyWriterArgv({"expire", "openai-codex"}));
      ASSERT_EQ(expire.exit_code, 0) << expire.err;
    }
    const std::string go = dir_.Sub("go-" + std::to_string(round));
    std::vector<std::unique_ptr<ChildProcess>> pythons;
    for (int p = 0; p < kPythons; ++p) {
      pythons.push_back(std::make_unique<ChildProcess>(
          std::vector<std::string>{AUTHD_PYTHON3, AUTHD_PY_REFRESHER, daemon_.auth_dir(),
                                   "openai-codex", fake_.base_url() + "/token",
                                   "app_EMoamEEZ73f0CkXaXp7hrann", go},
          ProcessOptions{}));
    }
    absl::SleepFor(absl::Milliseconds(200));  // let the interpreters wait for "go"
    WriteFileOrDie(go, "");
    std::vector<std::thread> callers;
    std::atomic<int> failures{0};
    for (int c = 0; c < kCallers; ++c) {
      callers.emplace_back([&] {
        if (!client_->GetApiKey("openai-codex").ok()) ++failures;
      });
    }
    for (auto& t : callers) t.join();
    for (auto& p : pythons) {
      ProcessResult r = p->Wait(absl::Seconds(30));
      EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    failed_calls += failures.load();
    absl::StatusOr<v1::AuthStatus> status = client_->GetAuthStatus("openai-codex");
    ASSERT_TRUE(status.ok());
    if (status->needs_login() || !status->configured()) ++unexpected_logouts;
  }
  EXPECT_EQ(fake_.InvalidGrantCount(), 0) << "a refresh token was spent twice";
  EXPECT_EQ(fake_.GrantCount("refresh_token"), kRounds) << "one refresh per round";
  EXPECT_EQ(unexpected_logouts, 0);
  EXPECT_EQ(failed_calls, 0);
  std::printf("rotation: %d rounds, %d refreshes, %d reused tokens, %d logouts, %d failed calls\n",
              kRounds, fake_.GrantCount("refresh_token"), fake_.InvalidGrantCount(),
              unexpected_logouts, failed_calls);
}

}  // namespace
}  // namespace operator_auth::testing
