#include "common/provider_id.h"

#include <string>

#include <gtest/gtest.h>

namespace operator_auth {
namespace {

TEST(ProviderId, AcceptsRegistryAndCustomIds) {
  for (const char* id : {"openai", "openai-codex", "a", "0", "x.y_z-1", "google-gemini-cli"}) {
    EXPECT_TRUE(ValidateProviderId(id).ok()) << id;
  }
  EXPECT_TRUE(ValidateProviderId(std::string(64, 'a')).ok());
}

TEST(ProviderId, RejectsEachRuleWithItsOwnMessage) {
  EXPECT_NE(ValidateProviderId("").message().find("empty"), absl::string_view::npos);
  EXPECT_NE(ValidateProviderId(std::string(65, 'a')).message().find("longer than 64"),
            absl::string_view::npos);
  EXPECT_NE(ValidateProviderId("-openai").message().find("must start"), absl::string_view::npos);
  EXPECT_NE(ValidateProviderId("OpenAI").message().find("must start"), absl::string_view::npos);
  EXPECT_NE(ValidateProviderId("open ai").message().find("may contain only"),
            absl::string_view::npos);
  EXPECT_NE(ValidateProviderId("open/ai").message().find("may contain only"),
            absl::string_view::npos);
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateProviderId("a\nb")));
}

TEST(ProviderId, EnvVarNameUppercasesAndMapsPunctuation) {
  EXPECT_EQ(ApiKeyEnvVarName("openai"), "OPENAI_API_KEY");
  EXPECT_EQ(ApiKeyEnvVarName("openai-codex"), "OPENAI_CODEX_API_KEY");
  EXPECT_EQ(ApiKeyEnvVarName("my.provider_2"), "MY_PROVIDER_2_API_KEY");
}

}  // namespace
}  // namespace operator_auth
