// Client rules (authd.json "clients") against the real daemon: the test binary itself is the
// client a rule names by its exe; Debian's python3 running the Python client package is a
// client no rule names.
#include <signal.h>
#include <unistd.h>

#include <climits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "tests/integration/daemon_fixture.h"

namespace operator_auth::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

// Stand-in keys the daemon serves from its own environment (never printed by these tests).
constexpr char kOpenAiKey[] = "sk-rules-openai-0123456789abcdef";
constexpr char kAnthropicKey[] = "sk-ant-rules-0123456789abcdef";

std::string SelfExe() {
  char buffer[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer));
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

// authd.json: the tests' loopback-only providers plus `clients` (and `clients_default`).
std::string ConfigWith(const Json& clients, const char* clients_default = nullptr) {
  Json config = Json::parse(LoopbackOnlyConfig("http://127.0.0.1:9"));
  config["clients"] = clients;
  if (clients_default != nullptr) config["clients_default"] = clients_default;
  return config.dump(2);
}

// This test binary may have openai only.
Json OpenAiOnlyForThisTest() {
  return Json::array({{{"name", "this-test"}, {"exe", SelfExe()}, {"allow", {"openai"}}}});
}

class ClientRulesTest : public DaemonTest {
 protected:
  void SetUp() override {}  // each test starts the daemon with its own authd.json

  void StartWith(const std::string& config) {
    daemon_.SetConfig(config);
    daemon_.SetEnv("OPENAI_API_KEY", kOpenAiKey);
    daemon_.SetEnv("ANTHROPIC_API_KEY", kAnthropicKey);
    ASSERT_TRUE(daemon_.Start().ok()) << daemon_.Log();
    client_ = NewClient();
  }

  // GetApiKey for each of `providers` from python3 through the Python client, which no rule
  // names by its exe. One line each: "ok" when the key is the expected one, else the code and
  // the message.
  std::string PythonGets() {
    const char* script = R"(
import sys
from operator_auth_client import AuthClient, AuthError
expected = {"openai": sys.argv[2], "anthropic": sys.argv[3]}
with AuthClient(sys.argv[1], env_fallback=False) as client:
    for provider in ("openai", "anthropic"):
        try:
            key = client.get_api_key(provider)
            print(provider, "ok" if key.key == expected[provider] else "wrong key")
        except AuthError as error:
            print(provider, error.code.name if error.code else None, error)
)";
    ProcessOptions options;
    options.env = {{"PYTHONPATH", AUTHD_PYTHON_PACKAGE_DIR}, {"PYTHONDONTWRITEBYTECODE", "1"}};
    ProcessResult result = RunProcess(
        {AUTHD_PYTHON3, "-c", script, daemon_.socket_path(), kOpenAiKey, kAnthropicKey}, options);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.out;
  }

  void WaitForLog(const std::string& text) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline && daemon_.Log().find(text) == std::string::npos) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    ASSERT_THAT(daemon_.Log(), HasSubstr(text));
  }

  void RewriteConfig(const std::string& config) {
    // Replaced, not edited in place: the daemon reads it only at SIGHUP anyway.
    const std::string temp = daemon_.config_path() + ".new";
    FILE* f = fopen(temp.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs(config.c_str(), f);
    fclose(f);
    ASSERT_EQ(rename(temp.c_str(), daemon_.config_path().c_str()), 0);
  }
};

