// What the fake OAuth server saw and how it answered: every request by path, /token requests by
// grant type, refresh-token rejections and revoked tokens, for tests to assert on. Thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace operator_auth::testing {

struct RecordedRequest {
  std::string method;
  std::string path;
  std::string content_type;  // as sent, parameters included
  // Form or JSON body fields, or the query string of a GET; JSON values other than strings are
  // stringified (dumped).
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> headers;  // lower-case names
  // The body of an application/json request as parsed (nested objects intact); null for other
  // requests and for JSON that does not parse.
  nlohmann::json json_body;
};

class RequestLog {
 public:
  // Bounds memory in long manual runs: beyond this, the oldest request of a path is dropped
  // (its count stays).
  static constexpr size_t kMaxRecordedRequestsPerPath = 4096;

  // Counts and keeps the request under its path.
  void Record(RecordedRequest request);
  // Counts and keeps the request under `key`, e.g. a path pattern "/models/*/policy" for a path
  // with a variable part.
  void Record(const std::string& key, RecordedRequest request);
  void CountGrant(const std::string& grant_type);
  void CountInvalidGrant();
  void RecordRevocation(const std::string& token);

  int RequestCount(const std::string& path) const;
  int GrantCount(const std::string& grant_type) const;
  int InvalidGrantCount() const;
  std::vector<RecordedRequest> Requests(const std::string& path) const;
  std::vector<std::string> RevokedTokens() const;
  // All counters as one JSON object (the /_stats endpoint).
  nlohmann::json Stats() const;

  void Clear();

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, int> request_counts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> grant_counts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::deque<RecordedRequest>> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> revoked_tokens_ ABSL_GUARDED_BY(mu_);
  int invalid_grants_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace operator_auth::testing
