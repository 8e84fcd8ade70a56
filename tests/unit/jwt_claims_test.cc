#include "daemon/oauth/jwt_claims.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/oauth/pkce.h"

namespace operator_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kHeader = Base64UrlEncode(R"({"alg":"RS256","typ":"JWT","kid":"key-1"})");

std::string Token(absl::string_view payload_json, absl::string_view signature = "c2lnbmF0dXJl") {
  return absl::StrCat(kHeader, ".", Base64UrlEncode(payload_json), ".", signature);
}

// The status is INVALID_ARGUMENT and its message quotes no segment of `token`.
void ExpectRejectedWithoutEcho(const std::string& token) {
  absl::StatusOr<nlohmann::json> claims = DecodeJwtClaims(token);
  ASSERT_TRUE(absl::IsInvalidArgument(claims.status())) << claims.status();
  const std::string message(claims.status().message());
  for (absl::string_view segment : absl::StrSplit(token, '.')) {
    if (segment.size() >= 4) {
      EXPECT_THAT(message, Not(HasSubstr(std::string(segment))));
    }
  }
  EXPECT_THAT(message, Not(HasSubstr("SECRET")));
}

TEST(JwtClaims, ReadsOpenAiAccountIdAndExpiryFromPayload) {
  const std::string token = Token(R"({
    "exp": 1767225600,
    "email": "dev@example.com",
    "https://api.openai.com/auth": {"chatgpt_account_id": "acct-1", "chatgpt_plan_type": "plus"}
  })");
  absl::StatusOr<nlohmann::json> claims = DecodeJwtClaims(token);

  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->at("https://api.openai.com/auth").at("chatgpt_account_id"), "acct-1");
  EXPECT_EQ(claims->at("exp").get<int64_t>(), 1767225600);
  EXPECT_EQ(claims->at("email"), "dev@example.com");
}

TEST(JwtClaims, AcceptsAnEmptySignatureSegment) {
  absl::StatusOr<nlohmann::json> claims = DecodeJwtClaims(Token(R"({"sub":"u-1"})", ""));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->at("sub"), "u-1");
}

TEST(JwtClaims, AcceptsAPaddedPayloadSegment) {
  const std::string payload = Base64UrlEncode(R"({"a":1})");
  ASSERT_EQ(payload.size() % 4, 2u);
  const std::string token = absl::StrCat(kHeader, ".", payload, "==.sig");
  absl::StatusOr<nlohmann::json> claims = DecodeJwtClaims(token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->at("a"), 1);
}

TEST(JwtClaims, RejectsWrongSegmentCountsWithoutEchoingTheToken) {
  const std::string payload = Base64UrlEncode(R"({"sub":"SECRET-SUBJECT"})");
  ExpectRejectedWithoutEcho("");
  ExpectRejectedWithoutEcho("SECRETTOKENWITHOUTDOTS");
  ExpectRejectedWithoutEcho(absl::StrCat(kHeader, ".", payload));
  ExpectRejectedWithoutEcho(absl::StrCat(kHeader, ".", payload, ".sig.extra"));
  ExpectRejectedWithoutEcho(absl::StrCat(kHeader, "..sig"));
  ExpectRejectedWithoutEcho(absl::StrCat(".", payload, ".sig"));
}

TEST(JwtClaims, RejectsAPayloadThatIsNotBase64UrlWithoutEchoingIt) {
  ExpectRejectedWithoutEcho(absl::StrCat(kHeader, ".SECRET+PAYLOAD/x.sig"));
  ExpectRejectedWithoutEcho(absl::StrCat(kHeader, ".SECRETPAYLOADx.sig"));  // impossible length
}

TEST(JwtClaims, RejectsAPayloadThatIsNotJsonWithoutEchoingIt) {
  ExpectRejectedWithoutEcho(Token(R"({"sub": "SECRET-SUBJECT", )"));
  ExpectRejectedWithoutEcho(Token("SECRET plain text"));
  ExpectRejectedWithoutEcho(Token("{\"sub\": \"SECRET\xff\xfe\"}"));  // invalid UTF-8
}

TEST(JwtClaims, RejectsAPayloadThatIsJsonButNotAnObject) {
  ExpectRejectedWithoutEcho(Token(R"(["SECRET-ARRAY"])"));
  ExpectRejectedWithoutEcho(Token(R"("SECRET-STRING")"));
  ExpectRejectedWithoutEcho(Token("42"));
  ExpectRejectedWithoutEcho(Token("null"));
}

TEST(JwtClaims, RejectsAnOversizedToken) {
  const std::string huge =
      Token(absl::StrCat(R"({"pad":")", std::string(100 * 1024, 'S'), R"("})"));
  ExpectRejectedWithoutEcho(huge);
}

}  // namespace
}  // namespace operator_auth
