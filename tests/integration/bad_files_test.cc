// Malformed credential files at start and while running: empty, a byte order mark, truncated,
// wrong types, deeply nested, 100 MB, not UTF-8. The daemon stays up, says clearly what is wrong
// (without quoting the file), serves what does not need the file, and never rewrites it.
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/daemon_fixture.h"

namespace operator_auth::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct BadFile {
  std::string name;
  std::string content;
  std::string expected_error;  // a phrase of the error the daemon reports
};

std::vector<BadFile> BadFiles() {
  return {
      {"empty", "", "empty"},
      {"whitespace", " \n\t\n", "empty"},
      {"byte order mark",
       "\xEF\xBB\xBF{\"openai\": {\"type\": \"api_key\", \"key\": \"sk-bom-1\"}}",
       "byte order mark"},
      {"truncated", "{\"openai\": {\"type\": \"api_key\", \"key\": \"sk-truncated-2",
       "not valid JSON"},
      {"top level array", "[{\"key\": \"sk-array-3\"}]", "not a JSON object"},
      {"top level string", "\"sk-string-4\"", "not a JSON object"},
      {"top level null", "null", "not a JSON object"},
      {"deeply nested", "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}",
       "nested deeper"},
      {"not UTF-8", "{\"openai\": {\"type\": \"api_key\", \"key\": \"sk-\xff\xfe-5\"}}",
       "not valid JSON"},
      {"100 MB", "{\"pad\": \"" + std::string(100 * 1024 * 1024, 'x') + "\"}", "over the limit"},
  };
}

class BadFilesTest : public DaemonTest {
 protected:
  std::string channels_path() const { return daemon_.auth_dir() + "/channels.json"; }

  // The daemon reports `bad` in both files, refuses to write either, and leaves both as they are.
  void ExpectReportedAndUntouched(const BadFile& bad) {
    SCOPED_TRACE(bad.name);
    ASSERT_TRUE(daemon_.running());
    absl::StatusOr<v1::AuthStatus> status = client_->GetAuthStatus("openai");
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_THAT(status->storage_error(), HasSubstr(bad.expected_error));
    EXPECT_THAT(status->storage_error(), Not(HasSubstr("sk-")));
    absl::StatusOr<v1::ListChannelsResponse> channels = client_->ListChannels();
    ASSERT_TRUE(channels.ok()) << channels.status();
    EXPECT_THAT(channels->channels(0).storage_error(), HasSubstr(bad.expected_error));

    // The environment still serves.
    absl::StatusOr<ApiKey> env_key = client_->GetApiKey("mistral");
    ASSERT_TRUE(env_key.ok()) << env_key.status();
    EXPECT_EQ(env_key->key, "mistral-from-env");

    absl::StatusOr<v1::SetApiKeyResponse> set = client_->SetApiKey("openai", "sk-new");
    EXPECT_EQ(set.status().code(), absl::StatusCode::kFailedPrecondition) << set.status();
    absl::StatusOr<v1::SetChannelResponse> set_channel =
        client_->SetChannel("discord", {{"bot_token", "d-new"}});
    EXPECT_EQ(set_channel.status().code(), absl::StatusCode::kFailedPrecondition);

    EXPECT_TRUE(ReadFileOrDie(daemon_.providers_path()) == bad.content)
        << "providers.json was rewritten";
    EXPECT_TRUE(ReadFileOrDie(channels_path()) == bad.content) << "channels.json was rewritten";
    EXPECT_EQ(Ctl({"daemon", "status"}).exit_code, 1);
  }

  void SetUp() override {
    daemon_.SetEnv("MISTRAL_API_KEY", "mistral-from-env");
    DaemonTest::SetUp();
  }
};

TEST_F(BadFilesTest, AtStartTheDaemonStaysUpReportsAndNeverRewrites) {
  for (const BadFile& bad : BadFiles()) {
    daemon_.Stop();
    WriteFileOrDie(daemon_.providers_path(), bad.content);
    WriteFileOrDie(channels_path(), bad.content);
    ASSERT_TRUE(daemon_.Start().ok()) << bad.name << ": " << daemon_.Log();
    client_ = NewClient();
    ExpectReportedAndUntouched(bad);
  }
  EXPECT_THAT(daemon_.Log(), Not(HasSubstr("sk-bom-1")));
  EXPECT_THAT(daemon_.Log(), Not(HasSubstr("sk-truncated-2")));
  EXPECT_THAT(daemon_.Log(), Not(HasSubstr("sk-array-3")));
}

TEST_F(BadFilesTest, WhileRunningAGoodFileTurnedBadIsReportedAndRecovers) {
  ASSERT_TRUE(client_->SetApiKey("openai", "sk-good").ok());
  ASSERT_TRUE(client_->SetChannel("telegram", {{"bot_token", "tg-good"}}).ok());
  for (const BadFile& bad : BadFiles()) {
    WriteFileOrDie(daemon_.providers_path(), bad.content);
    WriteFileOrDie(channels_path(), bad.content);
    ExpectReportedAndUntouched(bad);
    // providers.json keeps serving what it last held; channels.json serves nothing from the file.
    absl::StatusOr<ApiKey> key = client_->GetApiKey("openai");
    ASSERT_TRUE(key.ok()) << bad.name << ": " << key.status();
    EXPECT_EQ(key->key, "sk-good");
  }
  WriteFileOrDie(daemon_.providers_path(), R"({"openai": {"type": "api_key", "key": "sk-fixed"}})");
  WriteFileOrDie(channels_path(), "{}");
  EXPECT_EQ(client_->GetApiKey("openai")->key, "sk-fixed");
  EXPECT_TRUE(client_->SetChannel("discord", {{"bot_token", "d"}}).ok());
  EXPECT_EQ(Ctl({"daemon", "status"}).exit_code, 0);
}

TEST_F(BadFilesTest, AnEntryOfTheWrongTypeIsReportedAndKeptThroughOtherWrites) {
  const std::string odd = R"({"openai": {"type": "api_key", "key": 42}, "x": 7})";
  WriteFileOrDie(daemon_.providers_path(), odd);
  absl::StatusOr<v1::AuthStatus> status = client_->GetAuthStatus("openai");
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->configured());
  EXPECT_EQ(status->stored_type(), v1::STORED_CREDENTIAL_TYPE_API_KEY);
  ASSERT_TRUE(client_->SetApiKey("groq", "gsk-1").ok());
  nlohmann::json file = nlohmann::json::parse(ReadFileOrDie(daemon_.providers_path()));
  EXPECT_EQ(file["openai"]["key"], 42);
  EXPECT_EQ(file["x"], 7);
}

}  // namespace
}  // namespace operator_auth::testing
