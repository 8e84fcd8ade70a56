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

httplib::Result PostRaw(const FakeOAuthServer& server, const std::string& path,
                        const std::string& body, const std::string& content_type,
                        const httplib::Headers& headers = {}) {
  httplib::Client client(server.base_url());
  client.set_read_timeout(30);
  return client.Post(path, headers, body, content_type);
}

httplib::Result PostForm(const FakeOAuthServer& server, const std::string& path,
                         const httplib::Params& form) {
  httplib::Client client(server.base_url());
  client.set_read_timeout(30);
  return client.Post(path, form);
}

httplib::Result PostJson(const FakeOAuthServer& server, const std::string& path, const json& body,
                         const httplib::Headers& headers = {}) {
  return PostRaw(server, path, body.dump(), "application/json", headers);
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

httplib::Result ExchangeCodeFor(const FakeOAuthServer& server, const std::string& code,
                                const std::string& verifier, const std::string& redirect_uri,
                                const std::string& client_id) {
  return PostForm(server, "/token",
                  {{"grant_type", "authorization_code"},
                   {"code", code},
                   {"redirect_uri", redirect_uri},
                   {"code_verifier", verifier},
                   {"client_id", client_id}});
}

httplib::Result ExchangeCode(const FakeOAuthServer& server, const std::string& code,
                             const std::string& verifier = kVerifier,
                             const std::string& redirect_uri = kRedirectUri) {
  return ExchangeCodeFor(server, code, verifier, redirect_uri, kClientId);
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

// An access token from a fresh authorization-code login.
std::string LoginForAccessToken(const FakeOAuthServer& server) {
  return BodyOf(ExchangeCode(server, AuthorizeForCode(server))).value("access_token", "");
}

httplib::Headers Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// gemini-cli setup.ts coreClientMetadata.
json CodeAssistMetadata() {
  return {{"ideType", "IDE_UNSPECIFIED"},
          {"platform", "PLATFORM_UNSPECIFIED"},
          {"pluginType", "GEMINI"}};
}

httplib::Result LoadCodeAssist(const FakeOAuthServer& server, const std::string& token,
                               const json& body = {{"metadata", CodeAssistMetadata()}}) {
  return PostJson(server, "/v1internal:loadCodeAssist", body, Bearer(token));
}

httplib::Result OnboardUser(const FakeOAuthServer& server, const std::string& token,
                            const json& body) {
  return PostJson(server, "/v1internal:onboardUser", body, Bearer(token));
}

// gemini-cli server.ts getOperation: GET <endpoint>/v1internal/<operation name>.
httplib::Result GetOperation(const FakeOAuthServer& server, const std::string& token,
                             const std::string& name) {
  return Get(server, "/v1internal/" + name, Bearer(token));
}

// "<status> <error.status>" of a Google API answer, e.g. "400 FAILED_PRECONDITION"; "200 " when
// it is no error.
std::string StatusAndGoogleError(const httplib::Result& result) {
  if (!result) return absl::StrCat("no response: ", httplib::to_string(result.error()));
  const json body = json::parse(result->body, nullptr, false);
  std::string status;
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    status = body["error"].value("status", "");
  }
  return absl::StrCat(result->status, " ", status);
}

// A Copilot token minted from a seeded GitHub token.
std::string MintCopilotToken(FakeOAuthServer& server) {
  server.AddGithubToken("gho_for_models");
  return BodyOf(ExchangeForCopilot(server, "Bearer gho_for_models")).value("token", "");
}

// pi-mono github-copilot.ts: the Copilot bearer plus COPILOT_HEADERS.
httplib::Headers CopilotHeaders(const std::string& copilot_token) {
  return {
      {"Authorization", "Bearer " + copilot_token},     {"Accept", "application/json"},
      {"User-Agent", "GitHubCopilotChat/0.35.0"},       {"Editor-Version", "vscode/1.107.0"},
      {"Editor-Plugin-Version", "copilot-chat/0.35.0"}, {"Copilot-Integration-Id", "vscode-chat"}};
}

// pi-mono github-copilot.ts enableGitHubCopilotModel: the policy POST with its intent headers.
httplib::Headers PolicyHeaders(const std::string& copilot_token) {
  httplib::Headers headers = CopilotHeaders(copilot_token);
  headers.emplace("openai-intent", "chat-policy");
  headers.emplace("x-interaction-type", "chat-policy");
  return headers;
}

int StatusOf(const httplib::Result& result) { return result ? result->status : -1; }

// codex-rs auth/manager.rs CLIENT_ID.
constexpr char kCodexClientId[] = "app_EMoamEEZ73f0CkXaXp7hrann";

httplib::Result CodexPoll(const FakeOAuthServer& server, const std::string& device_auth_id,
                          const std::string& user_code) {
  return PostJson(server, "/api/accounts/deviceauth/token",
                  {{"device_auth_id", device_auth_id}, {"user_code", user_code}});
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

// GitHub's Copilot token is "tid=...;exp=...;sku=...;proxy-ep=proxy.<host>;8kp=1:<hmac>" and the
// reply carries expires_at and refresh_in; pi-mono packages/ai/src/utils/oauth/github-copilot.ts
// (getBaseUrlFromToken) derives the API base URL from proxy-ep.
TEST(FakeOAuthServer, CopilotExchangeAcceptsASeededGithubToken) {
  auto server = StartServer();
  server->AddGithubToken("gho_seeded");
  httplib::Result result = ExchangeForCopilot(*server, "token gho_seeded");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  const json body = BodyOf(result);
  const int64_t expires_at = body["expires_at"];
  EXPECT_NEAR(expires_at, absl::ToUnixSeconds(absl::Now()) + 3600, 60);
  EXPECT_EQ(body["refresh_in"], 1500);
  const std::string token = body["token"];
  EXPECT_TRUE(absl::StartsWith(token, "tid=copilot-")) << token;
  std::map<std::string, std::string> fields;
  for (absl::string_view field : absl::StrSplit(token, ';')) {
    const std::pair<std::string, std::string> pair = absl::StrSplit(field, absl::MaxSplits('=', 1));
    fields[pair.first] = pair.second;
  }
  EXPECT_EQ(fields["exp"], absl::StrCat(expires_at)) << token;
  EXPECT_EQ(fields["sku"], "free_limited_copilot") << token;
  EXPECT_EQ(fields["proxy-ep"], "proxy.individual.githubcopilot.com") << token;
  EXPECT_TRUE(absl::StartsWith(fields["8kp"], "1:")) << token;
  EXPECT_EQ(fields["8kp"].size(), 2u + 64u) << token;

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

// --- Google Code Assist ---

// gemini-cli packages/core/src/code_assist/server.ts: every call carries the OAuth access token
// as "Authorization: Bearer" (google-auth-library); Google answers 401 UNAUTHENTICATED otherwise.
TEST(FakeOAuthServer, CodeAssistRequiresAnIssuedAccessToken) {
  auto server = StartServer();
  EXPECT_EQ(StatusAndGoogleError(PostJson(*server, "/v1internal:loadCodeAssist",
                                          {{"metadata", CodeAssistMetadata()}})),
            "401 UNAUTHENTICATED");
  EXPECT_EQ(StatusAndGoogleError(LoadCodeAssist(*server, "ya29.never-issued")),
            "401 UNAUTHENTICATED");
  const std::string access = LoginForAccessToken(*server);
  ASSERT_FALSE(access.empty());
  EXPECT_EQ(StatusAndGoogleError(LoadCodeAssist(*server, access)), "200 ");
  server->AddAccessToken("ya29.seeded");
  EXPECT_EQ(StatusAndGoogleError(LoadCodeAssist(*server, "ya29.seeded")), "200 ");
  EXPECT_EQ(StatusAndGoogleError(
                OnboardUser(*server, "ya29.never-issued",
                            {{"tierId", "free-tier"}, {"metadata", CodeAssistMetadata()}})),
            "401 UNAUTHENTICATED");
  EXPECT_EQ(StatusAndGoogleError(GetOperation(*server, "ya29.never-issued", "operations/x")),
            "401 UNAUTHENTICATED");
  EXPECT_EQ(server->RequestCount(kCodeAssistLoadPath), 4);
}

// RFC 7009: a revoked access token stops working; codex-rs codex-rs/login/src/auth/revoke.rs
// falls back to revoking the access token with token_type_hint "access_token".
TEST(FakeOAuthServer, RevokedAccessTokenIsRejected) {
  auto server = StartServer();
  const std::string access = LoginForAccessToken(*server);
  EXPECT_EQ(StatusAndError(PostJson(*server, "/revoke",
                                    {{"token", access}, {"token_type_hint", "access_token"}})),
            "200 ");
  EXPECT_EQ(StatusAndGoogleError(LoadCodeAssist(*server, access)), "401 UNAUTHENTICATED");
}

// Access tokens and Copilot tokens are good until they expire (expires_in / expires_at).
TEST(FakeOAuthServer, ExpiredAccessAndCopilotTokensAreRejected) {
  FakeOAuthOptions options;
  options.access_token_lifetime_s = 1;
  auto server = StartServer(options);
  const std::string access = LoginForAccessToken(*server);
  const std::string copilot = MintCopilotToken(*server);
  EXPECT_EQ(StatusAndGoogleError(LoadCodeAssist(*server, access)), "200 ");
  EXPECT_EQ(StatusOf(Get(*server, "/models", CopilotHeaders(copilot))), 200);
  absl::SleepFor(absl::Milliseconds(1100));
  EXPECT_EQ(StatusAndGoogleError(LoadCodeAssist(*server, access)), "401 UNAUTHENTICATED");
  EXPECT_EQ(StatusOf(Get(*server, "/models", CopilotHeaders(copilot))), 401);
}

// gemini-cli setup.ts sends metadata {ideType, platform, pluginType} with loadCodeAssist and
// onboardUser; a body without it is INVALID_ARGUMENT.
TEST(FakeOAuthServer, CodeAssistRequiresClientMetadata) {
  auto server = StartServer();
  const std::string access = LoginForAccessToken(*server);
  EXPECT_EQ(StatusAndGoogleError(LoadCodeAssist(*server, access, json::object())),
            "400 INVALID_ARGUMENT");
  json no_plugin = CodeAssistMetadata();
  no_plugin.erase("pluginType");
  EXPECT_EQ(StatusAndGoogleError(LoadCodeAssist(*server, access, {{"metadata", no_plugin}})),
            "400 INVALID_ARGUMENT");
  EXPECT_EQ(StatusAndGoogleError(PostRaw(*server, "/v1internal:loadCodeAssist", "{not json",
                                         "application/json", Bearer(access))),
            "400 INVALID_ARGUMENT");
  EXPECT_EQ(
      StatusAndGoogleError(LoadCodeAssist(
          *server, access, {{"metadata", CodeAssistMetadata()}, {"cloudaicompanionProject", 7}})),
      "400 INVALID_ARGUMENT");
  EXPECT_EQ(StatusAndGoogleError(OnboardUser(*server, access, {{"tierId", "free-tier"}})),
            "400 INVALID_ARGUMENT");
  EXPECT_EQ(
      StatusAndGoogleError(OnboardUser(*server, access, {{"metadata", CodeAssistMetadata()}})),
      "400 INVALID_ARGUMENT");
  EXPECT_EQ(StatusAndGoogleError(OnboardUser(
                *server, access, {{"tierId", "legacy-tier"}, {"metadata", CodeAssistMetadata()}})),
            "400 INVALID_ARGUMENT");
}

// gemini-cli setup.ts setupUser: no currentTier -> onboard the isDefault allowed tier; free-tier
// goes without a project; then getOperation is polled until done and the project is
// response.cloudaicompanionProject.id.
TEST(FakeOAuthServer, CodeAssistFreeTierOnboardsThroughAPolledOperation) {
  auto server = StartServer();  // kFreeTierOnboard, 2 pending polls
  const std::string access = LoginForAccessToken(*server);
  const json load = BodyOf(LoadCodeAssist(*server, access));
  EXPECT_FALSE(load.contains("currentTier")) << load;
  EXPECT_FALSE(load.contains("cloudaicompanionProject")) << load;
  ASSERT_EQ(load["allowedTiers"].size(), 2u) << load;
  EXPECT_EQ(load["allowedTiers"][0]["id"], "free-tier");
  EXPECT_EQ(load["allowedTiers"][0]["isDefault"], true);
  EXPECT_EQ(load["allowedTiers"][1]["id"], "standard-tier");
  EXPECT_EQ(load["allowedTiers"][1]["userDefinedCloudaicompanionProject"], true);

  const json onboard_body = {{"tierId", "free-tier"}, {"metadata", CodeAssistMetadata()}};
  const json operation = BodyOf(OnboardUser(*server, access, onboard_body));
  EXPECT_EQ(operation, json::parse(R"({"name":"operations/onboard-1","done":false})"));
  const std::string name = operation.value("name", "");
  EXPECT_EQ(BodyOf(GetOperation(*server, access, name))["done"], false);
  EXPECT_EQ(BodyOf(GetOperation(*server, access, name))["done"], false);
  const json done = BodyOf(GetOperation(*server, access, name));
  EXPECT_EQ(done["name"], name);
  EXPECT_EQ(done["done"], true);
  EXPECT_EQ(done["response"]["cloudaicompanionProject"]["id"], "proj-free-tier-1");
  EXPECT_EQ(BodyOf(GetOperation(*server, access, name))["done"], true) << "stays done";

  EXPECT_EQ(server->RequestCount(kCodeAssistLoadPath), 1);
  EXPECT_EQ(server->RequestCount(kCodeAssistOnboardPath), 1);
  EXPECT_EQ(server->RequestCount(kCodeAssistOperationPattern), 4);
  const std::vector<RecordedRequest> polls = server->Requests(kCodeAssistOperationPattern);
  ASSERT_EQ(polls.size(), 4u);
  EXPECT_EQ(polls[0].method, "GET");
  EXPECT_EQ(polls[0].path, "/v1internal/operations/onboard-1");
  EXPECT_EQ(polls[0].headers.at("authorization"), "Bearer " + access);
  const std::vector<RecordedRequest> onboards = server->Requests(kCodeAssistOnboardPath);
  ASSERT_EQ(onboards.size(), 1u);
  EXPECT_EQ(onboards[0].json_body, onboard_body);
  EXPECT_EQ(onboards[0].json_body["metadata"]["pluginType"], "GEMINI");
}

// gemini-cli setup.ts: "free tier uses a managed google cloud project. Setting a project in the
// request causes a `Precondition Failed` error."
TEST(FakeOAuthServer, CodeAssistFreeTierRejectsAProject) {
  auto server = StartServer();
  const std::string access = LoginForAccessToken(*server);
  EXPECT_EQ(StatusAndGoogleError(OnboardUser(*server, access,
                                             {{"tierId", "free-tier"},
                                              {"cloudaicompanionProject", "my-proj"},
                                              {"metadata", CodeAssistMetadata()}})),
            "400 FAILED_PRECONDITION");
  // standard-tier is allowed too, but only with a project of the user's own.
  EXPECT_EQ(
      StatusAndGoogleError(OnboardUser(
          *server, access, {{"tierId", "standard-tier"}, {"metadata", CodeAssistMetadata()}})),
      "400 FAILED_PRECONDITION");
}

// gemini-cli setup.ts setupUser: currentTier with cloudaicompanionProject -> that project, no
// onboarding.
TEST(FakeOAuthServer, CodeAssistExistingProject) {
  auto server = StartServer();
  server->SetCodeAssistScenario(CodeAssistScenario::kExistingProject);
  const json load = BodyOf(LoadCodeAssist(*server, LoginForAccessToken(*server)));
  EXPECT_EQ(load["currentTier"]["id"], "standard-tier") << load;
  EXPECT_EQ(load["cloudaicompanionProject"], "proj-existing-1") << load;
  EXPECT_TRUE(load["allowedTiers"].is_array()) << load;
}

// gemini-cli setup.ts (non-free tier): onboardUser carries cloudaicompanionProject and
// metadata.duetProject from GOOGLE_CLOUD_PROJECT; without a project the server refuses.
TEST(FakeOAuthServer, CodeAssistStandardTierNeedsAProject) {
  auto server = StartServer();
  server->SetCodeAssistScenario(CodeAssistScenario::kStandardTierNeedsProject);
  server->SetCodeAssistOperationPendingPolls(0);
  const std::string access = LoginForAccessToken(*server);
  const json load = BodyOf(LoadCodeAssist(*server, access));
  EXPECT_FALSE(load.contains("currentTier")) << load;
  ASSERT_EQ(load["allowedTiers"].size(), 1u) << load;
  EXPECT_EQ(load["allowedTiers"][0]["id"], "standard-tier");
  EXPECT_EQ(load["allowedTiers"][0]["isDefault"], true);
  EXPECT_EQ(load["allowedTiers"][0]["userDefinedCloudaicompanionProject"], true);

  httplib::Result refused = OnboardUser(
      *server, access, {{"tierId", "standard-tier"}, {"metadata", CodeAssistMetadata()}});
  EXPECT_EQ(StatusAndGoogleError(refused), "400 FAILED_PRECONDITION");
  EXPECT_EQ(BodyOf(refused)["error"]["code"], 400);
  EXPECT_EQ(StatusAndGoogleError(OnboardUser(
                *server, access, {{"tierId", "free-tier"}, {"metadata", CodeAssistMetadata()}})),
            "400 FAILED_PRECONDITION");

  json metadata = CodeAssistMetadata();
  metadata["duetProject"] = "my-gcp-proj";
  const json operation = BodyOf(OnboardUser(*server, access,
                                            {{"tierId", "standard-tier"},
                                             {"cloudaicompanionProject", "my-gcp-proj"},
                                             {"metadata", metadata}}));
  EXPECT_EQ(operation["done"], false);
  const json done = BodyOf(GetOperation(*server, access, operation.value("name", "")));
  EXPECT_EQ(done["done"], true) << "no pending polls were configured";
  EXPECT_EQ(done["response"]["cloudaicompanionProject"]["id"], "my-gcp-proj");
}

// gemini-cli setup.ts throwIneligibleOrProjectIdError: currentTier without a project and
// ineligibleTiers -> IneligibleTierError from reasonMessage; with the user's own project in the
// request the server reports that project.
TEST(FakeOAuthServer, CodeAssistIneligibleAccount) {
  auto server = StartServer();
  server->SetCodeAssistScenario(CodeAssistScenario::kIneligible);
  const std::string access = LoginForAccessToken(*server);
  const json load = BodyOf(LoadCodeAssist(*server, access));
  EXPECT_EQ(load["currentTier"]["id"], "standard-tier") << load;
  EXPECT_FALSE(load.contains("cloudaicompanionProject")) << load;
  ASSERT_EQ(load["ineligibleTiers"].size(), 1u) << load;
  const json& ineligible = load["ineligibleTiers"][0];
  EXPECT_EQ(ineligible["reasonCode"], "INELIGIBLE_ACCOUNT");
  EXPECT_EQ(ineligible["tierId"], "free-tier");
  EXPECT_EQ(ineligible["tierName"], "Gemini Code Assist for individuals");
  const std::string message = ineligible.value("reasonMessage", "");
  EXPECT_TRUE(absl::StrContains(message, "\x1b[31m")) << message;
  EXPECT_TRUE(absl::StrContains(message, "\n")) << message;
  EXPECT_EQ(message, CodeAssistState::kIneligibleReasonMessage);

  json metadata = CodeAssistMetadata();
  metadata["duetProject"] = "user-proj";
  const json with_project = BodyOf(LoadCodeAssist(
      *server, access, {{"cloudaicompanionProject", "user-proj"}, {"metadata", metadata}}));
  EXPECT_EQ(with_project["currentTier"]["id"], "standard-tier") << with_project;
  EXPECT_EQ(with_project["cloudaicompanionProject"], "user-proj") << with_project;
  EXPECT_FALSE(with_project.contains("ineligibleTiers")) << with_project;
}

// gemini-cli server.ts getOperation on a name the server never issued.
TEST(FakeOAuthServer, CodeAssistUnknownOperationIsNotFound) {
  auto server = StartServer();
  EXPECT_EQ(StatusAndGoogleError(
                GetOperation(*server, LoginForAccessToken(*server), "operations/onboard-99")),
            "404 NOT_FOUND");
}

// gemini-cli server.ts retries POSTs on 5xx: the Code Assist paths take faults like the others,
// the operation polls under their pattern.
TEST(FakeOAuthServer, CodeAssistPathsTakeFaults) {
  auto server = StartServer();
  server->SetCodeAssistOperationPendingPolls(0);
  const std::string access = LoginForAccessToken(*server);
  server->SetFault(kCodeAssistLoadPath, {Fault::kServerError, 0, 1});
  EXPECT_EQ(StatusOf(LoadCodeAssist(*server, access)), 500);
  EXPECT_EQ(StatusOf(LoadCodeAssist(*server, access)), 200);
  const std::string name =
      BodyOf(OnboardUser(*server, access,
                         {{"tierId", "free-tier"}, {"metadata", CodeAssistMetadata()}}))
          .value("name", "");
  server->SetFault(kCodeAssistOperationPattern, {Fault::kGarbage, 0, 1});
  httplib::Result garbage = GetOperation(*server, access, name);
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->body, "<html>not json");
  EXPECT_EQ(BodyOf(GetOperation(*server, access, name))["done"], true);
  EXPECT_EQ(server->RequestCount(kCodeAssistLoadPath), 2);
  EXPECT_EQ(server->RequestCount(kCodeAssistOperationPattern), 2);
}

// --- Copilot models ---

// pi-mono packages/ai/src/utils/oauth/github-copilot.ts fetchCopilotModels: GET <base>/models
// with the Copilot bearer and COPILOT_HEADERS; reads data[].id, capabilities, policy?.state.
TEST(FakeOAuthServer, CopilotModelsListsTheCatalogWithPolicies) {
  auto server = StartServer();
  const std::string copilot = MintCopilotToken(*server);
  httplib::Result result = Get(*server, "/models", CopilotHeaders(copilot));
  ASSERT_EQ(StatusOf(result), 200);
  const json body = BodyOf(result);
  EXPECT_EQ(body["object"], "list");
  std::map<std::string, json> models;
  for (const json& model : body["data"]) models[model.value("id", "")] = model;
  ASSERT_EQ(models.size(), 5u) << body;
  EXPECT_EQ(models["gpt-4.1"]["policy"]["state"], "enabled");
  EXPECT_EQ(models["claude-sonnet-4"]["policy"]["state"], "unconfigured");
  EXPECT_EQ(models["grok-code-fast-1"]["policy"]["state"], "unconfigured");
  EXPECT_EQ(models["o3"]["policy"]["state"], "disabled");
  EXPECT_FALSE(models["gpt-4o"].contains("policy")) << models["gpt-4o"];
  EXPECT_EQ(models["gpt-4.1"]["capabilities"]["supports"]["tool_calls"], true);
  EXPECT_EQ(server->CopilotModelPolicyStates(),
            (std::map<std::string, std::string>{{"claude-sonnet-4", "unconfigured"},
                                                {"gpt-4.1", "enabled"},
                                                {"gpt-4o", ""},
                                                {"grok-code-fast-1", "unconfigured"},
                                                {"o3", "disabled"}}));
  EXPECT_EQ(server->RequestCount(kCopilotModelsPath), 1);
}

// pi-mono github-copilot.ts: the Copilot API wants the Copilot token (not the GitHub token) and
// the editor headers.
TEST(FakeOAuthServer, CopilotModelsRequiresACopilotTokenAndEditorHeaders) {
  auto server = StartServer();
  const std::string copilot = MintCopilotToken(*server);
  EXPECT_EQ(StatusOf(Get(*server, "/models")), 401);
  httplib::Headers github = CopilotHeaders("gho_for_models");
  EXPECT_EQ(StatusOf(Get(*server, "/models", github)), 401) << "a GitHub token is not enough";
  for (const char* header : {"Editor-Version", "Copilot-Integration-Id"}) {
    httplib::Headers headers = CopilotHeaders(copilot);
    headers.erase(header);
    EXPECT_EQ(StatusOf(Get(*server, "/models", headers)), 400) << "without " << header;
  }
  EXPECT_EQ(server->RequestCount(kCopilotModelsPath), 4);
}

// pi-mono github-copilot.ts enableGitHubCopilotModel: POST <base>/models/<id>/policy,
// {"state":"enabled"}, openai-intent and x-interaction-type chat-policy; "required for some
// models (like Claude, Grok) before they can be used".
TEST(FakeOAuthServer, CopilotModelPolicyEnablesAModel) {
  auto server = StartServer();
  const std::string copilot = MintCopilotToken(*server);
  httplib::Result result = PostJson(*server, "/models/claude-sonnet-4/policy",
                                    {{"state", "enabled"}}, PolicyHeaders(copilot));
  ASSERT_EQ(StatusOf(result), 200);
  EXPECT_EQ(BodyOf(result), json::object());
  EXPECT_EQ(server->CopilotModelPolicyStates().at("claude-sonnet-4"), "enabled");
  EXPECT_EQ(StatusOf(PostJson(*server, "/models/gpt-4o/policy", {{"state", "enabled"}},
                              PolicyHeaders(copilot))),
            200);
  EXPECT_EQ(server->CopilotModelPolicyStates().at("gpt-4o"), "enabled");

  const json listed = BodyOf(Get(*server, "/models", CopilotHeaders(copilot)));
  for (const json& model : listed["data"]) {
    if (model["id"] == "claude-sonnet-4") {
      EXPECT_EQ(model["policy"]["state"], "enabled");
    }
  }
  EXPECT_EQ(server->RequestCount(kCopilotModelPolicyPattern), 2);
  const std::vector<RecordedRequest> requests = server->Requests(kCopilotModelPolicyPattern);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/models/claude-sonnet-4/policy");
  EXPECT_EQ(requests[0].json_body, json::parse(R"({"state":"enabled"})"));
  EXPECT_EQ(requests[0].headers.at("openai-intent"), "chat-policy");
  EXPECT_EQ(requests[0].headers.at("x-interaction-type"), "chat-policy");
  EXPECT_EQ(requests[0].headers.at("copilot-integration-id"), "vscode-chat");
}

// pi-mono github-copilot.ts enableGitHubCopilotModel treats anything but 2xx as not enabled.
TEST(FakeOAuthServer, CopilotModelPolicyRejectsBadRequests) {
  auto server = StartServer();
  const std::string copilot = MintCopilotToken(*server);
  const json enable = {{"state", "enabled"}};
  EXPECT_EQ(
      StatusOf(PostJson(*server, "/models/o3/policy", enable,
                        {{"openai-intent", "chat-policy"}, {"x-interaction-type", "chat-policy"}})),
      401);
  EXPECT_EQ(StatusOf(PostJson(*server, "/models/o3/policy", enable, CopilotHeaders(copilot))), 400)
      << "no intent headers";
  httplib::Headers one_intent = PolicyHeaders(copilot);
  one_intent.erase("x-interaction-type");
  EXPECT_EQ(StatusOf(PostJson(*server, "/models/o3/policy", enable, one_intent)), 400);
  EXPECT_EQ(
      StatusOf(PostJson(*server, "/models/o3/policy", {{"state", "on"}}, PolicyHeaders(copilot))),
      400);
  EXPECT_EQ(StatusOf(PostRaw(*server, "/models/o3/policy", "state=enabled",
                             "application/x-www-form-urlencoded", PolicyHeaders(copilot))),
            400);
  EXPECT_EQ(
      StatusOf(PostJson(*server, "/models/no-such-model/policy", enable, PolicyHeaders(copilot))),
      404);
  EXPECT_EQ(server->CopilotModelPolicyStates().at("o3"), "disabled");
  EXPECT_EQ(server->RequestCount(kCopilotModelPolicyPattern), 6);
}

// --- Codex device-code login ---

// codex-rs codex-rs/login/src/device_code_auth.rs: POST /api/accounts/deviceauth/usercode
// {client_id} -> {device_auth_id, user_code, interval (a string)}; poll .../deviceauth/token
// {device_auth_id, user_code}: 403 while pending, then {authorization_code, code_challenge,
// code_verifier}; server.rs exchange_code_for_tokens redeems the code at /oauth/token (form) with
// redirect_uri <issuer>/deviceauth/callback and the server's verifier.
TEST(FakeOAuthServer, CodexDeviceLoginIsPendingThenYieldsACodeForTokens) {
  auto server = StartServer();  // device_pending_polls = 2, device_interval_s = 1
  const json user_code = BodyOf(
      PostJson(*server, "/api/accounts/deviceauth/usercode", {{"client_id", kCodexClientId}}));
  EXPECT_EQ(user_code["device_auth_id"], "dev-auth-1");
  EXPECT_TRUE(IsUserCode(user_code.value("user_code", ""))) << user_code;
  EXPECT_EQ(user_code["interval"], "1") << "a string, as the real server sends it";
  const std::string id = user_code.value("device_auth_id", "");
  const std::string code = user_code.value("user_code", "");

  EXPECT_EQ(StatusOf(CodexPoll(*server, id, code)), 403);
  EXPECT_EQ(StatusOf(CodexPoll(*server, id, code)), 403);
  const json approved = BodyOf(CodexPoll(*server, id, code));
  const std::string verifier = approved.value("code_verifier", "");
  EXPECT_GE(verifier.size(), 43u) << approved;
  EXPECT_EQ(approved.value("code_challenge", "").size(), 43u) << approved;
  EXPECT_EQ(StatusAndError(CodexPoll(*server, id, code)), "400 invalid_grant") << "spent";

  const std::string redirect_uri = server->base_url() + "/deviceauth/callback";
  const json tokens = BodyOf(ExchangeCodeFor(*server, approved.value("authorization_code", ""),
                                             verifier, redirect_uri, kCodexClientId));
  ASSERT_TRUE(tokens.contains("access_token")) << tokens;
  EXPECT_TRUE(tokens.contains("refresh_token")) << tokens;
  EXPECT_EQ(JwtSegment(tokens["id_token"], 1)["https://api.openai.com/auth"]["chatgpt_account_id"],
            "acct-fake-1");

  EXPECT_EQ(server->RequestCount(kCodexUserCodePath), 1);
  EXPECT_EQ(server->RequestCount(kCodexDeviceTokenPath), 4);
  const std::vector<RecordedRequest> polls = server->Requests(kCodexDeviceTokenPath);
  ASSERT_EQ(polls.size(), 4u);
  EXPECT_EQ(polls[0].json_body, json({{"device_auth_id", id}, {"user_code", code}}));
}

// server.rs exchange_code_for_tokens: the code is bound to the server's PKCE pair and to
// <issuer>/deviceauth/callback.
TEST(FakeOAuthServer, CodexDeviceCodeIsBoundToItsVerifierAndRedirect) {
  FakeOAuthOptions options;
  options.device_pending_polls = 0;
  auto server = StartServer(options);
  const std::string redirect_uri = server->base_url() + "/deviceauth/callback";
  auto approve = [&] {
    const json user_code = BodyOf(
        PostJson(*server, "/api/accounts/deviceauth/usercode", {{"client_id", kCodexClientId}}));
    return BodyOf(CodexPoll(*server, user_code.value("device_auth_id", ""),
                            user_code.value("user_code", "")));
  };
  const json first = approve();
  EXPECT_EQ(StatusAndError(ExchangeCodeFor(*server, first.value("authorization_code", ""),
                                           kVerifier, redirect_uri, kCodexClientId)),
            "400 invalid_grant");
  const json second = approve();
  EXPECT_EQ(StatusAndError(ExchangeCodeFor(*server, second.value("authorization_code", ""),
                                           second.value("code_verifier", ""), kRedirectUri,
                                           kCodexClientId)),
            "400 invalid_grant");
}

// codex-rs device_code_auth.rs UserCodeReq is JSON {client_id}.
TEST(FakeOAuthServer, CodexUserCodeRequiresAJsonClientId) {
  auto server = StartServer();
  EXPECT_EQ(StatusAndError(PostForm(*server, "/api/accounts/deviceauth/usercode",
                                    {{"client_id", kCodexClientId}})),
            "400 invalid_request");
  EXPECT_EQ(
      StatusAndError(PostJson(*server, "/api/accounts/deviceauth/usercode", {{"scope", "openid"}})),
      "400 invalid_request");
  EXPECT_EQ(StatusAndError(
                PostRaw(*server, "/api/accounts/deviceauth/usercode", "{", "application/json")),
            "400 invalid_request");
  EXPECT_EQ(server->RequestCount(kCodexUserCodePath), 3);
}

// codex-rs device_code_auth.rs treats 403 and 404 as pending, so failures must be neither.
TEST(FakeOAuthServer, CodexDevicePollRejectsUnknownIdsAndWrongUserCodes) {
  FakeOAuthOptions options;
  options.device_pending_polls = 0;
  auto server = StartServer(options);
  const json user_code = BodyOf(
      PostJson(*server, "/api/accounts/deviceauth/usercode", {{"client_id", kCodexClientId}}));
  const std::string id = user_code.value("device_auth_id", "");
  EXPECT_EQ(StatusAndError(CodexPoll(*server, "dev-auth-99", "ABCD-1234")), "400 invalid_grant");
  EXPECT_EQ(StatusAndError(CodexPoll(*server, id, "ZZZZ-0000")), "400 invalid_grant");
  EXPECT_EQ(
      StatusAndError(PostJson(*server, "/api/accounts/deviceauth/token", {{"device_auth_id", id}})),
      "400 invalid_request");
  EXPECT_EQ(StatusAndError(CodexPoll(*server, id, user_code.value("user_code", ""))), "200 ")
      << "a wrong user code does not spend the device authorization";
}

// codex-rs codex-rs/login/src/auth/revoke.rs: JSON {token, token_type_hint, client_id}.
TEST(FakeOAuthServer, RevokeAcceptsAJsonBody) {
  auto server = StartServer();
  server->AddRefreshToken("rt-json-revoke");
  EXPECT_EQ(StatusAndError(PostJson(*server, "/revoke",
                                    {{"token", "rt-json-revoke"},
                                     {"token_type_hint", "refresh_token"},
                                     {"client_id", kCodexClientId}})),
            "200 ");
  EXPECT_EQ(StatusAndError(PostJson(*server, "/revoke", {{"token_type_hint", "refresh_token"}})),
            "400 invalid_request");
  EXPECT_EQ(server->RevokedTokens(), std::vector<std::string>{"rt-json-revoke"});
  EXPECT_EQ(StatusAndError(Refresh(*server, "rt-json-revoke")), "400 invalid_grant");
  const std::vector<RecordedRequest> requests = server->Requests("/revoke");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].json_body["token_type_hint"], "refresh_token");
}

// The Codex device paths take faults like the others.
TEST(FakeOAuthServer, CodexDevicePathsTakeFaults) {
  FakeOAuthOptions options;
  options.device_pending_polls = 0;
  auto server = StartServer(options);
  server->SetFault(kCodexUserCodePath, {Fault::kServerError, 0, 1});
  EXPECT_EQ(StatusAndError(PostJson(*server, "/api/accounts/deviceauth/usercode",
                                    {{"client_id", kCodexClientId}})),
            "500 server_error");
  const json user_code = BodyOf(
      PostJson(*server, "/api/accounts/deviceauth/usercode", {{"client_id", kCodexClientId}}));
  server->SetFault(kCodexDeviceTokenPath, {Fault::kUnauthorized, 0, 1});
  const std::string id = user_code.value("device_auth_id", "");
  const std::string code = user_code.value("user_code", "");
  EXPECT_EQ(StatusAndError(CodexPoll(*server, id, code)), "401 invalid_client");
  EXPECT_EQ(StatusAndError(CodexPoll(*server, id, code)), "200 ");
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
