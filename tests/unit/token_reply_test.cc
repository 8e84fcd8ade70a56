#include "daemon/oauth/token_reply.h"

#include <cstdint>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace operator_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kWhat[] = "refreshing the openai-codex token";
constexpr char kAccess[] = "at-SECRET-access-9f8e7d";
constexpr char kRefresh[] = "rt-SECRET-refresh-1a2b3c";

HttpResponse Reply(long status, std::string body, std::string content_type = "application/json") {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

// A 200 token reply with both tokens and `expires_in` spliced in as JSON text.
HttpResponse Tokens(const std::string& expires_in_json) {
  return Reply(200, std::string(R"({"access_token":")") + kAccess + R"(","refresh_token":")" +
                        kRefresh + R"(","token_type":"Bearer","expires_in":)" + expires_in_json +
                        "}");
}

// Every byte printable ASCII, and no quote or backslash (PrintableErrorText's rule).
bool IsPrintableAscii(absl::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7e) return false;
  }
  return true;
}

void ExpectNoToken(const absl::Status& status) {
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr(kAccess))) << status;
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr(kRefresh))) << status;
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("SECRET"))) << status;
}

TEST(TokenReply, ReadsTokensAndTheWholeBody) {
  absl::StatusOr<TokenReply> reply = ParseTokenReply(Tokens("3600"), kWhat);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->access_token, kAccess);
  EXPECT_EQ(reply->refresh_token, kRefresh);
  EXPECT_EQ(reply->expires_in_s, 3600);
  EXPECT_EQ(reply->body["token_type"], "Bearer");
}

TEST(TokenReply, InvalidGrantMeansANewLoginIsNeeded) {
  absl::StatusOr<TokenReply> reply = ParseTokenReply(
      Reply(
          400,
          R"({"error":"invalid_grant","error_description":"Token has been expired or revoked."})"),
      kWhat);
  EXPECT_TRUE(absl::IsUnauthenticated(reply.status())) << reply.status();
  EXPECT_THAT(std::string(reply.status().message()), HasSubstr(kWhat));
  EXPECT_THAT(std::string(reply.status().message()), HasSubstr("invalid_grant"));
  EXPECT_THAT(std::string(reply.status().message()),
              HasSubstr("Token has been expired or revoked."));
}

