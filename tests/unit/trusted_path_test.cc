#include "daemon/core/trusted_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/run_as_nobody.h"
#include "tests/support/temp_dir.h"

namespace operator_auth {
namespace {

using ::operator_auth::testing::kNobodyUid;
using ::operator_auth::testing::TempDir;
using ::operator_auth::testing::WriteFileOrDie;
using ::testing::HasSubstr;

constexpr uid_t kUser = 1000;

struct stat Stat(uid_t owner, mode_t mode) {
  struct stat st {};
  st.st_uid = owner;
  st.st_mode = mode;
  return st;
}

absl::Status Judge(uid_t owner, mode_t mode, TrustedRole role) {
  return CheckOwnerAndMode("/p", Stat(owner, mode), role, kUser);
}

// The walk's boundary for tests: this process's uid and a home that no test path is below, so
// that every walk goes up to "/" unless a test names a home.
TrustBoundary NoHome() { return TrustBoundary{geteuid(), "/nonexistent-home"}; }

TEST(TrustedPath, AFileMustBeTheUsersOrRootsAndWritableByNoOneElse) {
  EXPECT_TRUE(Judge(kUser, S_IFREG | 0600, TrustedRole::kFile).ok());
  EXPECT_TRUE(Judge(kUser, S_IFREG | 0644, TrustedRole::kFile).ok());
  EXPECT_TRUE(Judge(0, S_IFREG | 0644, TrustedRole::kFile).ok());

  absl::Status foreign = Judge(kNobodyUid, S_IFREG | 0600, TrustedRole::kFile);
  EXPECT_TRUE(absl::IsPermissionDenied(foreign));
  EXPECT_THAT(foreign.message(), HasSubstr("bad ownership for /p: owned by uid 65534"));
  for (mode_t loose : {0620, 0602, 0666}) {
    absl::Status s = Judge(kUser, S_IFREG | loose, TrustedRole::kFile);
    EXPECT_TRUE(absl::IsPermissionDenied(s)) << loose;
    EXPECT_THAT(s.message(), HasSubstr("chmod go-w /p"));
  }
}

TEST(TrustedPath, TheDaemonsOwnDirectoryMustBeItsAloneStickyOrNot) {
  EXPECT_TRUE(Judge(kUser, S_IFDIR | 0700, TrustedRole::kOwnDirectory).ok());
  EXPECT_TRUE(Judge(kUser, S_IFDIR | 0755, TrustedRole::kOwnDirectory).ok());
  EXPECT_FALSE(Judge(0, S_IFDIR | 0700, TrustedRole::kOwnDirectory).ok());
  EXPECT_FALSE(Judge(kNobodyUid, S_IFDIR | 0700, TrustedRole::kOwnDirectory).ok());
  EXPECT_FALSE(Judge(kUser, S_IFDIR | 01777, TrustedRole::kOwnDirectory).ok());
  EXPECT_FALSE(Judge(kUser, S_IFDIR | 0770, TrustedRole::kOwnDirectory).ok());
}

TEST(TrustedPath, AnAncestorMayBeRootsStickyDirectoryButNothingElseOthersWrite) {
  EXPECT_TRUE(Judge(0, S_IFDIR | 0755, TrustedRole::kAncestor).ok());
  EXPECT_TRUE(Judge(kUser, S_IFDIR | 0711, TrustedRole::kAncestor).ok());
  EXPECT_TRUE(Judge(0, S_IFDIR | 01777, TrustedRole::kAncestor).ok());  // /tmp
  EXPECT_FALSE(Judge(0, S_IFDIR | 0777, TrustedRole::kAncestor).ok());
  EXPECT_FALSE(Judge(kUser, S_IFDIR | 01777, TrustedRole::kAncestor).ok());
  EXPECT_FALSE(Judge(kNobodyUid, S_IFDIR | 01777, TrustedRole::kAncestor).ok());
  EXPECT_FALSE(Judge(kNobodyUid, S_IFDIR | 0755, TrustedRole::kAncestor).ok());
}

TEST(TrustedPath, WalkNamesTheAncestorThatOthersMayWrite) {
  TempDir dir;
  const std::string home = dir.Sub("home");
  ASSERT_EQ(mkdir(home.c_str(), 0700), 0);
  EXPECT_TRUE(CheckTrustedDirectory(home, TrustedRole::kOwnDirectory, NoHome()).ok());

  ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
  absl::Status s = CheckTrustedDirectory(home, TrustedRole::kOwnDirectory, NoHome());
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("bad permissions on " + dir.path() + ": mode 0777"));
  EXPECT_THAT(s.message(), HasSubstr("an ancestor of"));
  ASSERT_EQ(chmod(dir.path().c_str(), 0700), 0);
}

TEST(TrustedPath, WalkStopsAfterTheUsersHome) {
  TempDir dir;
  const std::string outer = dir.Sub("shared");  // others may write it, but it is above the home
  const std::string home = outer + "/user";
  const std::string operator_home = home + "/.operator";
  ASSERT_EQ(mkdir(outer.c_str(), 0777), 0);
  ASSERT_EQ(chmod(outer.c_str(), 0777), 0);
  ASSERT_EQ(mkdir(home.c_str(), 0700), 0);
  ASSERT_EQ(mkdir(operator_home.c_str(), 0700), 0);

  EXPECT_TRUE(
      CheckTrustedDirectory(operator_home, TrustedRole::kOwnDirectory, {geteuid(), home}).ok());
  EXPECT_FALSE(CheckTrustedDirectory(operator_home, TrustedRole::kOwnDirectory, NoHome()).ok());
}

TEST(TrustedPath, WalkRefusesADirectoryAnotherUidOwns) {
  TempDir dir;
  const std::string theirs = dir.Sub("theirs");
  ASSERT_EQ(mkdir(theirs.c_str(), 0700), 0);
  ASSERT_EQ(chown(theirs.c_str(), kNobodyUid, kNobodyUid), 0);
  absl::Status s = CheckTrustedDirectory(theirs, TrustedRole::kOwnDirectory, NoHome());
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("owned by uid 65534"));
}

