#include "tests/fake_oauth/fake_oauth_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/support/child_process.h"

namespace operator_auth::testing {
namespace {

using nlohmann::json;

constexpr char kClientId[] = "app_fake_client";
constexpr char kRedirectUri[] = "http://localhost:1455/auth/callback";
// RFC 7636 appendix B: a verifier and its S256 challenge, computed independently of the fake.
constexpr char kVerifier[] = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr char kChallenge[] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
constexpr char kDeviceGrant[] = "urn:ietf:params:oauth:grant-type:device_code";

std::unique_ptr<FakeOAuthServer> StartServer(FakeOAuthOptions options = {}) {
  auto server = std::make_unique<FakeOAuthServer>(std::move(options));
  server->Start();
  return server;
}

// A fresh client per request, so that requests from many threads share nothing.
httplib::Result Get(const FakeOAuthServer& server, const std::string& path,
                    const httplib::Headers& headers = {}) {
  httplib::Client client(server.base_url());
  client.set_read_timeout(30);
  return client.Get(path, headers);
}

httplib::Result PostForm(const FakeOAuthServer& server, const std::string& path,
                         const httplib::Params& form) {
  httplib::Client client(server.base_url());
  client.set_read_timeout(30);
  return client.Post(path, form);
}

httplib::Result PostJson(const FakeOAuthServer& server, const std::string& path, const json& body) {
  httplib::Client client(server.base_url());
  client.set_read_timeout(30);
  return client.Post(path, body.dump(), "application/json");
}

httplib::Params AuthorizeParams(const std::string& redirect_uri = kRedirectUri) {
  return {{"response_type", "code"},         {"client_id", kClientId},
          {"redirect_uri", redirect_uri},    {"state", "state 1/2&3"},
          {"code_challenge", kChallenge},    {"code_challenge_method", "S256"},
          {"scope", "openid offline_access"}};
}

httplib::Result Authorize(const FakeOAuthServer& server, const httplib::Params& params) {
  return Get(server, httplib::append_query_params("/authorize", params));
}

// The Location of a 302 from /authorize, exactly as sent (httplib's client would percent-decode
// it), or "" after recording a failure.
std::string AuthorizeLocation(const FakeOAuthServer& server, const httplib::Params& params) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server.port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    ADD_FAILURE() << "connect: " << std::strerror(errno);
    if (fd >= 0) close(fd);
    return "";
  }
  const std::string request =
      absl::StrCat("GET ", httplib::append_query_params("/authorize", params),
                   " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  std::string response;
  if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    ssize_t n = 0;
    while ((n = read(fd, buffer, sizeof(buffer))) > 0)
      response.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  if (!absl::StartsWith(response, "HTTP/1.1 302 ")) {
    ADD_FAILURE() << "expected a 302 from /authorize:\n" << response;
    return "";
  }
  const std::string kHeader = "\r\nLocation: ";
  const size_t start = response.find(kHeader);
  if (start == std::string::npos) {
    ADD_FAILURE() << "no Location in:\n" << response;
    return "";
  }
  const size_t value = start + kHeader.size();
  return response.substr(value, response.find("\r\n", value) - value);
}

std::map<std::string, std::string> QueryOf(const std::string& url) {
  httplib::Params params;
  const size_t question = url.find('?');
  if (question != std::string::npos)
    httplib::detail::parse_query_text(url.substr(question + 1), params);
  return {params.begin(), params.end()};
}

// Runs /authorize and returns the code from the redirect, or "" after recording a failure.
std::string AuthorizeForCode(const FakeOAuthServer& server) {
  return QueryOf(AuthorizeLocation(server, AuthorizeParams()))["code"];
}

httplib::Result ExchangeCode(const FakeOAuthServer& server, const std::string& code,
                             const std::string& verifier = kVerifier,
                             const std::string& redirect_uri = kRedirectUri) {
  return PostForm(server, "/token",
                  {{"grant_type", "authorization_code"},
                   {"code", code},
                   {"redirect_uri", redirect_uri},
                   {"code_verifier", verifier},
                   {"client_id", kClientId}});
}

httplib::Result Refresh(const FakeOAuthServer& server, const std::string& refresh_token) {
  return PostForm(server, "/token",
                  {{"grant_type", "refresh_token"},
                   {"refresh_token", refresh_token},
                   {"client_id", kClientId}});
}

std::string StartDeviceFlow(const FakeOAuthServer& server) {
  httplib::Result result =
      PostForm(server, "/device/code", {{"client_id", kClientId}, {"scope", "read:user"}});
  if (!result || result->status != 200) {
    ADD_FAILURE() << "POST /device/code failed";
    return "";
  }
  return json::parse(result->body).value("device_code", "");
}

httplib::Result PollDevice(const FakeOAuthServer& server, const std::string& device_code) {
  return PostForm(
      server, "/token",
      {{"grant_type", kDeviceGrant}, {"device_code", device_code}, {"client_id", kClientId}});
}

httplib::Result ExchangeForCopilot(const FakeOAuthServer& server,
                                   const std::string& authorization) {
  return Get(server, "/copilot_internal/v2/token", {{"Authorization", authorization}});
}

// The JSON body of a response, or null after recording a failure.
json BodyOf(const httplib::Result& result) {
  if (!result) {
    ADD_FAILURE() << "no response: " << httplib::to_string(result.error());
    return nullptr;
  }
  json body = json::parse(result->body, nullptr, false);
  if (body.is_discarded()) {
    ADD_FAILURE() << "not JSON: " << result->body;
    return nullptr;
  }
  return body;
}

// "<status> <error>" of a response, e.g. "400 invalid_grant", for one-line expectations.
std::string StatusAndError(const httplib::Result& result) {
  if (!result) return absl::StrCat("no response: ", httplib::to_string(result.error()));
  const json body = json::parse(result->body, nullptr, false);
  const std::string error = body.is_object() ? body.value("error", "") : "";
  return absl::StrCat(result->status, " ", error);
}

json JwtSegment(const std::string& jwt, int index) {
  const std::vector<std::string> parts = absl::StrSplit(jwt, '.');
  if (parts.size() != 3) return nullptr;
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(parts[static_cast<size_t>(index)], &decoded)) return nullptr;
  return json::parse(decoded, nullptr, false);
}

