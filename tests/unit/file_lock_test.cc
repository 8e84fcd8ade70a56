#include "daemon/core/file_lock.h"

#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace operator_auth {
namespace {

using testing::FileMode;
using testing::TempDir;

// Forks a child that flocks `path` and holds it until killed. Returns its pid once it holds it.
pid_t HoldLockInChild(const std::string& path) {
  int ready[2];
  EXPECT_EQ(pipe(ready), 0);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(path.c_str(), O_RDWR | O_CREAT, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) _exit(1);
    char c = 'x';
    if (write(ready[1], &c, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char c = 0;
  EXPECT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  return pid;
}

void KillAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

TEST(FileLock, CreatesLockFile0600AndReleasesOnDestruction) {
  TempDir dir;
  const std::string path = dir.Sub("providers.lock");
  {
    absl::StatusOr<FileLock> lock = FileLock::TryAcquire(path);
    ASSERT_TRUE(lock.ok()) << lock.status();
    EXPECT_EQ(FileMode(path), 0600);
    EXPECT_TRUE(absl::IsUnavailable(FileLock::TryAcquire(path).status()));
  }
  EXPECT_TRUE(FileLock::TryAcquire(path).ok());
}

TEST(FileLock, ExcludesAnotherProcessAndWaitsForIt) {
  TempDir dir;
  const std::string path = dir.Sub("providers.lock");
  pid_t holder = HoldLockInChild(path);
  absl::StatusOr<FileLock> busy = FileLock::Acquire(path, absl::Milliseconds(100));
  EXPECT_TRUE(absl::IsUnavailable(busy.status()));
  EXPECT_NE(busy.status().message().find("another process holds the lock"),
            absl::string_view::npos);
  KillAndReap(holder);
  EXPECT_TRUE(FileLock::Acquire(path, absl::Seconds(5)).ok());
}

TEST(FileLock, RelocksWhenTheLockFileWasReplacedWhileWaiting) {
  // Some py-filelock versions unlink the lock file on release. A waiter that locked the old
  // inode must not believe it holds the lock that the path now names.
  TempDir dir;
  const std::string path = dir.Sub("providers.lock");
  pid_t holder = HoldLockInChild(path);
  ASSERT_EQ(unlink(path.c_str()), 0);        // the holder's inode is now orphaned
  pid_t new_holder = HoldLockInChild(path);  // someone locks the new file at the path
  KillAndReap(holder);
  // The orphaned inode is free now, but the path's lock is still held: we must not get it.
  EXPECT_TRUE(absl::IsUnavailable(FileLock::Acquire(path, absl::Milliseconds(200)).status()));
  KillAndReap(new_holder);
  EXPECT_TRUE(FileLock::Acquire(path, absl::Seconds(5)).ok());
}

}  // namespace
}  // namespace operator_auth
