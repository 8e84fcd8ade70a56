// Codex's config.toml: a model provider whose bearer token comes from a command,
// [model_providers.<id>] auth = { command, args } (openai/codex
// codex-rs/protocol/src/config_types.rs ModelProviderAuthInfo), and a profile selecting it
// (codex-rs/config/src/profile_toml.rs). tests/integration/agents_cli_test.cc parses the result
// with a TOML parser.
#include "cli/codex_config_file.h"

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace operator_auth::cli {
namespace {

using Outcome = ConfigEdit::Outcome;

const std::vector<std::string> kCommand = {"/usr/local/bin/operatorctl", "auth", "token", "openai"};

constexpr char kUserConfig[] =
    "model = \"gpt-5-codex\"\n"
    "approval_policy = \"on-request\"\n"
    "\n"
    "[model_providers.azure]\n"
    "name = \"Azure\"\n"
    "base_url = \"https://example.openai.azure.com/openai\"\n"
    "env_key = \"AZURE_OPENAI_API_KEY\"\n";

TEST(CodexConfigFile, TheBlockDefinesACommandBackedProviderAndAProfile) {
  EXPECT_EQ(CodexProviderBlock(
                {"/opt/a \"b\"/operatorctl", "--socket", "/run/s.sock", "auth", "token", "openai"}),
            "# BEGIN operator-authd (operatorctl setup codex)\n"
            "# The OpenAI API key from operator-authd: `codex --profile operator-authd`.\n"
            "# `operatorctl setup codex --remove` deletes this block.\n"
            "[model_providers.operator-authd]\n"
            "name = \"OpenAI (operator-authd)\"\n"
            "base_url = \"https://api.openai.com/v1\"\n"
            "wire_api = \"responses\"\n"
            "auth = { command = \"/opt/a \\\"b\\\"/operatorctl\", args = [\"--socket\", "
            "\"/run/s.sock\", \"auth\", \"token\", \"openai\"] }\n"
            "\n"
            "[profiles.operator-authd]\n"
            "model_provider = \"operator-authd\"\n"
            "# END operator-authd (operatorctl setup codex)\n");
}

TEST(CodexConfigFile, AppendsTheBlockAndKeepsTheRestByteForByte) {
  absl::StatusOr<ConfigEdit> edit = AddCodexProvider(std::string(kUserConfig), kCommand);
  ASSERT_TRUE(edit.ok()) << edit.status();
  EXPECT_EQ(edit->outcome, Outcome::kWritten);
  EXPECT_EQ(edit->text, std::string(kUserConfig) + "\n" + CodexProviderBlock(kCommand));

  absl::StatusOr<ConfigEdit> fresh = AddCodexProvider(std::nullopt, kCommand);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->text, CodexProviderBlock(kCommand));

  absl::StatusOr<ConfigEdit> no_newline = AddCodexProvider(std::string("model = \"o3\""), kCommand);
  ASSERT_TRUE(no_newline.ok());
  EXPECT_EQ(no_newline->text, "model = \"o3\"\n\n" + CodexProviderBlock(kCommand));
}

TEST(CodexConfigFile, SecondSetUpChangesNothingAndANewCommandReplacesOnlyTheBlock) {
  absl::StatusOr<ConfigEdit> first = AddCodexProvider(std::string(kUserConfig), kCommand);
  ASSERT_TRUE(first.ok());
  absl::StatusOr<ConfigEdit> second = AddCodexProvider(first->text, kCommand);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->outcome, Outcome::kUnchanged);

  const std::vector<std::string> moved = {"/new/operatorctl", "auth", "token", "openai"};
  const std::string with_tail = first->text + "\n[tui]\nnotifications = true\n";
  absl::StatusOr<ConfigEdit> updated = AddCodexProvider(with_tail, moved);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->outcome, Outcome::kWritten);
  EXPECT_EQ(updated->text, std::string(kUserConfig) + "\n" + CodexProviderBlock(moved) +
                               "\n[tui]\nnotifications = true\n");
}

TEST(CodexConfigFile, RemoveRestoresTheFileExactly) {
  absl::StatusOr<ConfigEdit> added = AddCodexProvider(std::string(kUserConfig), kCommand);
  ASSERT_TRUE(added.ok());
  absl::StatusOr<ConfigEdit> removed = RemoveCodexProvider(added->text);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->outcome, Outcome::kWritten);
  EXPECT_EQ(removed->text, kUserConfig);

  absl::StatusOr<ConfigEdit> nothing = RemoveCodexProvider(std::string(kUserConfig));
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(nothing->outcome, Outcome::kUnchanged);
  absl::StatusOr<ConfigEdit> no_file = RemoveCodexProvider(std::nullopt);
  ASSERT_TRUE(no_file.ok());
  EXPECT_EQ(no_file->outcome, Outcome::kUnchanged);
}

TEST(CodexConfigFile, RefusesWhenTheUserDefinesTheSameNames) {
  for (const std::string text : {
           "[model_providers.operator-authd]\nname = \"mine\"\n",
           "[ model_providers . \"operator-authd\" ]\nname = \"mine\"\n",
           "[profiles.operator-authd]\nmodel = \"o3\"\n",
           "[model_providers.operator-authd.auth]\ncommand = \"x\"\n",
           "model_providers.operator-authd.name = \"mine\"\n",
           "[model_providers]\noperator-authd = { name = \"mine\" }\n",
           "[profiles]\n\"operator-authd\".model = \"o3\"\n",
       }) {
    absl::StatusOr<ConfigEdit> edit = AddCodexProvider(text, kCommand);
    ASSERT_TRUE(edit.ok()) << text;
    EXPECT_EQ(edit->outcome, Outcome::kNotOurs) << text;
    EXPECT_FALSE(edit->existing.empty());
  }
  // Similar names are someone else's business.
  for (const std::string text : {"[model_providers.operator-authd-2]\n",
                                 "[profiles.mine]\nmodel_provider = \"operator-authd\"\n",
                                 "# [model_providers.operator-authd]\n"}) {
    absl::StatusOr<ConfigEdit> edit = AddCodexProvider(text, kCommand);
    ASSERT_TRUE(edit.ok()) << text;
    EXPECT_EQ(edit->outcome, Outcome::kWritten) << text;
  }
}

TEST(CodexConfigFile, UnmatchedMarkersAreLeftForTheUser) {
  const std::string begin_only = std::string(kCodexBlockBegin) + "\n[profiles.x]\n";
  const std::string end_only = "[profiles.x]\n" + std::string(kCodexBlockEnd) + "\n";
  const std::string twice = CodexProviderBlock(kCommand) + CodexProviderBlock(kCommand);
  for (const std::string& text : {begin_only, end_only, twice}) {
    EXPECT_TRUE(absl::IsFailedPrecondition(AddCodexProvider(text, kCommand).status()));
    EXPECT_TRUE(absl::IsFailedPrecondition(RemoveCodexProvider(text).status()));
  }
}

}  // namespace
}  // namespace operator_auth::cli