TEST_F(ClientRulesTest, AClientAnExeRuleNamesGetsOnlyWhatTheRuleAllows) {
  StartWith(ConfigWith(OpenAiOnlyForThisTest()));
  absl::StatusOr<ApiKey> openai = client_->GetApiKey("openai");
  ASSERT_TRUE(openai.ok()) << openai.status();
  EXPECT_TRUE(openai->key == kOpenAiKey);

  absl::StatusOr<ApiKey> anthropic = client_->GetApiKey("anthropic");
  ASSERT_FALSE(anthropic.ok());
  EXPECT_EQ(anthropic.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(anthropic.status().message(), "client rule \"this-test\" does not allow anthropic");
  // Changing a credential is refused the same way, and so is a chat channel.
  absl::StatusOr<v1::SetApiKeyResponse> set = client_->SetApiKey("anthropic", "sk-ant-other-1234");
  EXPECT_EQ(set.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client_->GetChannel("telegram").status().code(), absl::StatusCode::kPermissionDenied);
  // Status carries no secret and stays open.
  EXPECT_TRUE(client_->GetAuthStatus("anthropic").ok());

  // python3 matches no rule: the default (allow) gives it everything.
  const std::string python = PythonGets();
  EXPECT_THAT(python, HasSubstr("openai ok"));
  EXPECT_THAT(python, HasSubstr("anthropic ok"));
  EXPECT_THAT(daemon_.Log() + python, Not(HasSubstr(kAnthropicKey)));
}

TEST_F(ClientRulesTest, UnderDefaultDenyAClientNoRuleMatchesGetsNothing) {
  StartWith(ConfigWith(OpenAiOnlyForThisTest(), "deny"));
  EXPECT_TRUE(client_->GetApiKey("openai").ok());
  const std::string python = PythonGets();
  EXPECT_THAT(python, HasSubstr("openai PERMISSION_DENIED"));
  EXPECT_THAT(python, HasSubstr("no client rule matches this client and clients_default is "
                                "\"deny\": openai is not allowed"));
  EXPECT_THAT(python, HasSubstr("anthropic PERMISSION_DENIED"));
}

TEST_F(ClientRulesTest, SighupSwapsTheRulesAndABadSetKeepsTheOldOnes) {
  StartWith(ConfigWith(Json::array()));
  ASSERT_TRUE(client_->GetApiKey("anthropic").ok());

  RewriteConfig(ConfigWith(OpenAiOnlyForThisTest()));
  daemon_.Signal(SIGHUP);
  WaitForLog("1 client rule(s), clients_default allow");
  // The same connection: rules are read per call.
  EXPECT_EQ(client_->GetApiKey("anthropic").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(client_->GetApiKey("openai").ok());

  RewriteConfig(ConfigWith(Json::array({{{"name", "broken"}, {"allow", {"*"}}}})));
  daemon_.Signal(SIGHUP);
  WaitForLog("keeping the previous configuration");
  EXPECT_THAT(daemon_.Log(), HasSubstr("clients[0] (\"broken\"): needs \"exe\", \"unit\" or both"));
  EXPECT_EQ(client_->GetApiKey("anthropic").status().code(), absl::StatusCode::kPermissionDenied)
      << "the old rules stay";
}

TEST_F(ClientRulesTest, AMalformedRuleSetStopsTheStartNamingTheRule) {
  daemon_.SetConfig(ConfigWith(
      Json::array({{{"name", "agent"}, {"exe", "/usr/bin/node"}, {"allow", {"openai@"}}}})));
  daemon_.Launch();
  ProcessResult result = daemon_.WaitForExit(absl::Seconds(30));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err,
              HasSubstr("bad configuration: " + daemon_.config_path() +
                        ": clients[0] (\"agent\").allow[0]: the part after '@': account name is "
                        "empty"));
}

// A "PROVIDER@ACCOUNT" entry allows that account, named or as the default, and nothing else of
// the provider.
TEST_F(ClientRulesTest, AnAccountEntryAllowsThatAccountNamedOrDefault) {
  StartWith(ConfigWith(Json::array(
      {{{"name", "work-only"}, {"exe", SelfExe()}, {"allow", {"openai@work"}}}})));
  AuthClientOptions options;
  options.socket_path = daemon_.socket_path();
  options.env_fallback = false;
  options.account = "work";
  AuthClient work(options);
  ASSERT_TRUE(work.SetApiKey("openai", "sk-rules-work-0123456789").ok());
  EXPECT_EQ(work.GetApiKey("openai")->key, "sk-rules-work-0123456789");
  absl::StatusOr<ApiKey> refused = client_->GetApiKey("openai");
  EXPECT_TRUE(absl::IsPermissionDenied(refused.status())) << refused.status();
  EXPECT_THAT(refused.status().message(),
              HasSubstr("client rule \"work-only\" does not allow openai"));
  EXPECT_TRUE(absl::IsPermissionDenied(client_->GetApiKey("openai@home").status()));
  // Once "work" is the default, a caller naming no account gets it.
  absl::StatusOr<v1::SetDefaultAccountResponse> made = client_->SetDefaultAccount("openai", "work");
  ASSERT_TRUE(made.ok()) << made.status();
  absl::StatusOr<ApiKey> key = client_->GetApiKey("openai");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "sk-rules-work-0123456789");
}

}  // namespace
}  // namespace operator_auth::testing
