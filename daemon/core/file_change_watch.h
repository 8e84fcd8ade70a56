// Tells whether a file may have changed since the last check, so the daemon notices writes by
// other processes before serving the next request. Uses inotify on the file's directory (events
// are queued inside the writer's syscall, so a write that has returned is always seen); when
// inotify is unavailable it falls back to comparing stat(2) signatures. Not thread-safe: the owner
// serializes calls.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <string>

namespace operator_auth {

class FileChangeWatch {
 public:
  FileChangeWatch(std::string directory, std::string file_name);
  ~FileChangeWatch();
  FileChangeWatch(const FileChangeWatch&) = delete;
  FileChangeWatch& operator=(const FileChangeWatch&) = delete;

  // True when the file may have changed since the previous call (or this is the first call).
  bool Changed();

  // Forgets pending events, e.g. the ones our own write just caused; the caller has re-read the
  // file under its lock since.
  void Discard();

  bool using_inotify() const { return inotify_fd_ >= 0; }
  // The inotify descriptor, readable while a change is pending (for poll(2); Changed() drains
  // it), or -1 when watching with stat(2).
  int pollable_fd() const { return inotify_fd_; }

 private:
  struct Signature {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};
    timespec ctime{};
    bool operator==(const Signature& o) const;
  };

  bool DrainInotify();  // true when an event concerned our file (or the watch was lost)
  void AddWatch();
  Signature Stat() const;

  std::string directory_;
  std::string file_name_;
  std::string path_;
  int inotify_fd_ = -1;
  int watch_descriptor_ = -1;
  bool first_ = true;
  Signature last_;
};

}  // namespace operator_auth
