#include "daemon/core/credentials_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/core/atomic_file.h"
#include "daemon/core/json_object_text.h"
#include "daemon/core/posix_error.h"
#include "daemon/core/secret_string.h"

namespace operator_auth {

CredentialsFile::CredentialsFile(std::string directory, std::string file_name,
                                 std::string lock_name)
    : directory_(std::move(directory)),
      file_name_(std::move(file_name)),
      path_(absl::StrCat(directory_, "/", file_name_)),
      lock_path_(absl::StrCat(directory_, "/", lock_name)) {}

absl::StatusOr<std::optional<std::string>> CredentialsFile::Read() const {
  int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    if (errno == ELOOP) {
      return absl::FailedPreconditionError(
          absl::StrCat(path_, " is a symlink; refusing to read credentials through it"));
    }
    return PosixError(errno, "open", path_);
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return PosixError(err, "stat", path_);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(path_, " is not a regular file"));
  }
  if (static_cast<size_t>(st.st_size) > kMaxCredentialsFileBytes) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        path_, " is ", st.st_size, " bytes, over the limit of ", kMaxCredentialsFileBytes));
  }
  if ((st.st_mode & 07777) != 0600 && st.st_uid == geteuid()) {
    fchmod(fd, 0600);  // another writer left it readable; tighten it, never loosen
  }
  std::string data;
  data.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (true) {
    if (got == data.size()) {
      if (data.size() > kMaxCredentialsFileBytes) break;
      // The file may have grown since fstat. Grow by hand: resize() would free the old buffer,
      // which holds credentials, without wiping it.
      // Geometric, so a file that keeps growing under us costs linear copying, not quadratic.
      std::string bigger(std::min(std::max(data.size() * 2, data.size() + 4096),
                                  kMaxCredentialsFileBytes + 1),
                         '\0');
      std::copy(data.begin(), data.end(), bigger.begin());
      CleanseString(data);
      data = std::move(bigger);
    }
    ssize_t n = read(fd, data.data() + got, data.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      CleanseString(data);
      return PosixError(err, "read", path_);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  if (got > kMaxCredentialsFileBytes) {
    CleanseString(data);
    return absl::FailedPreconditionError(
        absl::StrCat(path_, " is over the limit of ", kMaxCredentialsFileBytes, " bytes"));
  }
  data.resize(got);
  return data;
}

absl::StatusOr<FileLock> CredentialsFile::Lock(absl::Duration timeout) const {
  return FileLock::Acquire(lock_path_, timeout);
}

absl::Status CredentialsFile::Replace(const std::string& contents) const {
  return WriteFileAtomically(path_, contents);
}

absl::StatusOr<int> CredentialsFile::SweepStaleTempFiles() const {
  return operator_auth::SweepStaleTempFiles(path_);
}

}  // namespace operator_auth
