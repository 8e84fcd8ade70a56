#include "daemon/server/api_key_answers.h"

#include <utility>

#include "daemon/core/secret_string.h"
#include "daemon/server/key_conversion.h"
#include "operator_auth/v1/auth.pb.h"

namespace operator_auth {
ApiKeyAnswer SerializeApiKeyAnswer(const ResolvedKey& key) {
  v1::GetApiKeyResponse message;
  FillKeyFields(key, message);
  message.set_provider(key.provider);
  message.set_account(key.account);
  std::shared_ptr<std::string> bytes(new std::string(), [](std::string* text) {
    CleanseString(*text);
    delete text;
  });
  message.SerializeToString(bytes.get());
  CleanseString(*message.mutable_key());
  auto* held = new std::shared_ptr<const std::string>(bytes);
  grpc::Slice slice(
      const_cast<char*>(bytes->data()), bytes->size(),
      [](void* hold) { delete static_cast<std::shared_ptr<const std::string>*>(hold); }, held);
  return {std::move(bytes), std::move(slice), key.provider, key.account};
}

bool ApiKeyAnswerCache::AtGeneration(uint64_t generation) {
  if (generation < generation_) return false;
  if (generation > generation_) {
    answers_.clear();
    generation_ = generation;
  }
  return true;
}

std::optional<KeptApiKeyAnswer> ApiKeyAnswerCache::Find(absl::string_view request,
                                                        uint64_t generation, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (!AtGeneration(generation)) return std::nullopt;
  auto it = answers_.find(request);
  if (it == answers_.end()) return std::nullopt;
  if (now >= it->second.reusable_until) {
    answers_.erase(it);
    return std::nullopt;
  }
  return it->second.kept;
}

void ApiKeyAnswerCache::Keep(absl::string_view request, uint64_t generation,
                             absl::Time reusable_until, KeptApiKeyAnswer answer) {
  if (request.size() > kMaxRequestBytes) return;
  absl::MutexLock lock(&mu_);
  if (!AtGeneration(generation)) return;
  auto it = answers_.find(request);
  if (it != answers_.end()) {
    it->second = Kept{std::move(answer), reusable_until};
    return;
  }
  if (answers_.size() >= kMaxAnswers) return;
  answers_.emplace(std::string(request), Kept{std::move(answer), reusable_until});
}

void ApiKeyAnswerCache::MoveTo(uint64_t generation) {
  absl::MutexLock lock(&mu_);
  AtGeneration(generation);
}

size_t ApiKeyAnswerCache::size() const {
  absl::MutexLock lock(&mu_);
  return answers_.size();
}

}  // namespace operator_auth
