// operatorctl against the real daemon: the commands, their output, and their exit codes.
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

using CliTest = DaemonTest;

TEST_F(CliTest, SetFromStdinThenTokenStatusListUnset) {
  ProcessResult set = Ctl({"auth", "set", "openai", "--api-key", "-"}, "sk-cli-secret\n");
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_THAT(set.out + set.err, Not(HasSubstr("sk-cli-secret")));
  EXPECT_THAT(set.out, HasSubstr("openai"));

  ProcessResult token = Ctl({"auth", "token", "openai"});
  EXPECT_EQ(token.exit_code, 0) << token.err;
  EXPECT_EQ(token.out, "sk-cli-secret\n");

  ProcessResult status = Ctl({"auth", "status", "openai"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("stored"));
  EXPECT_THAT(status.out, Not(HasSubstr("sk-cli-secret")));

  ProcessResult detail = Ctl({"auth", "list", "openai"});
  EXPECT_EQ(detail.exit_code, 0) << detail.err;
  EXPECT_THAT(detail.out, HasSubstr("openai"));

  ProcessResult list = Ctl({"auth", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("OAuth"));
  EXPECT_THAT(list.out, HasSubstr("API-key"));
  EXPECT_THAT(list.out, HasSubstr("github-copilot"));
  EXPECT_THAT(list.out, HasSubstr("perplexity"));
  EXPECT_THAT(list.out, Not(HasSubstr("sk-cli-secret")));
  ProcessResult bare = Ctl({"auth"});
  EXPECT_EQ(bare.exit_code, 0) << bare.err;
  EXPECT_EQ(bare.out, list.out);

  ProcessResult unset = Ctl({"auth", "unset", "openai"});
  EXPECT_EQ(unset.exit_code, 0) << unset.err;
  ProcessResult gone = Ctl({"auth", "token", "openai"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_EQ(gone.out, "");
  ProcessResult not_configured = Ctl({"auth", "status", "openai"});
  EXPECT_EQ(not_configured.exit_code, 1);
}

TEST_F(CliTest, KeyOnTheCommandLineWorksButWarnsWithoutEchoingIt) {
  ProcessResult set = Ctl({"auth", "set", "openai", "--api-key", "sk-argv-visible-value"});
  ASSERT_EQ(set.exit_code, 0) << "exit " << set.exit_code;
  EXPECT_THAT(set.err, HasSubstr("warning"));
  EXPECT_THAT(set.err, HasSubstr("/proc/PID/cmdline"));
  EXPECT_THAT(set.err, HasSubstr("shell history"));
  EXPECT_THAT(set.err, HasSubstr("--api-key -"));
  EXPECT_THAT(set.out + set.err, Not(HasSubstr("sk-argv-visible-value")));
  ProcessResult token = Ctl({"auth", "token", "openai"});
  EXPECT_EQ(token.exit_code, 0);
  EXPECT_TRUE(token.out == "sk-argv-visible-value\n") << "the stored key differs";

  ProcessResult from_stdin = Ctl({"auth", "set", "groq", "--api-key", "-"}, "gsk-stdin-value\n");
  ASSERT_EQ(from_stdin.exit_code, 0) << "exit " << from_stdin.exit_code;
  EXPECT_THAT(from_stdin.err, Not(HasSubstr("warning")));
  EXPECT_THAT(from_stdin.out + from_stdin.err, Not(HasSubstr("gsk-stdin-value")));
}

TEST_F(CliTest, JsonOutputIsMachineReadable) {
  ASSERT_EQ(Ctl({"auth", "set", "groq", "--api-key", "-"}, "gsk-json").exit_code, 0);

  ProcessResult token = Ctl({"--json", "auth", "token", "groq"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  Json t = Json::parse(token.out);
  EXPECT_EQ(t["key"], "gsk-json");
  EXPECT_EQ(t["source"], "stored");

  ProcessResult status = Ctl({"auth", "status", "groq", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  Json s = Json::parse(status.out);
  EXPECT_EQ(s["provider"], "groq");
  EXPECT_EQ(s["configured"], true);
  EXPECT_EQ(s["env_var"], "GROQ_API_KEY");
  EXPECT_THAT(status.out, Not(HasSubstr("gsk-json")));

  ProcessResult list = Ctl({"--json", "auth", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  Json l = Json::parse(list.out);
  ASSERT_TRUE(l["providers"].is_array());
  EXPECT_EQ(l["providers"].size(), 15u);
  bool saw_groq = false;
  for (const Json& p : l["providers"]) {
    if (p["id"] == "groq") {
      saw_groq = true;
      EXPECT_EQ(p["kind"], "api_key");
      EXPECT_EQ(p["status"]["configured"], true);
    }
    if (p["id"] == "openai-codex") {
      EXPECT_EQ(p["kind"], "oauth");
    }
  }
  EXPECT_TRUE(saw_groq);
}

TEST_F(CliTest, EnvKeysShowTheVariableName) {
  daemon_.Stop();
  daemon_.SetEnv("XAI_API_KEY", "xai-from-env");
  ASSERT_TRUE(daemon_.Start().ok());
  ProcessResult list = Ctl({"auth", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("XAI_API_KEY"));
  EXPECT_THAT(list.out, Not(HasSubstr("xai-from-env")));
}

TEST_F(CliTest, ExitCodesForUsageUnreachableAndBadInput) {
  EXPECT_EQ(Ctl({"auth", "frobnicate"}).exit_code, 2);
  EXPECT_EQ(Ctl({"auth", "set", "openai"}).exit_code, 2);
  EXPECT_EQ(Ctl({"auth", "set", "openai", "--api-key", "-"}, "").exit_code, 2);
  ProcessResult bad_id = Ctl({"auth", "token", "Bad/Id"});
  EXPECT_EQ(bad_id.exit_code, 2);
  EXPECT_THAT(bad_id.err, HasSubstr("provider id"));
  ProcessResult bad_key = Ctl({"auth", "set", "openai", "--api-key", "-"}, "sk-a\x01secret");
  EXPECT_EQ(bad_key.exit_code, 2);
  EXPECT_THAT(bad_key.err, Not(HasSubstr("secret")));

  const std::string nowhere = dir_.Sub("nobody-listens.sock");
  ProcessResult unreachable =
      RunProcess({AUTHD_CTL_PATH, "--socket", nowhere, "auth", "token", "openai"});
  EXPECT_EQ(unreachable.exit_code, 3);
  EXPECT_THAT(unreachable.err, HasSubstr(nowhere));
  EXPECT_THAT(unreachable.err, HasSubstr("operator-authd"));
}

TEST_F(CliTest, ValidOAuthTokenIsServedAndAFailedRefreshIsReported) {
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  Json file = {
      {"openai-codex",
       {{"type", "oauth"},
        {"access", "at-valid"},
        {"refresh", "rt-1"},
        {"expires", now_ms + 3'600'000},
        {"extra", {{"account_id", "acct-42"}}}}},
      {"anthropic-claude-code",
       {{"type", "oauth"}, {"access", "at-old"}, {"refresh", "rt-2"}, {"expires", now_ms - 1000}}}};
  WriteFileOrDie(daemon_.providers_path(), file.dump());

  ProcessResult valid = Ctl({"auth", "token", "openai-codex"});
  EXPECT_EQ(valid.exit_code, 0) << valid.err;
  EXPECT_EQ(valid.out, "at-valid\n");
  ProcessResult status = Ctl({"--json", "auth", "status", "openai-codex"});
  Json s = Json::parse(status.out);
  EXPECT_EQ(s["account_id"], "acct-42");
  EXPECT_EQ(s["expired"], false);

  // The token endpoint (a closed port on 127.0.0.1 here) cannot be reached: a transient failure.
  ProcessResult expired = Ctl({"auth", "token", "anthropic-claude-code"});
  EXPECT_EQ(expired.exit_code, 4);
  EXPECT_THAT(expired.err, HasSubstr("refreshing the anthropic-claude-code token failed"));
  EXPECT_THAT(expired.err, Not(HasSubstr("at-old")));
  EXPECT_THAT(expired.err, Not(HasSubstr("rt-2")));
  ProcessResult expired_status = Ctl({"--json", "auth", "status", "anthropic-claude-code"});
  Json e = Json::parse(expired_status.out);
  EXPECT_EQ(e["expired"], true);
  EXPECT_EQ(e["refresh_state"], "backoff");
  EXPECT_EQ(e["needs_login"], false);
  EXPECT_THAT(e["refresh_error"].get<std::string>(), HasSubstr("failed"));
  EXPECT_GT(e["next_retry_unix_ms"].get<int64_t>(), now_ms);
  // Nothing was lost.
  EXPECT_EQ(Json::parse(ReadFileOrDie(daemon_.providers_path())), file);
}

}  // namespace
}  // namespace operator_auth::testing
