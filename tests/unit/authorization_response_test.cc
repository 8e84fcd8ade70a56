#include "daemon/oauth/authorization_response.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace operator_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

AuthorizationResponse Parsed(absl::string_view input) {
  absl::StatusOr<AuthorizationResponse> response = ParseAuthorizationInput(input);
  EXPECT_TRUE(response.ok()) << response.status();
  return response.ok() ? *response : AuthorizationResponse{};
}

TEST(ParseAuthorizationInput, FullRedirectUrl) {
  const AuthorizationResponse response =
      Parsed("http://localhost:1455/auth/callback?code=ac_123-x.y~z&scope=openid&state=st_456");
  EXPECT_EQ(response.code, "ac_123-x.y~z");
  EXPECT_EQ(response.state, "st_456");
  EXPECT_EQ(response.error, "");
}

TEST(ParseAuthorizationInput, UrlParametersArePercentDecoded) {
  const AuthorizationResponse response =
      Parsed("HTTPS://example.com/cb?state=a%2Bb&code=c%2Fd%3D%3D");
  EXPECT_EQ(response.code, "c/d==");
  EXPECT_EQ(response.state, "a+b");
}

TEST(ParseAuthorizationInput, UrlWithParametersInTheFragment) {
  const AuthorizationResponse response =
      Parsed("https://console.example.com/oauth/code/callback#code=frag_code&state=frag_state");
  EXPECT_EQ(response.code, "frag_code");
  EXPECT_EQ(response.state, "frag_state");

  // A query without a response in it does not hide the fragment's.
  const AuthorizationResponse mixed = Parsed("https://example.com/cb?lang=en#code=c1&state=s1");
  EXPECT_EQ(mixed.code, "c1");
  EXPECT_EQ(mixed.state, "s1");
}

TEST(ParseAuthorizationInput, CodeHashStateIsAnthropicsFormat) {
  const AuthorizationResponse response = Parsed("AbC123_-xyz#StAtE456");
  EXPECT_EQ(response.code, "AbC123_-xyz");
  EXPECT_EQ(response.state, "StAtE456");
}

TEST(ParseAuthorizationInput, QueryStringWithOrWithoutQuestionMark) {
  for (absl::string_view input :
       {"?code=q_code&state=q_state", "code=q_code&state=q_state", "state=q_state&code=q_code"}) {
    SCOPED_TRACE(input);
    const AuthorizationResponse response = Parsed(input);
    EXPECT_EQ(response.code, "q_code");
    EXPECT_EQ(response.state, "q_state");
  }
  const AuthorizationResponse without_state = Parsed("?code=only_code");
  EXPECT_EQ(without_state.code, "only_code");
  EXPECT_EQ(without_state.state, "");
}

TEST(ParseAuthorizationInput, BareCode) {
  const AuthorizationResponse response = Parsed("4/0AbCdEf-gh_IJ.kl~mn");
  EXPECT_EQ(response.code, "4/0AbCdEf-gh_IJ.kl~mn");
  EXPECT_EQ(response.state, "");

  // Base64 padding does not make a bare code look like a query string.
  EXPECT_EQ(Parsed("YWJjZA==").code, "YWJjZA==");
}

TEST(ParseAuthorizationInput, SurroundingWhitespaceIsTrimmed) {
  EXPECT_EQ(Parsed("  \t bare_code \r\n").code, "bare_code");
  const AuthorizationResponse hash = Parsed("\ncode1#state1\n");
  EXPECT_EQ(hash.code, "code1");
  EXPECT_EQ(hash.state, "state1");
  EXPECT_EQ(Parsed("  https://h/cb?code=u&state=s  \n").code, "u");
}

TEST(ParseAuthorizationInput, ErrorResponseIsReturnedWithItsError) {
  const AuthorizationResponse response = Parsed(
      "http://127.0.0.1:1455/cb?error=access_denied&error_description=User+denied+access"
      "&state=st");
  EXPECT_EQ(response.error, "access_denied");
  EXPECT_EQ(response.error_description, "User denied access");
  EXPECT_EQ(response.state, "st");
  EXPECT_EQ(response.code, "");
}

