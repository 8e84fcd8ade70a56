#include "daemon/core/api_key_rules.h"

#include <string>

#include <gtest/gtest.h>

namespace operator_auth {
namespace {

TEST(ApiKeyRules, AcceptsOrdinaryKeys) {
  EXPECT_TRUE(ValidateApiKey("sk-proj-abc123_DEF.456").ok());
  EXPECT_TRUE(ValidateApiKey(std::string(kMaxApiKeyBytes, 'k')).ok());
  EXPECT_TRUE(ValidateApiKey("cl\xC3\xA9-unicode").ok());
}

TEST(ApiKeyRules, RejectsEachRuleWithoutEchoingTheKey) {
  struct Case {
    std::string key;
    const char* rule;
  };
  const Case cases[] = {
      {"", "empty"},
      {std::string(kMaxApiKeyBytes + 1, 'k'), "longer than 8192"},
      {"sk-secret-value\n", "control character"},
      {"sk-secret\tvalue", "control character"},
      {std::string("sk-secret\0value", 15), "control character"},
      {"sk-secret\x7fvalue", "control character"},
      {"sk-secret\xC2\x85value", "control character"},
      {"sk-secret\xFFvalue", "not valid UTF-8"},
      {"sk-secret\xC3", "not valid UTF-8"},
      {"sk-secret\xED\xA0\x80", "not valid UTF-8"},
  };
  for (const Case& c : cases) {
    absl::Status s = ValidateApiKey(c.key);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << c.rule;
    EXPECT_NE(s.message().find(c.rule), absl::string_view::npos) << s.message();
    EXPECT_EQ(s.message().find("secret"), absl::string_view::npos) << s.message();
  }
}

}  // namespace
}  // namespace operator_auth
