#include "daemon/oauth/code_assist_project.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/fake_oauth/fake_oauth_server.h"

namespace operator_auth {
namespace {

using testing::CodeAssistScenario;
using testing::CodeAssistState;
using testing::FakeOAuthServer;
using testing::Fault;
using testing::FaultSpec;
using ::testing::HasSubstr;
using testing::kCodeAssistLoadPath;
using testing::kCodeAssistOnboardPath;
using testing::kCodeAssistOperationPattern;
using ::testing::Not;
using testing::RecordedRequest;
using Json = nlohmann::json;

constexpr char kToken[] = "ya29.SECRET-code-assist-token";

class CodeAssistProjectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Start();
    server_.AddAccessToken(kToken);
  }

  absl::StatusOr<std::string> Discover(const std::string& user_project,
                                       const std::string& token = kToken) {
    CodeAssistQuery query;
    query.endpoint = server_.base_url();
    query.user_project = user_project;
    query.poll_interval = absl::Milliseconds(10);
    absl::StatusOr<std::string> project =
        DiscoverCodeAssistProject(token, query, [this](HttpRequest request, absl::string_view) {
          request.timeout = absl::Seconds(10);
          return http_.Send(request);
        });
    if (!project.ok()) {
      EXPECT_THAT(std::string(project.status().message()), Not(HasSubstr(token)));
      EXPECT_THAT(std::string(project.status().message()), Not(HasSubstr("SECRET")));
    }
    return project;
  }

  // The JSON body of the only request recorded under `path`.
  Json OnlyBody(const std::string& path) {
    std::vector<RecordedRequest> requests = server_.Requests(path);
    EXPECT_EQ(requests.size(), 1u) << path;
    return requests.empty() ? Json() : requests[0].json_body;
  }

  FakeOAuthServer server_;
  CurlHttpClient http_;
};

// gemini-cli packages/core/src/code_assist/setup.ts (coreClientMetadata): every call carries
// {ideType: IDE_UNSPECIFIED, platform: PLATFORM_UNSPECIFIED, pluginType: GEMINI}.
void ExpectGeminiCliMetadata(const Json& body) {
  ASSERT_TRUE(body.contains("metadata")) << body;
  EXPECT_EQ(body["metadata"]["ideType"], "IDE_UNSPECIFIED");
  EXPECT_EQ(body["metadata"]["platform"], "PLATFORM_UNSPECIFIED");
  EXPECT_EQ(body["metadata"]["pluginType"], "GEMINI");
}

TEST_F(CodeAssistProjectTest, AnOnboardedAccountAnswersWithItsProject) {
  server_.SetCodeAssistScenario(CodeAssistScenario::kExistingProject);
  absl::StatusOr<std::string> project = Discover("");
  ASSERT_TRUE(project.ok()) << project.status();
  EXPECT_EQ(*project, CodeAssistState::kExistingProjectId);
  EXPECT_EQ(server_.RequestCount(kCodeAssistLoadPath), 1);
  EXPECT_EQ(server_.RequestCount(kCodeAssistOnboardPath), 0);
  const Json load = OnlyBody(kCodeAssistLoadPath);
  ExpectGeminiCliMetadata(load);
  // No project of the user's: none is sent (gemini-cli leaves it undefined).
  EXPECT_FALSE(load.contains("cloudaicompanionProject")) << load;
  EXPECT_FALSE(load["metadata"].contains("duetProject")) << load;
}

TEST_F(CodeAssistProjectTest, EveryRequestCarriesTheBearerToken) {
  absl::StatusOr<std::string> project = Discover("");
  ASSERT_TRUE(project.ok()) << project.status();
  for (const char* path :
       {kCodeAssistLoadPath, kCodeAssistOnboardPath, kCodeAssistOperationPattern}) {
    std::vector<RecordedRequest> requests = server_.Requests(path);
    ASSERT_FALSE(requests.empty()) << path;
    for (const RecordedRequest& r : requests) {
      EXPECT_EQ(r.headers.at("authorization"), std::string("Bearer ") + kToken) << path;
    }
  }
}

TEST_F(CodeAssistProjectTest, AFreeTierAccountIsOnboardedWithoutAProjectAndPolledUntilDone) {
  server_.SetCodeAssistScenario(CodeAssistScenario::kFreeTierOnboard);
  server_.SetCodeAssistOperationPendingPolls(3);
  // Even with a project of the user's own: gemini-cli setup.ts sends none for free-tier ("free
  // tier uses a managed google cloud project. Setting a project ... causes a `Precondition
  // Failed` error"), and the fake answers FAILED_PRECONDITION if one is sent.
  absl::StatusOr<std::string> project = Discover("my-own-project");
  ASSERT_TRUE(project.ok()) << project.status();
  EXPECT_EQ(*project, CodeAssistState::kFreeTierProjectId);

  const Json onboard = OnlyBody(kCodeAssistOnboardPath);
  EXPECT_EQ(onboard["tierId"], "free-tier");
  EXPECT_FALSE(onboard.contains("cloudaicompanionProject")) << onboard;
  ExpectGeminiCliMetadata(onboard);
  EXPECT_FALSE(onboard["metadata"].contains("duetProject")) << onboard;
  // Three done:false answers, then the done one: four polls, GET /v1internal/<operation name>.
  std::vector<RecordedRequest> polls = server_.Requests(kCodeAssistOperationPattern);
  ASSERT_EQ(polls.size(), 4u);
  for (const RecordedRequest& poll : polls) {
    EXPECT_EQ(poll.method, "GET");
    EXPECT_EQ(poll.path, "/v1internal/operations/onboard-1");
  }
}

