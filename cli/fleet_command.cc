#include "cli/fleet_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli/exit_status.h"
#include "daemon/core/secret_string.h"
#include "daemon/fleet/fleet_key.h"

namespace operator_auth::cli {
namespace {

int Fail(const std::string& path, absl::string_view what, int error) {
  std::cerr << "operatorctl: fleet keygen: " << path << ": " << what << ": " << std::strerror(error)
            << "\n";
  return kExitFailure;
}

}  // namespace

int RunFleetKeygen(const std::string& path) {
  // O_EXCL with O_CREAT also refuses a symlink at PATH, dangling or not.
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    if (error == EEXIST) {
      std::cerr << "operatorctl: fleet keygen: " << path
                << " exists; a fleet key in use is never overwritten (every value sealed "
                   "under it would be lost). Remove it first if it is not in use.\n";
      return kExitFailure;
    }
    return Fail(path, "cannot create", error);
  }
  const FleetKey key = FleetKey::Generate();
  const SecretString text = key.Text();
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = write(fd, text.view().data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      close(fd);
      unlink(path.c_str());
      return Fail(path, "cannot write", error);
    }
    written += static_cast<size_t>(n);
  }
  int error = fsync(fd) == 0 ? 0 : errno;
  if (close(fd) != 0 && error == 0) error = errno;
  if (error != 0) {
    unlink(path.c_str());
    return Fail(path, "cannot write", error);
  }
  std::cout << "wrote a new fleet key to " << path << " (fingerprint " << key.Fingerprint()
            << ", mode 0600)\n"
            << "Copy it to every host of the fleet over a channel you trust, and name it as "
               "\"key_file\" in authd.json's \"fleet\".\n";
  return kExitOk;
}

}  // namespace operator_auth::cli