// codex-rs codex-rs/login/src/auth/manager.rs (extract_refresh_token_error_code,
// classify_refresh_token_failure): OpenAI's token endpoint names a dead refresh token with these
// codes, in "error" as a string or in "error.code" when "error" is an object.
TEST(TokenReply, OpenAIsDeadRefreshTokenCodesMeanANewLoginIsNeeded) {
  for (const char* code :
       {"refresh_token_expired", "refresh_token_reused", "refresh_token_invalidated"}) {
    const std::string as_string = std::string(R"({"error":")") + code + R"("})";
    const std::string as_object =
        std::string(R"({"error":{"code":")") + code + R"(","message":"Please sign in again."}})";
    for (const std::string& body : {as_string, as_object}) {
      absl::StatusOr<TokenReply> reply = ParseTokenReply(Reply(401, body), kWhat);
      EXPECT_TRUE(absl::IsUnauthenticated(reply.status())) << body << ": " << reply.status();
      EXPECT_THAT(std::string(reply.status().message()), HasSubstr(code));
    }
  }
  absl::StatusOr<TokenReply> reply = ParseTokenReply(
      Reply(401, R"({"error":{"code":"refresh_token_reused","message":"already used"}})"), kWhat);
  EXPECT_THAT(std::string(reply.status().message()), HasSubstr("already used"));
}

TEST(TokenReply, OtherRefusalsAreTransient) {
  struct Case {
    long status;
    const char* body;
    const char* content_type;
  };
  for (const Case& c : {
           Case{401, R"({"error":"invalid_client"})", "application/json"},
           Case{403, "<html><body><h1>403 Forbidden</h1>Request blocked.</body></html>",
                "text/html"},
           Case{400, R"({"error":"invalid_request","error_description":"missing client_id"})",
                "application/json"},
           Case{500, R"({"error":"server_error"})", "application/json"},
           Case{503, "", "text/plain"},
           Case{429, R"({"error":{"code":"rate_limited","message":"slow down"}})",
                "application/json"},
           Case{401, R"({"error":{"code":"token_expired"}})", "application/json"},
           Case{401, R"({"error":"INVALID_GRANT"})", "application/json"},
       }) {
    absl::StatusOr<TokenReply> reply =
        ParseTokenReply(Reply(c.status, c.body, c.content_type), kWhat);
    EXPECT_TRUE(absl::IsUnavailable(reply.status())) << c.body << ": " << reply.status();
    EXPECT_THAT(std::string(reply.status().message()),
                HasSubstr("HTTP " + std::to_string(c.status)));
    // The body of a page is never quoted.
    EXPECT_THAT(std::string(reply.status().message()), Not(HasSubstr("<html>")));
  }
}

TEST(TokenReply, DeviceFlowPollAnswersSayToContinue) {
  for (const char* code : {"authorization_pending", "slow_down"}) {
    absl::StatusOr<TokenReply> reply =
        ParseTokenReply(Reply(400, std::string(R"({"error":")") + code + R"("})"), kWhat);
    EXPECT_TRUE(absl::IsFailedPrecondition(reply.status())) << reply.status();
    EXPECT_EQ(reply.status().message(), code);
  }
  // ParseJsonReply classifies the same way (the Copilot and device requests use it).
  absl::StatusOr<nlohmann::json> json =
      ParseJsonReply(Reply(400, R"({"error":"slow_down","interval":10})"), kWhat);
  EXPECT_TRUE(absl::IsFailedPrecondition(json.status())) << json.status();
}

TEST(TokenReply, AnErrorIn200IsClassifiedLikeAnyOther) {
  // GitHub answers a device poll with HTTP 200 and an OAuth error.
  absl::StatusOr<TokenReply> pending =
      ParseTokenReply(Reply(200, R"({"error":"authorization_pending"})"), kWhat);
  EXPECT_TRUE(absl::IsFailedPrecondition(pending.status())) << pending.status();
  absl::StatusOr<TokenReply> dead =
      ParseTokenReply(Reply(200, R"({"error":"invalid_grant"})"), kWhat);
  EXPECT_TRUE(absl::IsUnauthenticated(dead.status())) << dead.status();
  absl::StatusOr<TokenReply> empty =
      ParseTokenReply(Reply(200, R"({"token_type":"Bearer"})"), kWhat);
  EXPECT_TRUE(absl::IsUnavailable(empty.status())) << empty.status();
}

TEST(TokenReply, ProviderTextReachesTheMessageOnlyAsCappedPrintableAscii) {
  const std::string hostile =
      "\x1b[2J\x1b]0;pwned\x07 line1\r\nline2 \"quoted\" back\\slash caf\xc3\xa9 \x7f" +
      std::string(5000, 'x');
  for (long status : {400L, 401L, 500L}) {
    nlohmann::json body = {{"error", "invalid_grant\x1b[31m\n"}, {"error_description", hostile}};
    for (const nlohmann::json& b :
         {body, nlohmann::json{{"error", {{"code", "x\x1b\r\n"}, {"message", hostile}}}}}) {
      absl::StatusOr<TokenReply> reply = ParseTokenReply(Reply(status, b.dump()), kWhat);
      ASSERT_FALSE(reply.ok());
      const std::string message(reply.status().message());
      EXPECT_TRUE(IsPrintableAscii(message)) << message;
      EXPECT_THAT(message, Not(HasSubstr("\"quoted\"")));
      EXPECT_THAT(message, Not(HasSubstr("\\")));
      EXPECT_THAT(message, HasSubstr("line1"));  // still readable
      // The description is capped at ~200 bytes: the message stays short however long it is.
      EXPECT_LT(message.size(), 200 + 64 + sizeof(kWhat) + 64) << message.size();
    }
  }
  // A hostile error code that only looks like invalid_grant is not one.
  absl::StatusOr<TokenReply> reply =
      ParseTokenReply(Reply(400, R"({"error":"invalid_grant\u001b[0m"})"), kWhat);
  EXPECT_TRUE(absl::IsUnavailable(reply.status())) << reply.status();
}

TEST(TokenReply, ExpiresInIsClampedToSaneLifetimes) {
  struct Case {
    const char* expires_in;
    int64_t seconds;
  };
  for (const Case& c : {
           Case{"3600", 3600},
           Case{"\"3600\"", 3600},  // some providers send a string
           Case{"3600.7", 3600},
           Case{"0", kMinTokenLifetimeS},
           Case{"-5", kMinTokenLifetimeS},
           Case{"-1e15", kMinTokenLifetimeS},
           Case{"1", kMinTokenLifetimeS},
           Case{"1000000000000000", kMaxTokenLifetimeS},
           Case{"18446744073709551615", kMaxTokenLifetimeS},  // an unsigned above INT64_MAX
           Case{"9223372036854775807", kMaxTokenLifetimeS},
           Case{"\"-20\"", kMinTokenLifetimeS},
       }) {
    absl::StatusOr<TokenReply> reply = ParseTokenReply(Tokens(c.expires_in), kWhat);
    ASSERT_TRUE(reply.ok()) << c.expires_in << ": " << reply.status();
    EXPECT_EQ(reply->expires_in_s, c.seconds) << c.expires_in;
  }
  absl::StatusOr<TokenReply> without =
      ParseTokenReply(Reply(200, std::string(R"({"access_token":")") + kAccess + "\"}"), kWhat);
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_FALSE(without->expires_in_s.has_value());
}

// Regression: a float of 1e12 or more used to become 0 and so kMinTokenLifetimeS, the opposite end
// of the clamp from the integer 1000000000000000.
TEST(TokenReply, AHugeFloatExpiresInIsClampedToTheMaximum) {
  for (const char* expires_in : {"1e15", "1.0e12", "1e300"}) {
    absl::StatusOr<TokenReply> reply = ParseTokenReply(Tokens(expires_in), kWhat);
    ASSERT_TRUE(reply.ok()) << expires_in << ": " << reply.status();
    EXPECT_EQ(reply->expires_in_s, kMaxTokenLifetimeS) << expires_in;
  }
}

TEST(TokenReply, AnExpiresInThatIsNoNumberIsTransient) {
  for (const char* expires_in : {"\"abc\"", "\"\"", "true", "[3600]", "{\"s\":1}"}) {
    absl::StatusOr<TokenReply> reply = ParseTokenReply(Tokens(expires_in), kWhat);
    EXPECT_TRUE(absl::IsUnavailable(reply.status())) << expires_in << ": " << reply.status();
    EXPECT_THAT(std::string(reply.status().message()), HasSubstr("expires_in"));
    ExpectNoToken(reply.status());
  }
}

TEST(TokenReply, NoMessageEverContainsATokenOrTheBody) {
  const std::string tokens =
      std::string(R"("access_token":")") + kAccess + R"(","refresh_token":")" + kRefresh + "\"";
  for (const HttpResponse& response : {
           Reply(200, "<html>" + tokens + "</html>", "text/html"),  // not JSON
           Reply(200, "[" + std::string("\"") + kAccess + "\"]"),   // not an object
           Reply(500, "{" + tokens + R"(,"error":"server_error"})"),
           Reply(400, "{" + tokens + R"(,"error":"invalid_grant"})"),
           Reply(401, "{" + tokens + R"(,"error":{"code":"refresh_token_reused"}})"),
           Reply(200, R"({"refresh_token":")" + std::string(kRefresh) + R"(","error":"x"})"),
           Reply(200, R"({"refresh_token":")" + std::string(kRefresh) + "\"}"),
           Tokens("\"soon\""),
       }) {
    absl::StatusOr<TokenReply> reply = ParseTokenReply(response, kWhat);
    ASSERT_FALSE(reply.ok()) << response.body;
    ExpectNoToken(reply.status());
    absl::StatusOr<nlohmann::json> json = ParseJsonReply(response, kWhat);
    if (!json.ok()) ExpectNoToken(json.status());
  }
}

TEST(TokenReply, ParseJsonReplyWantsAJsonObject) {
  absl::StatusOr<nlohmann::json> json =
      ParseJsonReply(Reply(201, R"({"token":"x","expires_at":1})"), kWhat);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ((*json)["expires_at"], 1);
  for (const char* body : {"[1]", "\"x\"", "not json", ""}) {
    absl::StatusOr<nlohmann::json> bad = ParseJsonReply(Reply(200, body), kWhat);
    EXPECT_TRUE(absl::IsUnavailable(bad.status())) << body << ": " << bad.status();
  }
}

TEST(TokenReply, ClampSecondsKeepsValuesInsideTheBounds) {
  EXPECT_EQ(ClampSeconds(5, 10, 20), 10);
  EXPECT_EQ(ClampSeconds(15, 10, 20), 15);
  EXPECT_EQ(ClampSeconds(INT64_MAX, 10, 20), 20);
  EXPECT_EQ(ClampSeconds(INT64_MIN, 10, 20), 10);
}

}  // namespace
}  // namespace operator_auth
