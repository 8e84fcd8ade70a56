#include "tests/support/run_as_nobody.h"

#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>

namespace operator_auth::testing {

std::vector<std::string> AsNobody(const std::vector<std::string>& argv) {
  return AsUid(kNobodyUid, argv);
}

std::vector<std::string> AsUid(uid_t uid, const std::vector<std::string>& argv) {
  std::vector<std::string> out = {"/usr/bin/setpriv", "--reuid=" + std::to_string(uid),
                                  "--regid=" + std::to_string(uid), "--clear-groups"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::string CopyForNobody(const std::string& binary, const TempDir& dir) {
  const std::string copy = dir.Sub(std::filesystem::path(binary).filename().string());
  std::filesystem::copy_file(binary, copy, std::filesystem::copy_options::overwrite_existing);
  if (chmod(copy.c_str(), 0755) != 0) throw std::runtime_error("chmod " + copy + " failed");
  return copy;
}

ProcessResult RunOperatorctlAsNobody(const std::string& operatorctl, const TempDir& dir,
                                     const std::string& socket_path,
                                     const std::vector<std::string>& args) {
  for (const std::string& path : {dir.path(), dir.Sub("run")}) {
    if (chmod(path.c_str(), 0711) != 0) throw std::runtime_error("chmod " + path + " failed");
  }
  if (chmod(socket_path.c_str(), 0666) != 0) {
    throw std::runtime_error("chmod " + socket_path + " failed");
  }
  std::vector<std::string> argv = {CopyForNobody(operatorctl, dir), "--socket", socket_path};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(AsNobody(argv));
}

}  // namespace operator_auth::testing
