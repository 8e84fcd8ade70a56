// The built-in providers: ids, display names and whether they authenticate with an API key or
// OAuth. Any other valid id may still hold an API key (a custom provider). Immutable after
// construction; thread-safe.
#pragma once

#include <string>
#include <vector>
#include "absl/strings/string_view.h"

namespace operator_auth {

enum class ProviderKind { kApiKey, kOAuth };

struct ProviderDescriptor {
  std::string id;
  std::string display_name;
  ProviderKind kind;
};

class ProviderRegistry {
 public:
  // The registry of built-in providers.
  static const ProviderRegistry& BuiltIn();

  explicit ProviderRegistry(std::vector<ProviderDescriptor> providers);

  // nullptr when `id` is not registered.
  const ProviderDescriptor* Find(absl::string_view id) const;
  // Registration order: OAuth providers first, then API-key providers.
  const std::vector<ProviderDescriptor>& providers() const { return providers_; }

 private:
  std::vector<ProviderDescriptor> providers_;
};

}  // namespace operator_auth
