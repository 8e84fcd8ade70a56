// A private temporary directory for one test, removed with everything in it at the end.
#pragma once

#include <string>

namespace operator_auth::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Whole-file helpers for tests.
std::string ReadFileOrDie(const std::string& path);
void WriteFileOrDie(const std::string& path, const std::string& contents);
bool PathExists(const std::string& path);
int FileMode(const std::string& path);  // st_mode & 07777, or -1

}  // namespace operator_auth::testing
