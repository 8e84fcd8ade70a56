#include "daemon/core/peer_identity.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace operator_auth {
namespace {

// /proc/PID/cgroup is a line per hierarchy; a few hundred bytes in practice.
constexpr size_t kMaxCgroupBytes = 64 * 1024;
constexpr absl::string_view kDeletedSuffix = " (deleted)";

bool IsUnitName(absl::string_view component) {
  return absl::EndsWith(component, ".service") || absl::EndsWith(component, ".scope");
}

// The last component of a cgroup path that names a unit or scope.
absl::string_view UnitOfPath(absl::string_view path) {
  absl::string_view unit;
  for (absl::string_view component : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (IsUnitName(component)) unit = component;
  }
  return unit;
}

std::string ReadExe(pid_t pid) {
  char target[PATH_MAX];
  const std::string link = absl::StrCat("/proc/", pid, "/exe");
  const ssize_t n = readlink(link.c_str(), target, sizeof(target));
  if (n <= 0 || static_cast<size_t>(n) >= sizeof(target)) return std::string();
  absl::string_view exe(target, static_cast<size_t>(n));
  absl::ConsumeSuffix(&exe, kDeletedSuffix);
  return std::string(exe);
}

std::string ReadCgroupUnit(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/cgroup");
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::string();
  std::string text;
  char buffer[4096];
  while (text.size() < kMaxCgroupBytes) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return std::string(UnitFromCgroup(text));
}

}  // namespace

absl::string_view UnitFromCgroup(absl::string_view text) {
  absl::string_view unified;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    // "hierarchy-id:controller-list:path"; the path itself may hold ':'.
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (fields.size() != 3) continue;
    if (fields[1] == "name=systemd") return UnitOfPath(fields[2]);  // systemd's own v1 tree
    if (fields[0] == "0" && fields[1].empty()) unified = UnitOfPath(fields[2]);
  }
  return unified;
}

PeerIdentityPtr ReadPeerIdentity(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred) ||
      cred.pid <= 0) {
    return nullptr;
  }
  auto identity = std::make_shared<PeerIdentity>();
  identity->pid = cred.pid;
  identity->uid = cred.uid;
  identity->gid = cred.gid;
  identity->exe = ReadExe(cred.pid);
  identity->unit = ReadCgroupUnit(cred.pid);
  return identity;
}

}  // namespace operator_auth
