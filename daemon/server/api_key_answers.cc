#include "daemon/server/api_key_answers.h"

#include <cstdlib>
#include <new>
#include <utility>

#include <openssl/crypto.h>

#include "daemon/core/secret_string.h"
#include "daemon/server/key_conversion.h"
#include "operator_auth/v1/auth.pb.h"

namespace operator_auth {
namespace {

void WipeAndFree(void* bytes, size_t size) {
  OPENSSL_cleanse(bytes, size);
  std::free(bytes);
}

}  // namespace

ApiKeyAnswer SerializeApiKeyAnswer(const ResolvedKey& key) {
  v1::GetApiKeyResponse message;
  message.set_key(key.key.str());
  message.set_source(ToProto(key.source));
  message.set_label(key.label);
  message.set_expires_unix_ms(key.expires_unix_ms);
  message.set_provider(key.provider);
  message.set_account(key.account);
  ToProto(key.usage, *message.mutable_usage());
  const size_t size = message.ByteSizeLong();
  // At least one byte: malloc(0) may answer null.
  void* bytes = std::malloc(size == 0 ? 1 : size);
  if (bytes == nullptr) throw std::bad_alloc();
  message.SerializeWithCachedSizesToArray(static_cast<uint8_t*>(bytes));
  CleanseString(*message.mutable_key());
  return {grpc::Slice(bytes, size, &WipeAndFree), key.provider, key.account};
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
