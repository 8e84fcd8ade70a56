// Runs real child processes for tests: fork/exec with stdin from a string (or a socket the test
// writes to while the child runs) and stdout/stderr captured through files (no pipe deadlocks), a
// bounded wait, and a kill on timeout. Secrets go through stdin or the environment, never argv.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace operator_auth::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  int signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
};

struct ProcessOptions {
  std::string stdin_data;
  // Instead of stdin_data: stdin stays open for ChildProcess::WriteStdin() until CloseStdin().
  bool stdin_pipe = false;
  // Added to (or overriding) the parent's environment.
  std::map<std::string, std::string> env;
  // Removed from the child's environment.
  std::vector<std::string> unset_env;
  absl::Duration timeout = absl::Seconds(30);
};

// A started child whose output is collected when it is waited for.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const ProcessOptions& options);
  ~ChildProcess();  // kills and reaps a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits up to the timeout given at start (counted from now); kills the child past it.
  ProcessResult Wait();
  ProcessResult Wait(absl::Duration timeout);
  // The stdout collected so far (the child may still run).
  std::string PeekStdout() const;
  std::string PeekStderr() const;
  // With ProcessOptions::stdin_pipe: writes to the child's stdin (false once the child has closed
  // it or gone), and closes it (EOF for the child).
  bool WriteStdin(const std::string& data);
  void CloseStdin();

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::string dir_;
  absl::Duration timeout_;
  bool reaped_ = false;
};

ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

}  // namespace operator_auth::testing
