// Claude Code's settings.json format: a JSON object whose "apiKeyHelper" is a /bin/sh command
// (https://code.claude.com/docs/en/settings, "Available settings").
#include "cli/claude_settings_file.h"

#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace operator_auth::cli {
namespace {

using Outcome = ConfigEdit::Outcome;

constexpr char kHelper[] = "/usr/local/bin/operatorctl auth token anthropic";

TEST(ClaudeSettingsFile, CreatesTheSettingsWhenThereAreNone) {
  absl::StatusOr<ConfigEdit> edit = SetApiKeyHelper(std::nullopt, kHelper, false);
  ASSERT_TRUE(edit.ok()) << edit.status();
  EXPECT_EQ(edit->outcome, Outcome::kWritten);
  EXPECT_EQ(edit->text,
            "{\n  \"apiKeyHelper\": \"/usr/local/bin/operatorctl auth token "
            "anthropic\"\n}\n");
}

TEST(ClaudeSettingsFile, KeepsEveryOtherSettingInItsOrder) {
  const std::string text =
      "{\"model\": \"opus\", \"env\": {\"B\": \"2\", \"A\": \"1\"}, \"permissions\": "
      "{\"allow\": [\"Bash(ls:*)\"]}, \"cleanupPeriodDays\": 20}";
  absl::StatusOr<ConfigEdit> edit = SetApiKeyHelper(text, kHelper, false);
  ASSERT_TRUE(edit.ok()) << edit.status();
  EXPECT_EQ(edit->text,
            "{\n"
            "  \"model\": \"opus\",\n"
            "  \"env\": {\n    \"B\": \"2\",\n    \"A\": \"1\"\n  },\n"
            "  \"permissions\": {\n    \"allow\": [\n      \"Bash(ls:*)\"\n    ]\n  },\n"
            "  \"cleanupPeriodDays\": 20,\n"
            "  \"apiKeyHelper\": \"/usr/local/bin/operatorctl auth token anthropic\"\n"
            "}\n");
}

TEST(ClaudeSettingsFile, SecondSetUpChangesNothing) {
  absl::StatusOr<ConfigEdit> first = SetApiKeyHelper(std::string("{}"), kHelper, false);
  ASSERT_TRUE(first.ok());
  absl::StatusOr<ConfigEdit> second = SetApiKeyHelper(first->text, kHelper, false);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->outcome, Outcome::kUnchanged);
}

TEST(ClaudeSettingsFile, NeverReplacesAnotherHelperWithoutForce) {
  const std::string text = R"({"apiKeyHelper": "~/bin/get-key.sh"})";
  absl::StatusOr<ConfigEdit> refused = SetApiKeyHelper(text, kHelper, false);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->outcome, Outcome::kNotOurs);
  EXPECT_EQ(refused->existing, "~/bin/get-key.sh");

  absl::StatusOr<ConfigEdit> forced = SetApiKeyHelper(text, kHelper, true);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->outcome, Outcome::kWritten);
  EXPECT_EQ(forced->existing, "~/bin/get-key.sh");
  EXPECT_NE(forced->text.find(kHelper), std::string::npos);
}

TEST(ClaudeSettingsFile, UpdatesItsOwnHelperFromAnotherPathOrSocket) {
  const std::string text =
      R"({"apiKeyHelper": "'/old place/operatorctl' --socket /run/x.sock auth token anthropic"})";
  absl::StatusOr<ConfigEdit> edit = SetApiKeyHelper(text, kHelper, false);
  ASSERT_TRUE(edit.ok());
  EXPECT_EQ(edit->outcome, Outcome::kWritten);
}

TEST(ClaudeSettingsFile, RecognisesOnlyOperatorctlsHelpers) {
  EXPECT_TRUE(IsOurApiKeyHelper(kHelper, kHelper));
  EXPECT_TRUE(IsOurApiKeyHelper("operatorctl auth token anthropic", kHelper));
  EXPECT_FALSE(IsOurApiKeyHelper("/bin/operatorctl auth token openai", kHelper));
  EXPECT_FALSE(IsOurApiKeyHelper("/bin/not-operatorctl auth token anthropic", kHelper));
  EXPECT_FALSE(IsOurApiKeyHelper("echo sk-ant; operatorctl auth token anthropic", kHelper));
}

TEST(ClaudeSettingsFile, RemoveTakesAwayOnlyItsOwnHelper) {
  absl::StatusOr<ConfigEdit> set =
      SetApiKeyHelper(std::string(R"({"model": "opus"})"), kHelper, false);
  ASSERT_TRUE(set.ok());
  absl::StatusOr<ConfigEdit> removed = RemoveApiKeyHelper(set->text, kHelper);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->outcome, Outcome::kWritten);
  EXPECT_EQ(removed->text, "{\n  \"model\": \"opus\"\n}\n");

  absl::StatusOr<ConfigEdit> again = RemoveApiKeyHelper(removed->text, kHelper);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, Outcome::kUnchanged);

  absl::StatusOr<ConfigEdit> foreign =
      RemoveApiKeyHelper(std::string(R"({"apiKeyHelper": "pass show anthropic"})"), kHelper);
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(foreign->outcome, Outcome::kNotOurs);
}

TEST(ClaudeSettingsFile, MalformedSettingsAreRefusedWithoutQuotingThem) {
  for (const std::string text :
       {"{\"env\": {\"ANTHROPIC_API_KEY\": \"sk-ant-secret\"", "[1, 2]", "{\"a\": 1} trailing"}) {
    absl::StatusOr<ConfigEdit> edit = SetApiKeyHelper(text, kHelper, false);
    ASSERT_FALSE(edit.ok()) << text;
    EXPECT_TRUE(absl::IsInvalidArgument(edit.status()));
    EXPECT_EQ(std::string(edit.status().message()).find("sk-ant-secret"), std::string::npos);
    EXPECT_FALSE(RemoveApiKeyHelper(text, kHelper).ok());
  }
}

TEST(ClaudeSettingsFile, AnEmptyFileIsNoSettingsYet) {
  absl::StatusOr<ConfigEdit> edit = SetApiKeyHelper(std::string(" \n"), kHelper, false);
  ASSERT_TRUE(edit.ok());
  EXPECT_EQ(edit->outcome, Outcome::kWritten);
}

}  // namespace
}  // namespace operator_auth::cli
