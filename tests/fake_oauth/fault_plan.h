// Per-path fault injection for the fake OAuth server: which failure the next request to a path
// gets, for every request or for the next n. Thread-safe.
#pragma once

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace operator_auth::testing {

enum class Fault {
  kNone,
  kDelay,         // sleeps delay_ms, then answers normally
  kServerError,   // 500 {"error":"server_error"}
  kGarbage,       // 200 text/html "<html>not json"
  kInvalidGrant,  // 400 {"error":"invalid_grant"}
  kUnauthorized,  // 401 {"error":"invalid_client"}
  // 400 invalid_grant whose error_description carries terminal escapes, CR/LF and a forged log
  // line (kHostileDescription): what a hostile or broken endpoint might send.
  kHostileText,
};

inline constexpr char kHostileDescription[] =
    "\x1b[2J\x1b[31mrefresh refused\r\n[2026-01-01 00:00:00.000] [info] all good\x07\x1b]0;title\x07";

struct FaultSpec {
  Fault fault = Fault::kNone;
  int delay_ms = 0;  // kDelay only
  int count = -1;    // -1: every request; n > 0: the next n requests, then kNone again
};

class FaultPlan {
 public:
  // Replaces the fault for `path`; kNone or a count of 0 clears it.
  void Set(const std::string& path, const FaultSpec& spec);
  // The fault the request now arriving at `path` gets; uses up one of a counted fault.
  FaultSpec Take(const std::string& path);

 private:
  absl::Mutex mu_;
  std::map<std::string, FaultSpec> faults_ ABSL_GUARDED_BY(mu_);
};

}  // namespace operator_auth::testing
