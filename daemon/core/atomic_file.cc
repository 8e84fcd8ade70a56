#include "daemon/core/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/core/failpoint.h"
#include "daemon/core/posix_error.h"

namespace operator_auth {
namespace {

struct SplitPath {
  std::string dir;
  std::string base;
};

SplitPath Split(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

std::string TempPrefix(const std::string& base) { return absl::StrCat(".", base, ".tmp-"); }

absl::Status FsyncDirectory(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return PosixError(errno, "open directory", dir);
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return PosixError(err, "fsync directory", dir);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AtomicFile> AtomicFile::Create(const std::string& target_path) {
  // A symlink or directory at the target would be replaced by rename; refuse it instead, so the
  // user learns their layout is not what they think.
  struct stat st {};
  if (lstat(target_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(target_path, " is not a regular file; refusing to replace it"));
  }
  SplitPath parts = Split(target_path);
  std::string temp = absl::StrCat(parts.dir, "/", TempPrefix(parts.base), "XXXXXX");
  int fd = mkostemp(temp.data(), O_CLOEXEC);  // mkostemp creates the file 0600
  if (fd < 0) return PosixError(errno, "create temp file in", parts.dir);
  if (fchmod(fd, 0600) != 0) {
    int err = errno;
    close(fd);
    unlink(temp.c_str());
    return PosixError(err, "chmod 0600", temp);
  }
  AUTHD_FAILPOINT("atomic_write.temp_created");
  return AtomicFile(target_path, std::move(temp), fd);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : target_path_(std::move(other.target_path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(std::exchange(other.fd_, -1)) {}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    close(fd_);
    unlink(temp_path_.c_str());
  }
}

absl::Status AtomicFile::Write(absl::string_view data) {
  if (fd_ < 0) return absl::FailedPreconditionError("atomic file already committed");
  AUTHD_FAILPOINT_AFTER("atomic_write.partial_write", [&] {
    [[maybe_unused]] ssize_t n = write(fd_, data.data(), data.size() / 2);
  });
  while (!data.empty()) {
    ssize_t n = write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError(errno, "write", temp_path_);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status AtomicFile::Commit() {
  if (fd_ < 0) return absl::FailedPreconditionError("atomic file already committed");
  AUTHD_FAILPOINT("atomic_write.written");
  if (fsync(fd_) != 0) return PosixError(errno, "fsync", temp_path_);
  AUTHD_FAILPOINT("atomic_write.synced");
  if (close(std::exchange(fd_, -1)) != 0) {
    int err = errno;
    unlink(temp_path_.c_str());
    return PosixError(err, "close", temp_path_);
  }
  if (rename(temp_path_.c_str(), target_path_.c_str()) != 0) {
    int err = errno;
    unlink(temp_path_.c_str());
    return PosixError(err, "rename over", target_path_);
  }
  AUTHD_FAILPOINT("atomic_write.renamed");
  absl::Status synced = FsyncDirectory(Split(target_path_).dir);
  AUTHD_FAILPOINT("atomic_write.dir_synced");
  return synced;
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) {
  absl::StatusOr<AtomicFile> file = AtomicFile::Create(path);
  if (!file.ok()) return file.status();
  if (absl::Status s = file->Write(contents); !s.ok()) return s;
  return file->Commit();
}

absl::StatusOr<int> SweepStaleTempFiles(const std::string& target_path) {
  SplitPath parts = Split(target_path);
  const std::string prefix = TempPrefix(parts.base);
  DIR* dir = opendir(parts.dir.c_str());
  if (dir == nullptr) return PosixError(errno, "open directory", parts.dir);
  std::vector<std::string> stale;
  while (dirent* entry = readdir(dir)) {
    if (absl::StartsWith(entry->d_name, prefix)) stale.emplace_back(entry->d_name);
  }
  closedir(dir);
  int removed = 0;
  for (const std::string& name : stale) {
    if (unlinkat(AT_FDCWD, absl::StrCat(parts.dir, "/", name).c_str(), 0) == 0) ++removed;
  }
  return removed;
}

}  // namespace operator_auth
