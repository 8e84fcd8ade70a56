#include "daemon/core/provider_registry.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace operator_auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The built-in OAuth providers plus one API-key provider, as a configuration would list them.
std::vector<ProviderDescriptor> OAuthProviders() {
  return {
      {"anthropic-claude-code", "Anthropic (Claude Pro/Max)", ProviderKind::kOAuth},
      {"openai-codex", "OpenAI Codex", ProviderKind::kOAuth},
      {"github-copilot", "GitHub Copilot", ProviderKind::kOAuth},
      {"google-antigravity", "Google Antigravity", ProviderKind::kOAuth},
      {"google-gemini-cli", "Google Gemini CLI", ProviderKind::kOAuth},
      {"openai", "OpenAI", ProviderKind::kApiKey},
  };
}

// Every provider but `id`, as when authd.json disables it.
std::vector<ProviderDescriptor> OAuthProvidersWithout(const std::string& id) {
  std::vector<ProviderDescriptor> out;
  for (ProviderDescriptor& p : OAuthProviders()) {
    if (p.id != id) out.push_back(std::move(p));
  }
  return out;
}

TEST(ProviderRegistry, BuiltInAliasesResolveToTheirProviders) {
  const ProviderRegistry& registry = ProviderRegistry::BuiltIn();
  EXPECT_EQ(registry.Canonical("claude"), "anthropic-claude-code");
  EXPECT_EQ(registry.Canonical("codex"), "openai-codex");
  EXPECT_EQ(registry.Canonical("copilot"), "github-copilot");
  EXPECT_EQ(registry.Canonical("gemini-cli"), "google-gemini-cli");
  EXPECT_EQ(registry.Canonical("antigravity"), "google-antigravity");
  // Every target is a registered provider, and an alias is never one itself.
  for (const auto& [alias, target] : registry.aliases()) {
    EXPECT_NE(registry.Find(target), nullptr) << alias;
    EXPECT_EQ(registry.Find(alias), nullptr) << alias;
  }
  EXPECT_EQ(registry.aliases(), BuiltInAliases());
}

TEST(ProviderRegistry, ANameThatIsNoAliasIsReturnedUnchanged) {
  const ProviderRegistry& registry = ProviderRegistry::BuiltIn();
  EXPECT_EQ(registry.Canonical("openai-codex"), "openai-codex");
  EXPECT_EQ(registry.Canonical("my-custom-llm"), "my-custom-llm");
  EXPECT_EQ(registry.Canonical("Claude"), "Claude");  // aliases are case-sensitive, like ids
  EXPECT_EQ(registry.Canonical(""), "");
}

TEST(ProviderRegistry, AliasesOfListsEveryAliasOfAProviderSorted) {
  absl::StatusOr<ProviderRegistry> registry = ProviderRegistry::Create(
      OAuthProviders(),
      {{"work-claude", "anthropic-claude-code"}, {"cc", "anthropic-claude-code"}});
  ASSERT_TRUE(registry.ok()) << registry.status();
  EXPECT_THAT(registry->AliasesOf("anthropic-claude-code"),
              ElementsAre("cc", "claude", "work-claude"));
  EXPECT_THAT(registry->AliasesOf("openai-codex"), ElementsAre("codex"));
  EXPECT_THAT(registry->AliasesOf("openai"), IsEmpty());
  EXPECT_THAT(registry->AliasesOf("claude"), IsEmpty());  // an alias has no aliases
  EXPECT_EQ(registry->Canonical("work-claude"), "anthropic-claude-code");
}

TEST(ProviderRegistry, AnAliasThatShadowsAProviderIsRefused) {
  absl::StatusOr<ProviderRegistry> registry =
      ProviderRegistry::Create(OAuthProviders(), {{"openai", "openai-codex"}});
  ASSERT_FALSE(registry.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(registry.status())) << registry.status();
  EXPECT_THAT(std::string(registry.status().message()), HasSubstr("\"openai\""));
}