TEST(ParseAuthorizationInput, ErrorFieldsAreReducedToPrintableAscii) {
  const AuthorizationResponse response = Parsed(
      "?error=bad%0Aerror&error_description=line1%0D%0Aline2%22%1B" + std::string(1000, 'x'));
  EXPECT_EQ(response.error, "bad?error");
  EXPECT_THAT(response.error_description, ::testing::StartsWith("line1??line2??xxx"));
  EXPECT_LE(response.error_description.size(), 256u);
}

TEST(ParseAuthorizationInput, RejectsEmptyInput) {
  for (absl::string_view input : {"", "   ", "\n\t\r\n"}) {
    EXPECT_EQ(ParseAuthorizationInput(input).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ParseAuthorizationInput, RejectsUrlOrQueryWithoutCodeOrError) {
  for (absl::string_view input :
       {"https://example.com/cb", "https://example.com/cb?state=s1",
        "http://localhost:1455/cb?code=&state=s1", "https://example.com/cb#state=s1", "?",
        "?state=s1", "state=s1&scope=openid", "#state_only", "?error="}) {
    SCOPED_TRACE(input);
    EXPECT_EQ(ParseAuthorizationInput(input).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ParseAuthorizationInput, RejectsCodeWithWhitespaceOrControlCharacters) {
  const std::vector<std::string> inputs = {"abc def",
                                           "abc\tdef",
                                           "abc\ndef#state",
                                           {"abc\0def", 7},
                                           "abc\x7f",
                                           "abc\x01",
                                           "?code=a%20b&state=s",
                                           "?code=a+b&state=s",
                                           "https://h/cb?code=a%0Ab",
                                           "c\xc3\xa9"};
  for (const std::string& input : inputs) {
    SCOPED_TRACE(input);
    EXPECT_EQ(ParseAuthorizationInput(input).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ParseAuthorizationInput, RejectsRepeatedParameters) {
  EXPECT_EQ(ParseAuthorizationInput("?code=a&code=b&state=s").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseAuthorizationInput("https://h/cb?code=a&state=s&state=t").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseAuthorizationInput, RejectsInputOver4KiB) {
  EXPECT_TRUE(ParseAuthorizationInput(std::string(kMaxAuthorizationInputBytes, 'a')).ok());
  EXPECT_EQ(
      ParseAuthorizationInput(std::string(kMaxAuthorizationInputBytes + 1, 'a')).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(ParseAuthorizationInput, ErrorMessagesNeverQuoteTheInput) {
  const std::string secret = "SeCrEt42";
  const std::vector<std::string> inputs = {
      secret + " " + secret,
      secret + "\x01",
      "#" + secret,
      "?state=" + secret,
      "?code=" + secret + "&code=" + secret,
      "?code=" + secret + "%20x&state=" + secret,
      "https://" + secret + ".example.com/cb?state=" + secret,
      "https://example.com/" + secret + "?code=" + secret + "%0A",
      std::string(kMaxAuthorizationInputBytes, 'x') + secret,
  };
  for (const std::string& input : inputs) {
    const absl::Status status = ParseAuthorizationInput(input).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(secret)));
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr("SeCr")));
  }
}

AuthorizationResponse WithState(std::string state) {
  AuthorizationResponse response;
  response.code = "code";
  response.state = std::move(state);
  return response;
}

TEST(CheckState, EqualStatesPass) {
  EXPECT_TRUE(CheckState(WithState("state-123"), "state-123", false).ok());
  EXPECT_TRUE(CheckState(WithState("state-123"), "state-123", true).ok());
}

TEST(CheckState, DifferentStatesFailWithAnActionableMessage) {
  for (const char* state : {"state-124", "state-12", "state-1234", "STATE-123"}) {
    const absl::Status status = CheckState(WithState(state), "state-123", true);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), "state does not match: start the login again");
  }
}

TEST(CheckState, MissingStatePassesOnlyWhenAllowed) {
  EXPECT_TRUE(CheckState(WithState(""), "state-123", true).ok());
  EXPECT_EQ(CheckState(WithState(""), "state-123", false).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CheckState, EmptyExpectedStateMatchesNoPresentState) {
  EXPECT_EQ(CheckState(WithState("anything"), "", true).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckState(WithState(""), "", false).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace operator_auth