// "ABCD-1234". (std::regex trips a GCC 12 -Wmaybe-uninitialized false positive under ASan.)
bool IsUserCode(const std::string& code) {
  if (code.size() != 9 || code[4] != '-') return false;
  for (size_t i = 0; i < 4; ++i) {
    if (!absl::ascii_isupper(static_cast<unsigned char>(code[i]))) return false;
    if (!absl::ascii_isdigit(static_cast<unsigned char>(code[i + 5]))) return false;
  }
  return true;
}

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

// --- Authorization code with PKCE ---

TEST(FakeOAuthServer, AuthorizationCodeWithPkceIssuesTokens) {
  auto server = StartServer();
  const std::string location = AuthorizeLocation(*server, AuthorizeParams());
  EXPECT_TRUE(absl::StartsWith(location, absl::StrCat(kRedirectUri, "?code="))) << location;
  std::map<std::string, std::string> query = QueryOf(location);
  EXPECT_EQ(query["state"], "state 1/2&3");
  ASSERT_FALSE(query["code"].empty());

  httplib::Result token = ExchangeCode(*server, query["code"]);
  ASSERT_TRUE(token);
  ASSERT_EQ(token->status, 200) << token->body;
  EXPECT_EQ(token->get_header_value("Content-Type"), "application/json");
  const json body = BodyOf(token);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3600);
  EXPECT_TRUE(absl::StartsWith(body["refresh_token"].get<std::string>(), "rt-"));
  EXPECT_EQ(body["id_token"], body["access_token"]);

  const std::string access = body["access_token"];
  EXPECT_TRUE(absl::EndsWith(access, ".")) << "an unsigned JWT has an empty signature";
  EXPECT_EQ(JwtSegment(access, 0), json::parse(R"({"alg":"none","typ":"JWT"})"));
  const json claims = JwtSegment(access, 1);
  EXPECT_EQ(claims["sub"], "fake-user");
  EXPECT_EQ(claims["https://api.openai.com/auth"]["chatgpt_account_id"], "acct-fake-1");
  const int64_t expected_exp = absl::ToUnixSeconds(absl::Now()) + 3600;
  EXPECT_NEAR(claims["exp"].get<int64_t>(), expected_exp, 60);

  EXPECT_EQ(server->RequestCount("/authorize"), 1);
  EXPECT_EQ(server->GrantCount("authorization_code"), 1);
  EXPECT_EQ(StatusAndError(Refresh(*server, body["refresh_token"])), "200 ");
}

