#include "daemon/core/json_object_text.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace operator_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::StatusCode CodeOf(const std::string& text) {
  return ParseJsonObjectText(text).status().code();
}

TEST(JsonObjectText, AcceptsAnObjectAndKeepsKeyOrder) {
  absl::StatusOr<nlohmann::ordered_json> root = ParseJsonObjectText(R"({"b": 1, "a": {"c": []}})");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->begin().key(), "b");
  EXPECT_EQ(PrintJsonText(*root), "{\n  \"b\": 1,\n  \"a\": {\n    \"c\": []\n  }\n}\n");
}

TEST(JsonObjectText, RefusesBadFilesWithoutQuotingThem) {
  EXPECT_EQ(CodeOf(""), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(" \n"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("[1, 2]"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("\"just a string\""), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("{\"a\": \"\xff\xfe\"}"), absl::StatusCode::kInvalidArgument) << "not UTF-8";
  absl::Status bom = ParseJsonObjectText("\xEF\xBB\xBF{}").status();
  EXPECT_THAT(bom.message(), HasSubstr("byte order mark"));
  absl::Status truncated = ParseJsonObjectText(R"({"key": "sk-truncated-secret)").status();
  EXPECT_THAT(truncated.message(), HasSubstr("byte"));
  EXPECT_THAT(truncated.message(), Not(HasSubstr("sk-truncated-secret")));
}

TEST(JsonObjectText, RefusesDeepNestingButAcceptsTheLimit) {
  auto nested = [](int depth) {
    return "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
  };
  EXPECT_TRUE(ParseJsonObjectText(nested(kMaxJsonDepth)).ok());
  absl::Status deep = ParseJsonObjectText(nested(100000)).status();
  EXPECT_EQ(deep.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(deep.message(), HasSubstr("nested deeper"));
}

}  // namespace
}  // namespace operator_auth