TEST_F(CodeAssistProjectTest, OnboardingThatNeverFinishesIsGivenUpAfterBoundedPolls) {
  server_.SetCodeAssistOperationPendingPolls(1000);
  absl::StatusOr<std::string> project = Discover("");
  EXPECT_TRUE(absl::IsDeadlineExceeded(project.status())) << project.status();
  EXPECT_EQ(server_.RequestCount(kCodeAssistOperationPattern), kMaxCodeAssistPolls);
}

TEST_F(CodeAssistProjectTest, AStandardTierAccountWithoutAProjectIsToldToSetOne) {
  server_.SetCodeAssistScenario(CodeAssistScenario::kStandardTierNeedsProject);
  absl::StatusOr<std::string> project = Discover("");
  EXPECT_TRUE(absl::IsFailedPrecondition(project.status())) << project.status();
  EXPECT_THAT(std::string(project.status().message()), HasSubstr("GOOGLE_CLOUD_PROJECT"));
}

TEST_F(CodeAssistProjectTest, AStandardTierAccountUsesTheUsersProject) {
  server_.SetCodeAssistScenario(CodeAssistScenario::kStandardTierNeedsProject);
  absl::StatusOr<std::string> project = Discover("my-proj");
  ASSERT_TRUE(project.ok()) << project.status();
  EXPECT_EQ(*project, "my-proj");
  // gemini-cli setup.ts: loadCodeAssist({cloudaicompanionProject: projectId,
  // metadata: {...coreClientMetadata, duetProject: projectId}}), and the same for a non-free
  // tier's onboardUser.
  for (const char* path : {kCodeAssistLoadPath, kCodeAssistOnboardPath}) {
    const Json body = OnlyBody(path);
    EXPECT_EQ(body["cloudaicompanionProject"], "my-proj") << path << ": " << body;
    ExpectGeminiCliMetadata(body);
    EXPECT_EQ(body["metadata"]["duetProject"], "my-proj") << path << ": " << body;
  }
  EXPECT_EQ(OnlyBody(kCodeAssistOnboardPath)["tierId"], "standard-tier");
}

TEST_F(CodeAssistProjectTest, AnIneligibleAccountGetsTheServersReasonsSanitized) {
  server_.SetCodeAssistScenario(CodeAssistScenario::kIneligible);
  absl::StatusOr<std::string> project = Discover("");
  EXPECT_TRUE(absl::IsPermissionDenied(project.status())) << project.status();
  const std::string message(project.status().message());
  EXPECT_THAT(message, HasSubstr("Your current account is not eligible for Gemini Code Assist"));
  EXPECT_EQ(message.find('\x1b'), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.find('\r'), std::string::npos) << message;
  EXPECT_EQ(server_.RequestCount(kCodeAssistOnboardPath), 0);
}

TEST_F(CodeAssistProjectTest, AnIneligibleAccountWithItsOwnProjectUsesThatProject) {
  server_.SetCodeAssistScenario(CodeAssistScenario::kIneligible);
  absl::StatusOr<std::string> project = Discover("users-own-proj");
  ASSERT_TRUE(project.ok()) << project.status();
  EXPECT_EQ(*project, "users-own-proj");
}

TEST_F(CodeAssistProjectTest, AServerErrorIsTransient) {
  server_.SetFault(kCodeAssistLoadPath, FaultSpec{Fault::kServerError});
  absl::StatusOr<std::string> project = Discover("");
  EXPECT_TRUE(absl::IsUnavailable(project.status())) << project.status();
  EXPECT_THAT(std::string(project.status().message()), HasSubstr("HTTP 500"));
  EXPECT_EQ(server_.RequestCount(kCodeAssistOnboardPath), 0);
}

TEST_F(CodeAssistProjectTest, AServerErrorWhilePollingIsTransient) {
  server_.SetFault(kCodeAssistOperationPattern, FaultSpec{Fault::kServerError});
  absl::StatusOr<std::string> project = Discover("");
  EXPECT_TRUE(absl::IsUnavailable(project.status())) << project.status();
  EXPECT_EQ(server_.RequestCount(kCodeAssistOperationPattern), 1);
}

TEST_F(CodeAssistProjectTest, AnUnreadableReplyIsTransient) {
  server_.SetFault(kCodeAssistLoadPath, FaultSpec{Fault::kGarbage});
  absl::StatusOr<std::string> project = Discover("");
  EXPECT_TRUE(absl::IsUnavailable(project.status())) << project.status();
}

TEST_F(CodeAssistProjectTest, ARefusedTokenFailsWithoutQuotingIt) {
  const std::string unknown = "ya29.SECRET-token-the-server-never-issued";
  absl::StatusOr<std::string> project = Discover("", unknown);
  ASSERT_FALSE(project.ok());
  EXPECT_THAT(std::string(project.status().message()), HasSubstr("HTTP 401"));
  // Discover() checked that neither token is in the message.
}

TEST_F(CodeAssistProjectTest, AnUnreachableEndpointIsTransient) {
  server_.Stop();
  absl::StatusOr<std::string> project = Discover("");
  EXPECT_TRUE(absl::IsUnavailable(project.status())) << project.status();
}

}  // namespace
}  // namespace operator_auth