TEST(FakeOAuthServer, IssuedTokensAreDistinctAndCarryOptions) {
  FakeOAuthOptions options;
  options.access_token_lifetime_s = 120;
  options.account_id = "acct-custom";
  auto server = StartServer(options);
  const json first = BodyOf(ExchangeCode(*server, AuthorizeForCode(*server)));
  const json second = BodyOf(ExchangeCode(*server, AuthorizeForCode(*server)));
  EXPECT_NE(first["access_token"], second["access_token"]);
  EXPECT_NE(first["refresh_token"], second["refresh_token"]);
  EXPECT_EQ(second["expires_in"], 120);
  EXPECT_EQ(
      JwtSegment(second["access_token"], 1)["https://api.openai.com/auth"]["chatgpt_account_id"],
      "acct-custom");
}

TEST(FakeOAuthServer, AuthorizeAppendsToARedirectUriWithAQuery) {
  auto server = StartServer();
  const std::string location =
      AuthorizeLocation(*server, AuthorizeParams("http://localhost:1455/cb?flow=login"));
  EXPECT_TRUE(absl::StartsWith(location, "http://localhost:1455/cb?flow=login&code=")) << location;
  EXPECT_TRUE(absl::EndsWith(location, "&state=state%201%2F2%263")) << location;
}

TEST(FakeOAuthServer, AuthorizeRequiresAnS256Challenge) {
  auto server = StartServer();
  httplib::Params missing = AuthorizeParams();
  missing.erase("code_challenge");
  EXPECT_EQ(StatusAndError(Authorize(*server, missing)), "400 invalid_request");

  httplib::Params plain = AuthorizeParams();
  plain.find("code_challenge_method")->second = "plain";
  httplib::Result result = Authorize(*server, plain);
  EXPECT_EQ(StatusAndError(result), "400 invalid_request");
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->has_header("Location"));
}

TEST(FakeOAuthServer, WrongCodeVerifierIsInvalidGrant) {
  auto server = StartServer();
  const std::string code = AuthorizeForCode(*server);
  EXPECT_EQ(
      StatusAndError(ExchangeCode(*server, code, "not-the-verifier-not-the-verifier-xxxxxxx")),
      "400 invalid_grant");
}

TEST(FakeOAuthServer, AuthorizationCodeWorksOnce) {
  auto server = StartServer();
  const std::string code = AuthorizeForCode(*server);
  EXPECT_EQ(StatusAndError(ExchangeCode(*server, code)), "200 ");
  EXPECT_EQ(StatusAndError(ExchangeCode(*server, code)), "400 invalid_grant");
  EXPECT_EQ(StatusAndError(ExchangeCode(*server, "ac-never-issued")), "400 invalid_grant");
}

TEST(FakeOAuthServer, AuthorizationCodeIsBoundToItsRedirectUri) {
  auto server = StartServer();
  const std::string code = AuthorizeForCode(*server);
  EXPECT_EQ(StatusAndError(ExchangeCode(*server, code, kVerifier, "http://localhost:9999/other")),
            "400 invalid_grant");
}

// --- Refresh token rotation ---

TEST(FakeOAuthServer, RefreshRotatesAndRejectsTheOldToken) {
  auto server = StartServer();
  server->AddRefreshToken("rt-seeded");

  const json refreshed = BodyOf(Refresh(*server, "rt-seeded"));
  const std::string rotated = refreshed.value("refresh_token", "");
  EXPECT_TRUE(absl::StartsWith(rotated, "rt-"));
  EXPECT_NE(rotated, "rt-seeded");

  httplib::Result reused = Refresh(*server, "rt-seeded");
  EXPECT_EQ(StatusAndError(reused), "400 invalid_grant");
  EXPECT_EQ(BodyOf(reused)["error_description"], "refresh token reused or unknown");
  EXPECT_EQ(server->InvalidGrantCount(), 1);

  EXPECT_EQ(StatusAndError(Refresh(*server, rotated)), "200 ");
  EXPECT_EQ(server->GrantCount("refresh_token"), 3);
  EXPECT_EQ(server->InvalidGrantCount(), 1);
}

TEST(FakeOAuthServer, UnknownRefreshTokenIsInvalidGrant) {
  auto server = StartServer();
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-never-issued")), "400 invalid_grant");
  EXPECT_EQ(server->InvalidGrantCount(), 1);
}

