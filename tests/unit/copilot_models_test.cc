#include "daemon/oauth/copilot_models.h"

#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "daemon/oauth/github_copilot_oauth_client.h"
#include "tests/fake_oauth/fake_oauth_server.h"

namespace operator_auth {
namespace {

using ::testing::ElementsAre;
using testing::FakeOAuthServer;
using testing::Fault;
using testing::FaultSpec;
using ::testing::IsEmpty;
using testing::kCopilotModelPolicyPattern;
using testing::kCopilotModelsPath;
using testing::RecordedRequest;
using ::testing::UnorderedElementsAre;

constexpr char kGithubToken[] = "ghu_SECRET-github-token";

class CopilotModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Start();
    server_.AddGithubToken(kGithubToken);
    copilot_token_ = ExchangeForCopilotToken();
    ASSERT_FALSE(copilot_token_.empty());
  }

  // GET /copilot_internal/v2/token as the daemon sends it, for a Copilot token the fake accepts.
  std::string ExchangeForCopilotToken() {
    HttpRequest request;
    request.method = "GET";
    request.url = server_.base_url() + "/copilot_internal/v2/token";
    request.headers = {{"Accept", "application/json"},
                       {"Authorization", std::string("Bearer ") + kGithubToken}};
    for (const auto& h : CopilotEditorHeaders()) request.headers.push_back(h);
    request.timeout = absl::Seconds(10);
    absl::StatusOr<HttpResponse> response = http_.Send(request);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return {};
    EXPECT_EQ(response->status, 200) << response->body;
    nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
    return body.is_object() && body.contains("token") ? body["token"].get<std::string>() : "";
  }

  absl::StatusOr<CopilotModelPolicies> Enable() {
    return EnableUnconfiguredCopilotModels(server_.base_url(), copilot_token_,
                                           CopilotEditorHeaders(),
                                           [this](HttpRequest request, absl::string_view) {
                                             request.timeout = absl::Seconds(10);
                                             return http_.Send(request);
                                           });
  }

  FakeOAuthServer server_;
  CurlHttpClient http_;
  std::string copilot_token_;
};

TEST_F(CopilotModelsTest, EnablesExactlyTheUnconfiguredModels) {
  absl::StatusOr<CopilotModelPolicies> policies = Enable();
  ASSERT_TRUE(policies.ok()) << policies.status();
  EXPECT_THAT(policies->enabled, ElementsAre("claude-sonnet-4", "grok-code-fast-1"));
  EXPECT_THAT(policies->failed, IsEmpty());
  EXPECT_EQ(policies->listed, 5);
  // A model the user disabled stays disabled (pi-mono enables every model; we do not overrule
  // the user), and one without a policy object is left as it is.
  EXPECT_EQ(server_.CopilotModelPolicyStates(),
            (std::map<std::string, std::string>{{"claude-sonnet-4", "enabled"},
                                                {"gpt-4.1", "enabled"},
                                                {"gpt-4o", ""},
                                                {"grok-code-fast-1", "enabled"},
                                                {"o3", "disabled"}}));
  EXPECT_EQ(server_.RequestCount(kCopilotModelsPath), 1);
  EXPECT_EQ(server_.RequestCount(kCopilotModelPolicyPattern), 2);
}

// pi-mono packages/ai/src/utils/oauth/github-copilot.ts, enableGitHubCopilotModel: POST
// {base}/models/{id}/policy with the Copilot token, COPILOT_HEADERS, "openai-intent: chat-policy",
// "x-interaction-type: chat-policy" and the body {"state":"enabled"}.
TEST_F(CopilotModelsTest, SendsThePolicyRequestAsPiDoes) {
  ASSERT_TRUE(Enable().ok());
  std::vector<RecordedRequest> posts = server_.Requests(kCopilotModelPolicyPattern);
  ASSERT_EQ(posts.size(), 2u);
  std::vector<std::string> paths;
  for (const RecordedRequest& post : posts) {
    paths.push_back(post.path);
    EXPECT_EQ(post.method, "POST");
    EXPECT_EQ(post.headers.at("authorization"), "Bearer " + copilot_token_);
    EXPECT_EQ(post.headers.at("openai-intent"), "chat-policy");
    EXPECT_EQ(post.headers.at("x-interaction-type"), "chat-policy");
    EXPECT_EQ(post.headers.at("editor-version"), "vscode/1.107.0");
    EXPECT_EQ(post.headers.at("copilot-integration-id"), "vscode-chat");
    EXPECT_EQ(post.json_body, nlohmann::json({{"state", "enabled"}}));
  }
  EXPECT_THAT(paths, UnorderedElementsAre("/models/claude-sonnet-4/policy",
                                          "/models/grok-code-fast-1/policy"));
  std::vector<RecordedRequest> lists = server_.Requests(kCopilotModelsPath);
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0].method, "GET");
  EXPECT_EQ(lists[0].headers.at("authorization"), "Bearer " + copilot_token_);
}

