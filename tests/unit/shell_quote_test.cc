#include "cli/shell_quote.h"

#include <gtest/gtest.h>

namespace operator_auth::cli {
namespace {

TEST(ShellQuote, LeavesPlainWordsBare) {
  EXPECT_EQ(ShellQuote("/usr/local/bin/operatorctl"), "/usr/local/bin/operatorctl");
  EXPECT_EQ(ShellQuote("--socket"), "--socket");
}

TEST(ShellQuote, QuotesEverythingElse) {
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("/home/a b/operatorctl"), "'/home/a b/operatorctl'");
  EXPECT_EQ(ShellQuote("$(rm -rf ~)"), "'$(rm -rf ~)'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
}

TEST(ShellQuote, JoinsACommandLine) {
  EXPECT_EQ(ShellCommandLine({"/opt/my tools/operatorctl", "auth", "token", "anthropic"}),
            "'/opt/my tools/operatorctl' auth token anthropic");
}

TEST(ShellQuote, FirstWordReadsBackWhatWasQuoted) {
  for (const std::string word : {"/usr/bin/operatorctl", "/home/a b/operatorctl", "/x/it's"}) {
    EXPECT_EQ(FirstShellWord(ShellCommandLine({word, "auth"})), word);
  }
  EXPECT_EQ(FirstShellWord("  \"/a b/operatorctl\" auth"), "/a b/operatorctl");
  EXPECT_EQ(FirstShellWord("/a\\ b/operatorctl auth"), "/a b/operatorctl");
  EXPECT_EQ(FirstShellWord(""), "");
}

}  // namespace
}  // namespace operator_auth::cli
