#include "daemon/core/file_change_watch.h"

#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace operator_auth {
namespace {

constexpr uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM |
                                IN_CREATE | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

}  // namespace

bool FileChangeWatch::Signature::operator==(const Signature& o) const {
  return exists == o.exists && dev == o.dev && ino == o.ino && size == o.size &&
         mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec &&
         ctime.tv_sec == o.ctime.tv_sec && ctime.tv_nsec == o.ctime.tv_nsec;
}

FileChangeWatch::FileChangeWatch(std::string directory, std::string file_name)
    : directory_(std::move(directory)),
      file_name_(std::move(file_name)),
      path_(directory_ + "/" + file_name_) {
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ >= 0) AddWatch();
}

FileChangeWatch::~FileChangeWatch() {
  if (inotify_fd_ >= 0) close(inotify_fd_);
}

void FileChangeWatch::AddWatch() {
  watch_descriptor_ = inotify_add_watch(inotify_fd_, directory_.c_str(), kWatchMask);
}

FileChangeWatch::Signature FileChangeWatch::Stat() const {
  Signature s;
  struct stat st {};
  if (stat(path_.c_str(), &st) != 0) return s;
  s.exists = true;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime = st.st_mtim;
  s.ctime = st.st_ctim;
  return s;
}

bool FileChangeWatch::DrainInotify() {
  // Nearly every call finds nothing pending. FIONREAD (inotify(7): the bytes available to read)
  // says so without read(2)'s file-position lock and wait-queue round trip: about half the cost
  // of this check, which every GetApiKey pays (#16). An event queued by a write that finished
  // before the call is counted all the same.
  int pending = 0;
  if (ioctl(inotify_fd_, FIONREAD, &pending) == 0 && pending == 0) return false;
  bool changed = false;
  alignas(inotify_event) char buf[8192];
  while (true) {
    ssize_t n = read(inotify_fd_, buf, sizeof(buf));
    if (n <= 0) break;  // EAGAIN: nothing pending
    for (char* p = buf; p < buf + n;) {
      auto* event = reinterpret_cast<inotify_event*>(p);
      if ((event->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
        changed = true;
        if ((event->mask & IN_IGNORED) != 0) watch_descriptor_ = -1;
        if ((event->mask & IN_MOVE_SELF) != 0 && watch_descriptor_ >= 0) {
          // The directory moved away: watch whatever now stands at the path.
          inotify_rm_watch(inotify_fd_, watch_descriptor_);
          watch_descriptor_ = -1;
        }
      } else if (event->len > 0 && file_name_ == event->name) {
        changed = true;
      }
      p += sizeof(inotify_event) + event->len;
    }
  }
  return changed;
}

bool FileChangeWatch::Changed() {
  if (inotify_fd_ < 0) {
    Signature now = Stat();
    bool changed = first_ || !(now == last_);
    last_ = now;
    first_ = false;
    return changed;
  }
  bool changed = DrainInotify() || first_;
  if (watch_descriptor_ < 0) {
    // The directory was removed or replaced: watch the new one, and re-read every time until
    // the watch holds again.
    AddWatch();
    changed = true;
  }
  first_ = false;
  return changed;
}

void FileChangeWatch::Discard() {
  if (inotify_fd_ < 0) {
    last_ = Stat();
    first_ = false;
    return;
  }
  DrainInotify();
}

}  // namespace operator_auth
