#include "daemon/core/peer_identity.h"

#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <string>

#include <gtest/gtest.h>

namespace operator_auth {
namespace {

TEST(UnitFromCgroup, CgroupV2TakesTheServiceOrScope) {
  EXPECT_EQ(UnitFromCgroup("0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
                           "agent.service\n"),
            "agent.service");
  EXPECT_EQ(UnitFromCgroup("0::/user.slice/user-1000.slice/session-3.scope\n"), "session-3.scope");
}

TEST(UnitFromCgroup, NestedScopesAndSubgroupsGiveTheInnermostUnit) {
  EXPECT_EQ(UnitFromCgroup("0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
                           "app-bwrap-agent-1234.scope/sub/leaf\n"),
            "app-bwrap-agent-1234.scope");
  EXPECT_EQ(UnitFromCgroup("0::/system.slice/docker.service/run-r1.scope\n"), "run-r1.scope");
}

TEST(UnitFromCgroup, CgroupV1UsesSystemdsOwnHierarchy) {
  const char* text =
      "12:pids:/user.slice/user-1000.slice/other.service\n"
      "4:cpu,cpuacct:/user.slice\n"
      "1:name=systemd:/user.slice/user-1000.slice/user@1000.service/app.slice/tool.service\n"
      "0::/user.slice/user-1000.slice/user@1000.service/app.slice/unified.service\n";
  EXPECT_EQ(UnitFromCgroup(text), "tool.service");
}

TEST(UnitFromCgroup, NoUnitGivesEmpty) {
  EXPECT_EQ(UnitFromCgroup("0::/\n"), "");
  EXPECT_EQ(UnitFromCgroup("0::/user.slice/user-1000.slice\n"), "");
  EXPECT_EQ(UnitFromCgroup(""), "");
  EXPECT_EQ(UnitFromCgroup("garbage without fields\n"), "");
  // A path component that merely contains the suffix is not a unit.
  EXPECT_EQ(UnitFromCgroup("0::/x.service.d/y\n"), "");
}

TEST(UnitFromCgroup, APathWithColonsIsKeptWhole) {
  EXPECT_EQ(UnitFromCgroup("0::/machine.slice/libpod-a:b.scope\n"), "libpod-a:b.scope");
}

std::string SelfExe() {
  char buffer[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer));
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

TEST(ReadPeerIdentity, ReadsThePeerProcessOfASocket) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  PeerIdentityPtr identity = ReadPeerIdentity(fds[0]);
  close(fds[0]);
  close(fds[1]);
  ASSERT_NE(identity, nullptr);
  EXPECT_EQ(identity->pid, getpid());
  EXPECT_EQ(identity->uid, getuid());
  EXPECT_EQ(identity->gid, getgid());
  EXPECT_EQ(identity->exe, SelfExe());
  EXPECT_FALSE(identity->exe.empty());
}

TEST(ReadPeerIdentity, NotASocketIsUnknown) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  EXPECT_EQ(ReadPeerIdentity(fds[0]), nullptr);
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace operator_auth
