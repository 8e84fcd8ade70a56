// Several accounts per provider (#13) through the real daemon, operatorctl, the C++ and Python
// clients, and a fake token endpoint that accepts each refresh token once.
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "tests/fake_oauth/fake_oauth_server.h"
#include "tests/integration/daemon_fixture.h"

namespace operator_auth::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::ordered_json;

class AccountsTest : public DaemonTest {
 protected:
  std::string Token(const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> argv = {AUTHD_CTL_PATH, "--socket", daemon_.socket_path(), "auth",
                                     "token"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.env = env;
    options.unset_env = {"OPERATOR_AUTH_ACCOUNT"};
    if (env.contains("OPERATOR_AUTH_ACCOUNT")) options.unset_env.clear();
    ProcessResult r = RunProcess(argv, options);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
};

TEST_F(AccountsTest, TwoAccountsSideBySideThroughTheCliAndTheClients) {
  ASSERT_EQ(Ctl({"auth", "set", "openai", "--api-key", "-"}, "sk-acct-personal\n").exit_code, 0);
  ProcessResult set = Ctl({"auth", "set", "openai", "--account", "work", "--api-key", "-"},
                          "sk-acct-work\n");
  ASSERT_EQ(set.exit_code, 0) << set.err;
  ASSERT_EQ(Ctl({"auth", "set", "openai@side", "--api-key", "-"}, "sk-acct-side\n").exit_code, 0);

  // Per call (--account, PROVIDER@ACCOUNT) and per process (OPERATOR_AUTH_ACCOUNT).
  EXPECT_EQ(Token({"openai"}), "sk-acct-personal\n");
  EXPECT_EQ(Token({"openai", "--account", "work"}), "sk-acct-work\n");
  EXPECT_EQ(Token({"openai@side"}), "sk-acct-side\n");
  EXPECT_EQ(Token({"openai"}, {{"OPERATOR_AUTH_ACCOUNT", "work"}}), "sk-acct-work\n");
  // A PROVIDER@ACCOUNT of its own wins over the process's account.
  EXPECT_EQ(Token({"openai@side"}, {{"OPERATOR_AUTH_ACCOUNT", "work"}}), "sk-acct-side\n");

  AuthClientOptions options;
  options.socket_path = daemon_.socket_path();
  options.env_fallback = false;
  options.account = "work";
  AuthClient work(options);
  absl::StatusOr<ApiKey> key = work.GetApiKey("openai");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "sk-acct-work");
  EXPECT_EQ(key->provider, "openai");
  EXPECT_EQ(key->account, "work");

  const char* script = R"(
import sys
from operator_auth_client import AuthClient
with AuthClient(sys.argv[1], env_fallback=False) as client:
    key = client.get_api_key("openai")
    print(key.account, key.key == "sk-acct-side")
)";
  ProcessOptions python;
  python.env = {{"PYTHONPATH", AUTHD_PYTHON_PACKAGE_DIR},
                {"PYTHONDONTWRITEBYTECODE", "1"},
                {"OPERATOR_AUTH_ACCOUNT", "side"}};
  ProcessResult py = RunProcess({AUTHD_PYTHON3, "-c", script, daemon_.socket_path()}, python);
  EXPECT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, "side True\n");

  // A named account with nothing stored: exit 1 naming it, and no other account's key.
  ProcessResult missing = Ctl({"auth", "token", "openai", "--account", "home"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("account \"home\" of openai"));
  EXPECT_THAT(missing.out + missing.err, Not(HasSubstr("sk-acct")));
  ProcessResult bad = Ctl({"auth", "token", "openai", "--account", "Not Valid"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("account name"));

  // auth list shows the accounts and which is the default.
  ProcessResult list = Ctl({"auth", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::vector<std::string> accounts;
  const Json listed = Json::parse(list.out);
  for (const Json& p : listed["providers"]) {
    if (p["id"] != "openai") continue;
    for (const Json& a : p["accounts"]) {
      accounts.push_back(a["name"].get<std::string>() + (a["default"].get<bool>() ? "*" : ""));
    }
  }
  EXPECT_THAT(accounts, ::testing::ElementsAre("default*", "side", "work")) << list.out;
  ProcessResult table = Ctl({"auth", "list"});
  EXPECT_THAT(table.out, HasSubstr("@work"));
  EXPECT_THAT(table.out, HasSubstr("@default (default)"));
  ProcessResult status = Ctl({"auth", "status", "openai", "--account", "work"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_THAT(status.out, HasSubstr("account:"));
  EXPECT_THAT(status.out, HasSubstr("work"));

  // What a py-filelock reader sees is the default account, at the top level, as always.
  Json file = Json::parse(ReadFileOrDie(daemon_.providers_path()));
  EXPECT_EQ(file["openai"]["key"], "sk-acct-personal");

  // `auth default` moves work to the top; callers naming an account keep theirs.
  ProcessResult make_default = Ctl({"auth", "default", "openai", "work"});
  ASSERT_EQ(make_default.exit_code, 0) << make_default.err;
  EXPECT_THAT(make_default.out, HasSubstr("openai@default"));
  EXPECT_EQ(Token({"openai"}), "sk-acct-work\n");
  EXPECT_EQ(Token({"openai@default"}), "sk-acct-personal\n");
  EXPECT_EQ(Token({"openai@side"}), "sk-acct-side\n");
  file = Json::parse(ReadFileOrDie(daemon_.providers_path()));
  EXPECT_EQ(file["openai"]["key"], "sk-acct-work");
  EXPECT_EQ(Ctl({"auth", "default", "openai", "nobody"}).exit_code, 1);

  // exec --account puts that account's key in the command's environment (never on its argv).
  const std::string out = dir_.Sub("exec-env");
  ProcessResult exec = Ctl({"exec", "--account", "side", "openai", "--", "/bin/sh", "-c",
                            "printenv OPENAI_API_KEY > \"$0\"", out});
  ASSERT_EQ(exec.exit_code, 0) << exec.err;
  EXPECT_EQ(ReadFileOrDie(out), "sk-acct-side\n");

  // unset removes only that account.
  ASSERT_EQ(Ctl({"auth", "unset", "openai", "--account", "side"}).exit_code, 0);
  EXPECT_EQ(Ctl({"auth", "token", "openai@side"}).exit_code, 1);
  EXPECT_EQ(Token({"openai"}), "sk-acct-work\n");
}

class AccountsRefreshTest : public DaemonTest {
 protected:
  void SetUp() override {
    fake_.Start();
    daemon_.SetConfig(LoopbackOnlyConfig(fake_.base_url()));
    DaemonTest::SetUp();
  }
  FakeOAuthServer fake_;
};

// Two accounts of one OAuth provider, both expired, stormed at once from 24 callers each: one
// refresh per account (the fake accepts each refresh token once, so a second spend would show as
// an invalid grant), and each account keeps its own tokens.
TEST_F(AccountsRefreshTest, EachAccountRefreshesOnceUnderAStorm) {
  fake_.AddRefreshToken("rt-acct-home");
  fake_.AddRefreshToken("rt-acct-work");
  const int64_t expired = absl::ToUnixMillis(absl::Now() - absl::Minutes(1));
  WriteFileOrDie(daemon_.providers_path(),
                 Json{{"openai-codex", {{"type", "oauth"}, {"access", "at-acct-home"},
                                        {"refresh", "rt-acct-home"}, {"expires", expired}}},
                      {"_accounts",
                       {{"openai-codex",
                         {{"named", {{"work", {{"type", "oauth"}, {"access", "at-acct-work"},
                                               {"refresh", "rt-acct-work"},
                                               {"expires", expired}}}}}}}}}}
                     .dump());
  constexpr int kCallers = 24;
  std::atomic<int> failures{0};
  std::mutex mu;
  std::set<std::string> home_keys, work_keys;
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    for (const char* selector : {"openai-codex", "openai-codex@work"}) {
      callers.emplace_back([&, selector] {
        absl::StatusOr<ApiKey> key = client_->GetApiKey(selector);
        if (!key.ok()) {
          ++failures;
          return;
        }
        std::lock_guard<std::mutex> lock(mu);
        (key->account == "work" ? work_keys : home_keys).insert(key->key);
      });
    }
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(fake_.GrantCount("refresh_token"), 2) << "one refresh per account";
  EXPECT_EQ(fake_.InvalidGrantCount(), 0) << "a refresh token was spent twice";
  ASSERT_EQ(home_keys.size(), 1u);
  ASSERT_EQ(work_keys.size(), 1u);
  EXPECT_NE(*home_keys.begin(), *work_keys.begin());
  absl::StatusOr<v1::AuthStatus> home = client_->GetAuthStatus("openai-codex");
  absl::StatusOr<v1::AuthStatus> work = client_->GetAuthStatus("openai-codex@work");
  ASSERT_TRUE(home.ok() && work.ok());
  EXPECT_FALSE(home->expired());
  EXPECT_FALSE(work->expired());
  EXPECT_EQ(work->account(), "work");
  std::printf("accounts: 2 accounts x %d callers, %d refreshes, %d reused refresh tokens\n",
              kCallers, fake_.GrantCount("refresh_token"), fake_.InvalidGrantCount());
}

}  // namespace
}  // namespace operator_auth::testing
