// The providers the daemon knows: ids, display names, whether they authenticate with an API key
// or OAuth, and their aliases (other names callers may use: `claude` for anthropic-claude-code).
// Any other valid id may still hold an API key (a custom provider). An alias is only ever a name
// callers use: answers carry the canonical id and providers.json never holds an alias as a key.
// Immutable after construction; thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace operator_auth {

enum class ProviderKind { kApiKey, kOAuth };

struct ProviderDescriptor {
  std::string id;
  std::string display_name;
  ProviderKind kind;
};

// alias -> canonical provider id.
using ProviderAliasMap = std::map<std::string, std::string, std::less<>>;

// claude -> anthropic-claude-code, codex -> openai-codex, copilot -> github-copilot,
// gemini-cli -> google-gemini-cli, antigravity -> google-antigravity.
const ProviderAliasMap& BuiltInAliases();

class ProviderRegistry {
 public:
  // The registry of built-in providers, with the built-in aliases.
  static const ProviderRegistry& BuiltIn();

  // `providers` with the built-in aliases and `extra_aliases`. INVALID_ARGUMENT naming the alias
  // when one is not a valid provider id, names a provider that is not in `providers`, or
  // shadows a provider id or another alias (an extra alias that repeats a built-in one with the
  // same target is fine).
  static absl::StatusOr<ProviderRegistry> Create(std::vector<ProviderDescriptor> providers,
                                                 const ProviderAliasMap& extra_aliases);

  // Without aliases.
  explicit ProviderRegistry(std::vector<ProviderDescriptor> providers);

  // nullptr when `id` is not registered. Aliases are not looked up here: see Canonical.
  const ProviderDescriptor* Find(absl::string_view id) const;
  // The provider `name` stands for: the target of an alias, else `name` itself.
  std::string Canonical(absl::string_view name) const;
  // Registration order: OAuth providers first, then API-key providers.
  const std::vector<ProviderDescriptor>& providers() const { return providers_; }
  const ProviderAliasMap& aliases() const { return aliases_; }
  // The aliases of `id`, sorted.
  std::vector<std::string> AliasesOf(absl::string_view id) const;

 private:
  std::vector<ProviderDescriptor> providers_;
  ProviderAliasMap aliases_;
};

}  // namespace operator_auth