TEST(FakeOAuthServer, UnsupportedGrantTypeIsRejected) {
  auto server = StartServer();
  EXPECT_EQ(StatusAndError(PostForm(*server, "/token", {{"grant_type", "password"}})),
            "400 unsupported_grant_type");
  EXPECT_EQ(server->GrantCount("password"), 1);
}

// --- Device flow ---

TEST(FakeOAuthServer, DeviceAuthorizationReturnsCodesAndInterval) {
  auto server = StartServer();  // device_interval_s = 1
  const json body =
      BodyOf(PostJson(*server, "/device/code", {{"client_id", kClientId}, {"scope", "read:user"}}));
  EXPECT_TRUE(absl::StartsWith(body.value("device_code", ""), "dc-"));
  EXPECT_TRUE(IsUserCode(body.value("user_code", ""))) << body;
  EXPECT_EQ(body["verification_uri"], server->base_url() + "/device");
  EXPECT_EQ(body["expires_in"], 900);
  EXPECT_EQ(body["interval"], 1);
}

TEST(FakeOAuthServer, DeviceFlowIsPendingThenIssuesTokensOnce) {
  FakeOAuthOptions options;
  options.device_interval_s = 0;  // no slow_down: polls may come back to back
  options.device_pending_polls = 2;
  auto server = StartServer(options);
  const std::string device_code = StartDeviceFlow(*server);
  EXPECT_EQ(StatusAndError(PollDevice(*server, device_code)), "400 authorization_pending");
  EXPECT_EQ(StatusAndError(PollDevice(*server, device_code)), "400 authorization_pending");
  const json tokens = BodyOf(PollDevice(*server, device_code));
  EXPECT_TRUE(tokens.contains("access_token")) << tokens;
  EXPECT_TRUE(tokens.contains("refresh_token")) << tokens;
  EXPECT_EQ(StatusAndError(PollDevice(*server, device_code)), "400 invalid_grant");
  EXPECT_EQ(server->GrantCount(kDeviceGrant), 4);
}

TEST(FakeOAuthServer, DevicePollSoonerThanTheIntervalIsSlowDown) {
  FakeOAuthOptions options;
  options.device_interval_s = 1;
  options.device_pending_polls = 1;
  auto server = StartServer(options);
  const std::string device_code = StartDeviceFlow(*server);
  EXPECT_EQ(StatusAndError(PollDevice(*server, device_code)), "400 authorization_pending");
  EXPECT_EQ(StatusAndError(PollDevice(*server, device_code)), "400 slow_down");
  // slow_down raised the interval to 6 s, so a poll 1.1 s later is still too soon.
  absl::SleepFor(absl::Milliseconds(1100));
  EXPECT_EQ(StatusAndError(PollDevice(*server, device_code)), "400 slow_down");
}

TEST(FakeOAuthServer, DevicePollsSpacedByTheIntervalSucceed) {
  FakeOAuthOptions options;
  options.device_interval_s = 1;
  options.device_pending_polls = 1;
  auto server = StartServer(options);
  const std::string device_code = StartDeviceFlow(*server);
  EXPECT_EQ(StatusAndError(PollDevice(*server, device_code)), "400 authorization_pending");
  absl::SleepFor(absl::Milliseconds(1100));
  EXPECT_EQ(StatusAndError(PollDevice(*server, device_code)), "200 ");
}

TEST(FakeOAuthServer, UnknownDeviceCodeIsInvalidGrant) {
  auto server = StartServer();
  EXPECT_EQ(StatusAndError(PollDevice(*server, "dc-never-issued")), "400 invalid_grant");
}

// --- Revocation ---

TEST(FakeOAuthServer, RevocationIsRecordedAndSpendsARefreshToken) {
  auto server = StartServer();
  server->AddRefreshToken("rt-to-revoke");
  httplib::Result revoke = PostForm(
      *server, "/revoke", {{"token", "rt-to-revoke"}, {"token_type_hint", "refresh_token"}});
  ASSERT_TRUE(revoke);
  EXPECT_EQ(revoke->status, 200);
  EXPECT_EQ(revoke->body, "");
  EXPECT_EQ(StatusAndError(PostForm(*server, "/revoke", {{"token", "at-unknown"}})), "200 ");
  EXPECT_EQ(server->RevokedTokens(), (std::vector<std::string>{"rt-to-revoke", "at-unknown"}));
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-to-revoke")), "400 invalid_grant");
}

