#include "daemon/core/provider_registry.h"

#include "absl/strings/str_cat.h"
#include "common/provider_id.h"

namespace operator_auth {

const ProviderAliasMap& BuiltInAliases() {
  static const ProviderAliasMap* aliases = new ProviderAliasMap({
      {"antigravity", "google-antigravity"},
      {"claude", "anthropic-claude-code"},
      {"codex", "openai-codex"},
      {"copilot", "github-copilot"},
      {"gemini-cli", "google-gemini-cli"},
  });
  return *aliases;
}

const ProviderRegistry& ProviderRegistry::BuiltIn() {
  static const ProviderRegistry* registry = [] {
    absl::StatusOr<ProviderRegistry> built = Create(
        {
            {"anthropic-claude-code", "Anthropic (Claude Pro/Max)", ProviderKind::kOAuth},
            {"openai-codex", "OpenAI Codex (ChatGPT Plus/Pro)", ProviderKind::kOAuth},
            {"github-copilot", "GitHub Copilot", ProviderKind::kOAuth},
            {"google-antigravity", "Google Antigravity", ProviderKind::kOAuth},
            {"google-gemini-cli", "Google Gemini CLI", ProviderKind::kOAuth},
            {"openai", "OpenAI", ProviderKind::kApiKey},
            {"anthropic", "Anthropic", ProviderKind::kApiKey},
            {"google", "Google Gemini", ProviderKind::kApiKey},
            {"mistral", "Mistral", ProviderKind::kApiKey},
            {"groq", "Groq", ProviderKind::kApiKey},
            {"openrouter", "OpenRouter", ProviderKind::kApiKey},
            {"xai", "xAI", ProviderKind::kApiKey},
            {"deepseek", "DeepSeek", ProviderKind::kApiKey},
            {"perplexity", "Perplexity", ProviderKind::kApiKey},
            {"nvidia", "NVIDIA", ProviderKind::kApiKey},
        },
        {});
    return new ProviderRegistry(*std::move(built));
  }();
  return *registry;
}

absl::StatusOr<ProviderRegistry> ProviderRegistry::Create(std::vector<ProviderDescriptor> providers,
                                                          const ProviderAliasMap& extra_aliases) {
  ProviderRegistry registry(std::move(providers));
  auto add = [&registry](const std::string& alias, const std::string& target,
                         bool built_in) -> absl::Status {
    if (absl::Status s = ValidateProviderId(alias); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("alias \"", alias, "\": ", s.message()));
    }
    if (registry.Find(alias) != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("alias \"", alias, "\" shadows the provider of the same id"));
    }
    if (registry.Find(target) == nullptr) {
      // A built-in alias of a provider that authd.json disabled simply goes with it.
      if (built_in) return absl::OkStatus();
      return absl::InvalidArgumentError(absl::StrCat(
          "alias \"", alias, "\" names \"", target, "\", which is not a known provider"));
    }
    auto [it, inserted] = registry.aliases_.emplace(alias, target);
    if (!inserted && it->second != target) {
      return absl::InvalidArgumentError(absl::StrCat("alias \"", alias,
                                                     "\" shadows the alias of the same name for ",
                                                     it->second));
    }
    return absl::OkStatus();
  };
  for (const auto& [alias, target] : BuiltInAliases()) {
    if (absl::Status s = add(alias, target, true); !s.ok()) return s;
  }
  for (const auto& [alias, target] : extra_aliases) {
    if (absl::Status s = add(alias, target, false); !s.ok()) return s;
  }
  return registry;
}

ProviderRegistry::ProviderRegistry(std::vector<ProviderDescriptor> providers)
    : providers_(std::move(providers)) {}

const ProviderDescriptor* ProviderRegistry::Find(absl::string_view id) const {
  for (const ProviderDescriptor& p : providers_) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

std::string ProviderRegistry::Canonical(absl::string_view name) const {
  auto it = aliases_.find(name);
  return it == aliases_.end() ? std::string(name) : it->second;
}

std::vector<std::string> ProviderRegistry::AliasesOf(absl::string_view id) const {
  std::vector<std::string> out;
  for (const auto& [alias, target] : aliases_) {
    if (target == id) out.push_back(alias);
  }
  return out;
}

}  // namespace operator_auth
