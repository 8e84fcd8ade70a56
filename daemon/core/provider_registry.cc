#include "daemon/core/provider_registry.h"

namespace operator_auth {

const ProviderRegistry& ProviderRegistry::BuiltIn() {
  static const ProviderRegistry* registry = new ProviderRegistry({
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
  });
  return *registry;
}

ProviderRegistry::ProviderRegistry(std::vector<ProviderDescriptor> providers)
    : providers_(std::move(providers)) {}

const ProviderDescriptor* ProviderRegistry::Find(absl::string_view id) const {
  for (const ProviderDescriptor& p : providers_) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

}  // namespace operator_auth
