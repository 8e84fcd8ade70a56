// The GetApiKey answers the daemon gave, kept serialized, so that the same request bytes in an
// unchanged key state (ProviderAuthManager::KeyState) are answered with the same bytes instead of
// being parsed, resolved, built and serialized again. That is every agent's hot path (#16): without
// it the handler's own work (resolution, the response's strings, serialization) was most of what
// GetApiKey cost beyond an empty call.
//
// Answers are kept for one key-state generation: the first Find or Keep at a newer generation
// drops every answer kept before. An answer holds a secret, so its bytes are wiped when the
// last reference to them (the cache, or a call still sending them) lets go.
// Thread-safe: one short lock per call.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/core/provider_auth_manager.h"

namespace operator_auth {

// One serialized GetApiKeyResponse, and the names the audit trail records for it.
struct ApiKeyAnswer {
  // Wiped when the last holder lets go: the cache, a call still sending them, a copy. Our own
  // shared_ptr rather than only a gRPC slice's reference count, so that ThreadSanitizer sees who
  // let go last (Debian's libgrpc is not instrumented).
  std::shared_ptr<const std::string> bytes;
  // The same bytes as gRPC sends them, without a copy: the slice holds a reference to `bytes`
  // until gRPC lets go. Made once, so a kept answer is sent with no allocation.
  grpc::Slice slice;
  std::string provider;  // the canonical id
  std::string account;   // empty for the default account
};

// The answer to a GetApiKey call that resolved `key`, serialized.
ApiKeyAnswer SerializeApiKeyAnswer(const ResolvedKey& key);

// An answer as kept, with the provider and account its request named: the client gate checks
// those again at every call, since its rules can change without the key state moving.
struct KeptApiKeyAnswer {
  ApiKeyAnswer answer;
  std::string asked_provider;
  std::string asked_account;
};

class ApiKeyAnswerCache {
 public:
  // More distinct requests than this in one generation (a client walking through ids) are
  // answered without being kept.
  static constexpr size_t kMaxAnswers = 256;
  // A request longer than this is never kept (a real one names an id and an account in well
  // under 200 bytes; padding with unknown fields must not make the cache large).
  static constexpr size_t kMaxRequestBytes = 512;

  // The answer kept for the serialized GetApiKeyRequest `request` at `generation`, while `now`
  // is before its reusable_until; nullopt otherwise.
  std::optional<KeptApiKeyAnswer> Find(absl::string_view request, uint64_t generation,
                                       absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // Keeps `answer` for `request` at `generation` until `reusable_until`. A generation older
  // than the newest seen is ignored: its answers may already be wrong.
  void Keep(absl::string_view request, uint64_t generation, absl::Time reusable_until,
            KeptApiKeyAnswer answer) ABSL_LOCKS_EXCLUDED(mu_);

  // Moves to `generation` when it is newer, dropping (and so wiping, unless a call is still
  // sending them) every answer kept before: called when the key state moves, so a replaced or
  // removed key does not wait for the next lookup to leave memory.
  void MoveTo(uint64_t generation) ABSL_LOCKS_EXCLUDED(mu_);

  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Kept {
    KeptApiKeyAnswer kept;
    absl::Time reusable_until;
  };
  // Moves to `generation` when it is newer, dropping what the older one kept; false when
  // `generation` is older than the current one.
  bool AtGeneration(uint64_t generation) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, Kept> answers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace operator_auth