// --- Copilot token exchange ---

TEST(FakeOAuthServer, CopilotExchangeAcceptsASeededGithubToken) {
  auto server = StartServer();
  server->AddGithubToken("gho_seeded");
  httplib::Result result = ExchangeForCopilot(*server, "token gho_seeded");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  const json body = BodyOf(result);
  const int64_t expires_at = body["expires_at"];
  EXPECT_NEAR(expires_at, absl::ToUnixSeconds(absl::Now()) + 3600, 60);
  EXPECT_EQ(body["refresh_in"], 3600 - 300);
  const std::string token = body["token"];
  EXPECT_TRUE(absl::StartsWith(token, "tid=copilot-")) << token;
  EXPECT_TRUE(absl::EndsWith(token, absl::StrCat(";exp=", expires_at))) << token;

  const json again = BodyOf(ExchangeForCopilot(*server, "Bearer gho_seeded"));
  EXPECT_NE(again["token"], body["token"]);
}

TEST(FakeOAuthServer, CopilotExchangeAcceptsADeviceFlowAccessToken) {
  FakeOAuthOptions options;
  options.device_interval_s = 0;
  options.device_pending_polls = 0;
  auto server = StartServer(options);
  const json tokens = BodyOf(PollDevice(*server, StartDeviceFlow(*server)));
  const std::string github_token = tokens.value("access_token", "");
  ASSERT_FALSE(github_token.empty());
  EXPECT_EQ(StatusAndError(ExchangeForCopilot(*server, "token " + github_token)), "200 ");
}

TEST(FakeOAuthServer, CopilotExchangeRejectsAnUnknownToken) {
  auto server = StartServer();
  httplib::Result result = ExchangeForCopilot(*server, "token gho_unknown");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 401);
  EXPECT_EQ(BodyOf(result), json::parse(R"({"message":"Bad credentials"})"));
  httplib::Result anonymous = Get(*server, "/copilot_internal/v2/token");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
}

// --- Faults ---

TEST(FakeOAuthServer, ServerErrorFaultAnswers500UntilCleared) {
  auto server = StartServer();
  server->SetFault("/token", {Fault::kServerError});
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-x")), "500 server_error");
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-x")), "500 server_error");
  server->SetFault("/token", {});
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-x")), "400 invalid_grant");
  EXPECT_EQ(server->RequestCount("/token"), 3);
  EXPECT_EQ(server->Requests("/token").size(), 3u);
}

TEST(FakeOAuthServer, GarbageFaultAnswersHtml) {
  auto server = StartServer();
  server->SetFault("/device/code", {Fault::kGarbage});
  httplib::Result result = PostForm(*server, "/device/code", {{"client_id", kClientId}});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "<html>not json");
  EXPECT_EQ(result->get_header_value("Content-Type"), "text/html");
}

TEST(FakeOAuthServer, InvalidGrantFaultLeavesTheTokenUnspent) {
  auto server = StartServer();
  server->AddRefreshToken("rt-kept");
  server->SetFault("/token", {Fault::kInvalidGrant, 0, 1});
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-kept")), "400 invalid_grant");
  EXPECT_EQ(server->InvalidGrantCount(), 0);
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-kept")), "200 ");
}

TEST(FakeOAuthServer, UnauthorizedFaultAnswers401) {
  auto server = StartServer();
  server->SetFault("/revoke", {Fault::kUnauthorized});
  EXPECT_EQ(StatusAndError(PostForm(*server, "/revoke", {{"token", "t"}})), "401 invalid_client");
  EXPECT_TRUE(server->RevokedTokens().empty());
  EXPECT_EQ(server->RequestCount("/revoke"), 1);
}

TEST(FakeOAuthServer, CountedFaultRevertsAfterItsCount) {
  auto server = StartServer();
  server->AddRefreshToken("rt-after-outage");
  server->SetFault("/token", {Fault::kServerError, 0, 2});
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-after-outage")), "500 server_error");
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-after-outage")), "500 server_error");
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-after-outage")), "200 ");
  EXPECT_EQ(server->RequestCount("/token"), 3);
  EXPECT_EQ(server->GrantCount("refresh_token"), 3);
}

