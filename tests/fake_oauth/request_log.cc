#include "tests/fake_oauth/request_log.h"

#include <utility>

namespace operator_auth::testing {

void RequestLog::Record(RecordedRequest request) {
  const std::string key = request.path;
  Record(key, std::move(request));
}

void RequestLog::Record(const std::string& key, RecordedRequest request) {
  absl::MutexLock lock(&mu_);
  ++request_counts_[key];
  std::deque<RecordedRequest>& recorded = requests_[key];
  if (recorded.size() == kMaxRecordedRequestsPerPath) recorded.pop_front();
  recorded.push_back(std::move(request));
}

void RequestLog::CountGrant(const std::string& grant_type) {
  absl::MutexLock lock(&mu_);
  ++grant_counts_[grant_type];
}

void RequestLog::CountInvalidGrant() {
  absl::MutexLock lock(&mu_);
  ++invalid_grants_;
}

void RequestLog::RecordRevocation(const std::string& token) {
  absl::MutexLock lock(&mu_);
  revoked_tokens_.push_back(token);
}

int RequestLog::RequestCount(const std::string& path) const {
  absl::MutexLock lock(&mu_);
  auto it = request_counts_.find(path);
  return it == request_counts_.end() ? 0 : it->second;
}

int RequestLog::GrantCount(const std::string& grant_type) const {
  absl::MutexLock lock(&mu_);
  auto it = grant_counts_.find(grant_type);
  return it == grant_counts_.end() ? 0 : it->second;
}

int RequestLog::InvalidGrantCount() const {
  absl::MutexLock lock(&mu_);
  return invalid_grants_;
}

std::vector<RecordedRequest> RequestLog::Requests(const std::string& path) const {
  absl::MutexLock lock(&mu_);
  auto it = requests_.find(path);
  if (it == requests_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::vector<std::string> RequestLog::RevokedTokens() const {
  absl::MutexLock lock(&mu_);
  return revoked_tokens_;
}

nlohmann::json RequestLog::Stats() const {
  absl::MutexLock lock(&mu_);
  return {
      {"requests", request_counts_},
      {"grants", grant_counts_},
      {"invalid_grants", invalid_grants_},
      {"revoked_tokens", revoked_tokens_},
  };
}

void RequestLog::Clear() {
  absl::MutexLock lock(&mu_);
  request_counts_.clear();
  grant_counts_.clear();
  requests_.clear();
  revoked_tokens_.clear();
  invalid_grants_ = 0;
}

}  // namespace operator_auth::testing