TEST(TrustedPath, ReadsATrustedFileWhole) {
  TempDir dir;
  WriteFileOrDie(dir.Sub("authd.json"), "{\"aliases\": {}}");
  absl::StatusOr<std::string> text = ReadTrustedFile(dir.Sub("authd.json"), 1024, NoHome());
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "{\"aliases\": {}}");
  EXPECT_TRUE(absl::IsNotFound(ReadTrustedFile(dir.Sub("missing"), 1024, NoHome()).status()));
}

TEST(TrustedPath, RefusesSymlinksOtherFileTypesLooseModesForeignOwnersAndHugeFiles) {
  TempDir dir;
  const std::string file = dir.Sub("authd.json");
  WriteFileOrDie(file, "{}");

  ASSERT_EQ(symlink(file.c_str(), dir.Sub("link").c_str()), 0);
  absl::Status link = ReadTrustedFile(dir.Sub("link"), 1024, NoHome()).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(link)) << link;
  EXPECT_THAT(link.message(), HasSubstr("is a symlink"));

  ASSERT_EQ(mkfifo(dir.Sub("fifo").c_str(), 0600), 0);
  EXPECT_THAT(ReadTrustedFile(dir.Sub("fifo"), 1024, NoHome()).status().message(),
              HasSubstr("not a regular file"));

  EXPECT_THAT(ReadTrustedFile(file, 1, NoHome()).status().message(),
              HasSubstr("larger than 1 bytes"));

  ASSERT_EQ(chmod(file.c_str(), 0666), 0);
  EXPECT_TRUE(absl::IsPermissionDenied(ReadTrustedFile(file, 1024, NoHome()).status()));
  ASSERT_EQ(chmod(file.c_str(), 0600), 0);

  ASSERT_EQ(chown(file.c_str(), kNobodyUid, kNobodyUid), 0);
  EXPECT_THAT(ReadTrustedFile(file, 1024, NoHome()).status().message(),
              HasSubstr("owned by uid 65534"));
  ASSERT_EQ(chown(file.c_str(), geteuid(), getegid()), 0);

  ASSERT_EQ(chmod(dir.path().c_str(), 0757), 0);
  EXPECT_THAT(ReadTrustedFile(file, 1024, NoHome()).status().message(),
              HasSubstr("bad permissions on " + dir.path()));
  ASSERT_EQ(chmod(dir.path().c_str(), 0700), 0);
  EXPECT_TRUE(ReadTrustedFile(file, 1024, NoHome()).ok());
}

}  // namespace
}  // namespace operator_auth