TEST(ProviderRegistry, AnAliasThatShadowsAnotherAliasWithAnotherTargetIsRefused) {
  absl::StatusOr<ProviderRegistry> registry =
      ProviderRegistry::Create(OAuthProviders(), {{"claude", "openai-codex"}});
  ASSERT_FALSE(registry.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(registry.status())) << registry.status();
  EXPECT_THAT(std::string(registry.status().message()), HasSubstr("\"claude\""));
}

TEST(ProviderRegistry, RepeatingABuiltInAliasWithTheSameTargetIsAccepted) {
  absl::StatusOr<ProviderRegistry> registry =
      ProviderRegistry::Create(OAuthProviders(), {{"claude", "anthropic-claude-code"}});
  ASSERT_TRUE(registry.ok()) << registry.status();
  EXPECT_EQ(registry->Canonical("claude"), "anthropic-claude-code");
  EXPECT_THAT(registry->AliasesOf("anthropic-claude-code"), ElementsAre("claude"));
}

TEST(ProviderRegistry, AnAliasOfAnUnknownProviderIsRefused) {
  for (const char* target : {"no-such-provider", "claude"}) {  // an alias of an alias, too
    absl::StatusOr<ProviderRegistry> registry =
        ProviderRegistry::Create(OAuthProviders(), {{"mine", target}});
    ASSERT_FALSE(registry.ok()) << target;
    EXPECT_TRUE(absl::IsInvalidArgument(registry.status())) << registry.status();
    EXPECT_THAT(std::string(registry.status().message()), HasSubstr("\"mine\""));
    EXPECT_THAT(std::string(registry.status().message()), HasSubstr(target));
  }
}

TEST(ProviderRegistry, AnAliasThatIsNoValidProviderIdIsRefused) {
  for (const char* alias : {"Claude", "-claude", "my claude", "", "a/b"}) {
    absl::StatusOr<ProviderRegistry> registry =
        ProviderRegistry::Create(OAuthProviders(), {{alias, "anthropic-claude-code"}});
    ASSERT_FALSE(registry.ok()) << alias;
    EXPECT_TRUE(absl::IsInvalidArgument(registry.status())) << registry.status();
    EXPECT_THAT(std::string(registry.status().message()),
                HasSubstr("alias \"" + std::string(alias) + "\""));
  }
}

TEST(ProviderRegistry, ABuiltInAliasOfADisabledProviderIsDroppedSilently) {
  absl::StatusOr<ProviderRegistry> registry =
      ProviderRegistry::Create(OAuthProvidersWithout("google-antigravity"), {});
  ASSERT_TRUE(registry.ok()) << registry.status();
  EXPECT_EQ(registry->aliases().count("antigravity"), 0u);
  EXPECT_EQ(registry->Canonical("antigravity"), "antigravity");
  EXPECT_EQ(registry->Canonical("gemini-cli"), "google-gemini-cli");  // the others stay
  EXPECT_EQ(registry->aliases().size(), BuiltInAliases().size() - 1);
}

TEST(ProviderRegistry, TheNameOfADroppedBuiltInAliasMayBeGivenToAnotherProvider) {
  absl::StatusOr<ProviderRegistry> registry = ProviderRegistry::Create(
      OAuthProvidersWithout("anthropic-claude-code"), {{"claude", "openai-codex"}});
  ASSERT_TRUE(registry.ok()) << registry.status();
  EXPECT_EQ(registry->Canonical("claude"), "openai-codex");
  EXPECT_THAT(registry->AliasesOf("openai-codex"), ElementsAre("claude", "codex"));
}

TEST(ProviderRegistry, WithoutAliasesNothingIsResolved) {
  ProviderRegistry registry(OAuthProviders());
  EXPECT_EQ(registry.Canonical("claude"), "claude");
  EXPECT_THAT(registry.aliases(), IsEmpty());
  ASSERT_NE(registry.Find("openai-codex"), nullptr);
  EXPECT_EQ(registry.Find("openai-codex")->kind, ProviderKind::kOAuth);
  EXPECT_EQ(registry.Find("codex"), nullptr);
}

}  // namespace
}  // namespace operator_auth