TEST(FakeOAuthServer, FaultAppliesOnlyToItsPath) {
  auto server = StartServer();
  server->SetFault("/token", {Fault::kServerError});
  EXPECT_EQ(StatusAndError(PostForm(*server, "/device/code", {{"client_id", kClientId}})), "200 ");
}

TEST(FakeOAuthServer, DelayFaultDelaysThenAnswersNormally) {
  auto server = StartServer();
  server->AddRefreshToken("rt-slow");
  server->SetFault("/token", {Fault::kDelay, 300, 1});
  const absl::Time start = absl::Now();
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-slow")), "200 ");
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
}

TEST(FakeOAuthServer, StopCutsADelayShort) {
  auto server = StartServer();
  server->SetFault("/token", {Fault::kDelay, 20000});
  std::string answer;
  std::thread request([&] { answer = StatusAndError(Refresh(*server, "rt-x")); });
  ASSERT_TRUE(WaitFor([&] { return server->RequestCount("/token") == 1; }, absl::Seconds(10)));
  const absl::Time start = absl::Now();
  server->Stop();
  request.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_EQ(answer, "400 invalid_grant");  // answered normally once woken
}

TEST(FakeOAuthServer, SixtyFourSlowRequestsAreInFlightAtOnce) {
  auto server = StartServer();
  server->SetFault("/token", {Fault::kDelay, 30000});
  constexpr int kRequests = 64;
  std::vector<std::string> answers(kRequests);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      answers[static_cast<size_t>(i)] = StatusAndError(Refresh(*server, absl::StrCat("rt-", i)));
    });
  }
  // Every request sleeps 30 s in its handler: all 64 arrive only if they are served at once.
  EXPECT_TRUE(
      WaitFor([&] { return server->RequestCount("/token") == kRequests; }, absl::Seconds(20)))
      << server->RequestCount("/token") << " of " << kRequests << " arrived";
  server->Stop();
  for (std::thread& thread : threads) thread.join();
  for (const std::string& answer : answers) EXPECT_EQ(answer, "400 invalid_grant");
}

// --- Recording ---

TEST(FakeOAuthServer, RecordsFormAndJsonDialects) {
  auto server = StartServer();
  server->AddRefreshToken("rt-form");
  server->AddRefreshToken("rt-json");
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-form")), "200 ");
  EXPECT_EQ(StatusAndError(PostJson(*server, "/token",
                                    {{"grant_type", "refresh_token"},
                                     {"refresh_token", "rt-json"},
                                     {"attempt", 2},
                                     {"offline", true}})),
            "200 ");

  const std::vector<RecordedRequest> requests = server->Requests("/token");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/token");
  EXPECT_EQ(requests[0].content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(requests[0].params.at("refresh_token"), "rt-form");
  EXPECT_EQ(requests[0].params.at("client_id"), kClientId);
  EXPECT_EQ(requests[1].content_type, "application/json");
  EXPECT_EQ(requests[1].params.at("refresh_token"), "rt-json");
  EXPECT_EQ(requests[1].params.at("attempt"), "2");
  EXPECT_EQ(requests[1].params.at("offline"), "true");
  EXPECT_EQ(server->GrantCount("refresh_token"), 2);
}

TEST(FakeOAuthServer, RecordsQueryOfGetAndLowerCaseHeaders) {
  auto server = StartServer();
  httplib::Client client(server->base_url());
  ASSERT_TRUE(client.Get(httplib::append_query_params("/authorize", AuthorizeParams()),
                         {{"X-Trace-Id", "trace-7"}}));
  const std::vector<RecordedRequest> requests = server->Requests("/authorize");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].params.at("code_challenge"), kChallenge);
  EXPECT_EQ(requests[0].params.at("state"), "state 1/2&3");
  EXPECT_EQ(requests[0].headers.at("x-trace-id"), "trace-7");
  EXPECT_EQ(requests[0].headers.count("remote_addr"), 0u);
  EXPECT_EQ(requests[0].headers.count("X-Trace-Id"), 0u);
}

TEST(FakeOAuthServer, UnknownPathAnswers404AndIsRecorded) {
  auto server = StartServer();
  EXPECT_EQ(StatusAndError(PostForm(*server, "/oauth/token", {{"grant_type", "x"}})),
            "404 not_found");
  EXPECT_EQ(server->RequestCount("/oauth/token"), 1);
}

