// `operatorctl fleet keygen PATH`: the real binary writes a key every FleetKey (and
// `openssl enc`-style tooling) reads, private, never printed, never over an existing file.
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/ascii.h"
#include "daemon/fleet/fleet_key.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace operator_auth {
namespace {

using ::operator_auth::testing::FileMode;
using ::operator_auth::testing::PathExists;
using ::operator_auth::testing::ProcessResult;
using ::operator_auth::testing::ReadFileOrDie;
using ::operator_auth::testing::RunProcess;
using ::operator_auth::testing::TempDir;
using ::operator_auth::testing::WriteFileOrDie;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(FleetKeygenTest, WritesAPrivateKeyFileAndPrintsOnlyItsFingerprint) {
  TempDir dir;
  const std::string path = dir.Sub("fleet.key");
  ProcessResult r = RunProcess({AUTHD_CTL_PATH, "fleet", "keygen", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FileMode(path), 0600);
  const std::string text = ReadFileOrDie(path);
  // One line of base64, as `openssl rand -base64 32` prints: 44 characters and a newline.
  EXPECT_EQ(text.size(), 45u);
  EXPECT_EQ(text.back(), '\n');
  absl::StatusOr<FleetKey> key = FleetKey::Parse(text);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_THAT(r.out, HasSubstr(key->Fingerprint()));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(std::string(absl::StripTrailingAsciiWhitespace(text)))));
  // The base64 decoder agrees it is 32 bytes.
  ProcessResult decoded = RunProcess({"/bin/sh", "-c", "base64 -d < \"$0\" | wc -c", path});
  EXPECT_EQ(absl::StripAsciiWhitespace(decoded.out), "32");

  // Two runs make two different keys.
  const std::string other = dir.Sub("other.key");
  ASSERT_EQ(RunProcess({AUTHD_CTL_PATH, "fleet", "keygen", other}).exit_code, 0);
  EXPECT_NE(ReadFileOrDie(other), text);
}

TEST(FleetKeygenTest, NeverOverwritesAFileOrFollowsASymlink) {
  TempDir dir;
  const std::string path = dir.Sub("fleet.key");
  WriteFileOrDie(path, "a key in use\n");
  ProcessResult r = RunProcess({AUTHD_CTL_PATH, "fleet", "keygen", path});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("exists"));
  EXPECT_EQ(ReadFileOrDie(path), "a key in use\n");

  const std::string link = dir.Sub("link.key");
  const std::string target = dir.Sub("target");
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  r = RunProcess({AUTHD_CTL_PATH, "fleet", "keygen", link});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_FALSE(PathExists(target)) << "keygen wrote through a dangling symlink";

  r = RunProcess({AUTHD_CTL_PATH, "fleet", "keygen", dir.Sub("no-such-dir/fleet.key")});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("cannot create"));

  r = RunProcess({AUTHD_CTL_PATH, "fleet", "keygen"});
  EXPECT_EQ(r.exit_code, 2) << "a missing PATH is a usage error";
}

}  // namespace
}  // namespace operator_auth
