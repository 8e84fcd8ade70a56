#include "daemon/core/thread_start.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include <gtest/gtest.h>

namespace operator_auth {
namespace {

TEST(StartThread, RunsTheBody) {
  std::atomic<bool> ran{false};
  absl::StatusOr<std::thread> thread = StartThread("a test thread", [&ran] { ran = true; });
  ASSERT_TRUE(thread.ok()) << thread.status();
  thread->join();
  EXPECT_TRUE(ran);
}

// In a child that may have no more threads (RLIMIT_NPROC 0 as an unprivileged uid), the refusal
// is a status naming the thread, not an exception that terminates the process.
TEST(StartThread, AThreadLimitIsAStatusNotACrash) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch to uid 65534";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    rlimit none{0, 0};
    if (setrlimit(RLIMIT_NPROC, &none) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
    absl::StatusOr<std::thread> thread = StartThread("the login thread", [] {});
    if (thread.ok()) {
      thread->join();
      _exit(4);
    }
    const bool named =
        absl::IsResourceExhausted(thread.status()) &&
        thread.status().message().find("the login thread") != absl::string_view::npos;
    _exit(named ? 0 : 5);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3: set-up failed, 4: the thread started, 5: wrong status";
}

}  // namespace
}  // namespace operator_auth