TEST(FakeOAuthServer, ResetClearsCountersButKeepsTokens) {
  auto server = StartServer();
  server->AddRefreshToken("rt-survives-reset");
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-unknown")), "400 invalid_grant");
  EXPECT_EQ(StatusAndError(PostForm(*server, "/revoke", {{"token", "t"}})), "200 ");
  server->Reset();
  EXPECT_EQ(server->RequestCount("/token"), 0);
  EXPECT_EQ(server->GrantCount("refresh_token"), 0);
  EXPECT_EQ(server->InvalidGrantCount(), 0);
  EXPECT_TRUE(server->Requests("/token").empty());
  EXPECT_TRUE(server->RevokedTokens().empty());
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-survives-reset")), "200 ");
}

TEST(FakeOAuthServer, StatsEndpointReportsCounters) {
  auto server = StartServer();
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-unknown")), "400 invalid_grant");
  const json stats = BodyOf(Get(*server, "/_stats"));
  EXPECT_EQ(stats["requests"]["/token"], 1);
  EXPECT_EQ(stats["grants"]["refresh_token"], 1);
  EXPECT_EQ(stats["invalid_grants"], 1);
  EXPECT_TRUE(stats["revoked_tokens"].is_array());
  EXPECT_EQ(server->RequestCount("/_stats"), 0);
}

// --- Concurrency and lifecycle ---

TEST(FakeOAuthServer, ConcurrentRefreshesOfOneTokenSucceedExactlyOnce) {
  auto server = StartServer();
  server->AddRefreshToken("rt-contended");
  constexpr int kThreads = 32;
  std::latch start(kThreads);
  std::vector<std::string> answers(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      answers[static_cast<size_t>(i)] = StatusAndError(Refresh(*server, "rt-contended"));
    });
  }
  for (std::thread& thread : threads) thread.join();
  int successes = 0;
  int invalid_grants = 0;
  for (const std::string& answer : answers) {
    if (answer == "200 ") ++successes;
    if (answer == "400 invalid_grant") ++invalid_grants;
  }
  EXPECT_EQ(successes, 1);
  EXPECT_EQ(invalid_grants, kThreads - 1);
  EXPECT_EQ(server->InvalidGrantCount(), kThreads - 1);
  EXPECT_EQ(server->GrantCount("refresh_token"), kThreads);
}

TEST(FakeOAuthServer, RestartServesOnTheSamePort) {
  auto server = StartServer();
  const int port = server->port();
  ASSERT_GT(port, 0);
  server->Stop();
  EXPECT_FALSE(Get(*server, "/_stats"));
  server->Start();
  EXPECT_EQ(server->port(), port);
  EXPECT_EQ(StatusAndError(Get(*server, "/_stats")), "200 ");
}

TEST(FakeOAuthServer, StartThrowsWhenThePortIsTaken) {
  auto first = StartServer();
  FakeOAuthOptions options;
  options.port = first->port();
  FakeOAuthServer second(options);
  EXPECT_THROW(second.Start(), std::runtime_error) << "the port is taken";
  EXPECT_EQ(first->base_url(), absl::StrCat("http://127.0.0.1:", first->port()));
}

TEST(FakeOAuthServerBinary, PrintsItsPortServesAndExitsOnSigterm) {
  ProcessOptions process_options;
  process_options.timeout = absl::Seconds(30);
  ChildProcess child(
      {FAKE_OAUTH_SERVER_PATH, "--device-interval", "0", "--refresh-token", "rt-from-flag"},
      process_options);
  std::string out;
  ASSERT_TRUE(WaitFor(
      [&] {
        out = child.PeekStdout();
        return absl::StrContains(out, "\n");
      },
      absl::Seconds(10)))
      << child.PeekStderr();
  ASSERT_TRUE(absl::StartsWith(out, "listening 127.0.0.1:")) << out;
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      absl::StripAsciiWhitespace(absl::string_view(out).substr(out.find(':') + 1)), &port))
      << out;

  httplib::Client client("127.0.0.1", port);
  httplib::Result refresh = client.Post(
      "/token",
      httplib::Params{{"grant_type", "refresh_token"}, {"refresh_token", "rt-from-flag"}});
  EXPECT_EQ(StatusAndError(refresh), "200 ");

  ASSERT_EQ(kill(child.pid(), SIGTERM), 0);
  const ProcessResult result = child.Wait();
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(result.timed_out);
}

}  // namespace
}  // namespace operator_auth::testing
