// Running test processes as another user: uid/gid 65534 ("nobody", also the overflow uid a user
// namespace maps unknown ids to), through setpriv. The suite runs as root (CI does) to do this.
// Used by every test that shows what a foreign uid can and cannot do.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::testing {

inline constexpr uid_t kNobodyUid = 65534;

// `argv` prefixed so that it runs as uid and gid 65534 with no supplementary groups.
std::vector<std::string> AsNobody(const std::vector<std::string>& argv);
// The same as another uid and gid, `uid` (with no passwd entry needed): for a daemon that must
// run as someone other than root, since it refuses the overflow uid 65534.
std::vector<std::string> AsUid(uid_t uid, const std::vector<std::string>& argv);

// A copy of `binary` in `dir` that uid 65534 can execute: the build tree may sit where it cannot
// reach.
std::string CopyForNobody(const std::string& binary, const TempDir& dir);

// `operatorctl` ARGS as uid 65534 against `socket_path`, which lies below `dir` (dir/run/...).
// Opens the way first (0711 on `dir` and `dir`/run, 0666 on the socket), so that only the
// daemon's own peer check stands between uid 65534 and the daemon.
ProcessResult RunOperatorctlAsNobody(const std::string& operatorctl, const TempDir& dir,
                                     const std::string& socket_path,
                                     const std::vector<std::string>& args);

}  // namespace operator_auth::testing
