#include "cli/tool_config_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace operator_auth::cli {
namespace {

using ::operator_auth::testing::FileMode;
using ::operator_auth::testing::ReadFileOrDie;
using ::operator_auth::testing::TempDir;
using ::operator_auth::testing::WriteFileOrDie;

TEST(ToolConfigFile, AMissingFileReadsAsNone) {
  TempDir dir;
  absl::StatusOr<std::optional<std::string>> text = ReadToolConfig(dir.Sub("none/settings.json"));
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_FALSE(text->has_value());
}

TEST(ToolConfigFile, CreatesThePrivateDirectoriesAndA0600File) {
  TempDir dir;
  const std::string path = dir.Sub("home/.claude/settings.json");
  ASSERT_TRUE(ReplaceToolConfig(path, "{}\n").ok());
  EXPECT_EQ(ReadFileOrDie(path), "{}\n");
  EXPECT_EQ(FileMode(path), 0600);
  EXPECT_EQ(FileMode(dir.Sub("home/.claude")), 0700);
  EXPECT_EQ(FileMode(dir.Sub("home")), 0700);
}

TEST(ToolConfigFile, ReplacingKeepsTheFilesMode) {
  TempDir dir;
  const std::string path = dir.Sub("config.toml");
  WriteFileOrDie(path, "model = \"o3\"\n");
  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  ASSERT_TRUE(ReplaceToolConfig(path, "model = \"o4\"\n").ok());
  EXPECT_EQ(ReadFileOrDie(path), "model = \"o4\"\n");
  EXPECT_EQ(FileMode(path), 0640);
}

// What setup writes is a command the tool runs: a file others could have changed is not edited.
TEST(ToolConfigFile, RefusesSymlinksAndFilesOthersMayWrite) {
  TempDir dir;
  const std::string real = dir.Sub("real.json");
  WriteFileOrDie(real, "{}");
  const std::string link = dir.Sub("settings.json");
  ASSERT_EQ(symlink(real.c_str(), link.c_str()), 0);
  EXPECT_FALSE(ReadToolConfig(link).ok());

  ASSERT_EQ(chmod(real.c_str(), 0666), 0);
  absl::StatusOr<std::optional<std::string>> text = ReadToolConfig(real);
  EXPECT_FALSE(text.ok());
}

}  // namespace
}  // namespace operator_auth::cli