TEST_F(CopilotModelsTest, ASecondRunEnablesNothing) {
  ASSERT_TRUE(Enable().ok());
  absl::StatusOr<CopilotModelPolicies> again = Enable();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_THAT(again->enabled, IsEmpty());
  EXPECT_THAT(again->failed, IsEmpty());
  EXPECT_EQ(again->listed, 5);
  EXPECT_EQ(server_.RequestCount(kCopilotModelPolicyPattern), 2);  // none more
}

TEST_F(CopilotModelsTest, AFailedListIsAnError) {
  server_.SetFault(kCopilotModelsPath, FaultSpec{Fault::kServerError});
  absl::StatusOr<CopilotModelPolicies> policies = Enable();
  EXPECT_TRUE(absl::IsUnavailable(policies.status())) << policies.status();
  EXPECT_EQ(server_.RequestCount(kCopilotModelPolicyPattern), 0);
  server_.SetFault(kCopilotModelsPath, FaultSpec{Fault::kGarbage});
  EXPECT_FALSE(Enable().ok());
}

TEST_F(CopilotModelsTest, FailedPolicyChangesAreReportedPerModel) {
  server_.SetFault(kCopilotModelPolicyPattern, FaultSpec{Fault::kServerError});
  absl::StatusOr<CopilotModelPolicies> policies = Enable();
  ASSERT_TRUE(policies.ok()) << policies.status();
  EXPECT_THAT(policies->enabled, IsEmpty());
  EXPECT_THAT(policies->failed, ElementsAre("claude-sonnet-4", "grok-code-fast-1"));
  EXPECT_EQ(server_.CopilotModelPolicyStates().at("claude-sonnet-4"), "unconfigured");

  // One failure does not stop the others.
  server_.SetFault(kCopilotModelPolicyPattern, FaultSpec{Fault::kServerError, 0, 1});
  policies = Enable();
  ASSERT_TRUE(policies.ok()) << policies.status();
  EXPECT_THAT(policies->failed, ElementsAre("claude-sonnet-4"));
  EXPECT_THAT(policies->enabled, ElementsAre("grok-code-fast-1"));
}

TEST_F(CopilotModelsTest, AnExpiredOrWrongTokenCannotListModels) {
  copilot_token_ = "tid=forged;exp=1;proxy-ep=proxy.individual.githubcopilot.com";
  absl::StatusOr<CopilotModelPolicies> policies = Enable();
  EXPECT_FALSE(policies.ok());
  EXPECT_EQ(std::string(policies.status().message()).find("forged"), std::string::npos);
}

// pi-mono packages/ai/src/utils/oauth/github-copilot.ts, getGitHubCopilotBaseUrl: the token's
// proxy-ep host with "proxy." turned into "api.", else https://copilot-api.<enterprise domain>,
// else https://api.individual.githubcopilot.com. authd.json's copilot_api_url wins over all.
TEST(CopilotApiBaseUrl, AnOverrideWinsWithoutItsTrailingSlash) {
  EXPECT_EQ(CopilotApiBaseUrl("tid=1;proxy-ep=proxy.individual.githubcopilot.com",
                              "ghe.example.com", "http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080");
  EXPECT_EQ(CopilotApiBaseUrl("", "", "https://copilot.internal.example//"),
            "https://copilot.internal.example");
}

TEST(CopilotApiBaseUrl, TheTokensProxyEndpointNamesTheApiHost) {
  EXPECT_EQ(
      CopilotApiBaseUrl("tid=1;exp=2;proxy-ep=proxy.individual.githubcopilot.com;8kp=1:ab", "", ""),
      "https://api.individual.githubcopilot.com");
  EXPECT_EQ(CopilotApiBaseUrl("tid=1;exp=2;proxy-ep=proxy.enterprise.githubcopilot.com;8kp=1:ab",
                              "ghe.example.com", ""),
            "https://api.enterprise.githubcopilot.com");
}

TEST(CopilotApiBaseUrl, AProxyEndpointThatIsNoPlainHostIsIgnored) {
  for (const char* token :
       {"tid=1;proxy-ep=proxy.evil.example/steal;8kp=1:ab",
        "tid=1;proxy-ep=user@proxy.evil.example;8kp=1:ab",
        "tid=1;proxy-ep=https://proxy.evil.example;8kp=1:ab",
        "tid=1;proxy-ep=proxy.evil.example?x=1;8kp=1:ab", "tid=1;proxy-ep=;8kp=1:ab"}) {
    EXPECT_EQ(CopilotApiBaseUrl(token, "", ""), "https://api.individual.githubcopilot.com")
        << token;
    EXPECT_EQ(CopilotApiBaseUrl(token, "ghe.example.com", ""),
              "https://copilot-api.ghe.example.com")
        << token;
  }
}

TEST(CopilotApiBaseUrl, WithoutAProxyEndpointTheEnterpriseHostOrTheDefault) {
  EXPECT_EQ(CopilotApiBaseUrl("tid=1;exp=2;8kp=1:ab", "ghe.example.com", ""),
            "https://copilot-api.ghe.example.com");
  EXPECT_EQ(CopilotApiBaseUrl("tid=1;exp=2;8kp=1:ab", "", ""),
            "https://api.individual.githubcopilot.com");
  EXPECT_EQ(CopilotApiBaseUrl("", "", ""), "https://api.individual.githubcopilot.com");
}

}  // namespace
}  // namespace operator_auth
