#include "daemon/core/channel_auth_manager.h"

#include <sys/stat.h>

#include <map>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.h"

namespace operator_auth {
namespace {

using testing::FileMode;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::PathExists;
using testing::ReadFileOrDie;
using testing::TempDir;
using testing::WriteFileOrDie;
using Json = nlohmann::ordered_json;

class ChannelAuthManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    manager_.reset();
    absl::StatusOr<std::unique_ptr<ChannelsFile>> file = OpenChannelsFile(auth_dir());
    ASSERT_TRUE(file.ok()) << file.status();
    file_ = *std::move(file);
    manager_ = std::make_unique<ChannelAuthManager>(
        *file_, [this](const std::string& name) -> std::optional<std::string> {
          auto it = env_.find(name);
          if (it == env_.end()) return std::nullopt;
          return it->second;
        });
  }

  std::string auth_dir() const { return dir_.Sub("auth"); }
  std::string path() const { return dir_.Sub("auth/channels.json"); }
  Json ReadJson() const { return Json::parse(ReadFileOrDie(path())); }

  const ChannelFieldState& Field(const ChannelState& state, const std::string& name) {
    for (const ChannelFieldState& f : state.fields) {
      if (f.field == name) return f;
    }
    ADD_FAILURE() << "no field " << name;
    return state.fields.front();
  }

  TempDir dir_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<ChannelsFile> file_;
  std::unique_ptr<ChannelAuthManager> manager_;
};

TEST_F(ChannelAuthManagerTest, ListsAllFiveChannelsUnconfiguredOnAFreshHome) {
  std::vector<ChannelState> channels = manager_->List();
  std::vector<std::string> names;
  for (const ChannelState& c : channels) {
    names.push_back(c.channel);
    EXPECT_FALSE(c.configured) << c.channel;
    for (const ChannelFieldState& f : c.fields) {
      EXPECT_EQ(f.source, ChannelValueSource::kNone);
      EXPECT_TRUE(f.value.empty());
    }
  }
  EXPECT_THAT(names, ::testing::ElementsAre("telegram", "discord", "slack", "twitch", "email"));
  EXPECT_FALSE(PathExists(path())) << "listing must not create the file";
}

TEST_F(ChannelAuthManagerTest, SetWritesAllSectionsPrivatelyAndResolvesFromTheFile) {
  absl::StatusOr<bool> changed = manager_->Set("telegram", {{"bot_token", "tg-secret-1"}});
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(FileMode(path()), 0600);
  EXPECT_EQ(FileMode(auth_dir()), 0700);
  EXPECT_TRUE(PathExists(dir_.Sub("auth/channels.lock")));
  Json json = ReadJson();
  EXPECT_EQ(json["telegram"]["bot_token"], "tg-secret-1");
  EXPECT_EQ(json["discord"], Json({{"bot_token", ""}}));
  EXPECT_EQ(json["slack"], Json({{"bot_token", ""}, {"app_token", ""}}));
  EXPECT_EQ(json["twitch"], Json({{"token", ""}}));
  EXPECT_EQ(json["email"], Json({{"username", ""}, {"password", ""}}));

  absl::StatusOr<ChannelState> got = manager_->Get("telegram");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->configured);
  EXPECT_EQ(Field(*got, "bot_token").value, "tg-secret-1");
  EXPECT_EQ(Field(*got, "bot_token").source, ChannelValueSource::kFile);

  absl::StatusOr<bool> again = manager_->Set("telegram", {{"bot_token", "tg-secret-1"}});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again) << "the same value is not a change";
}

TEST_F(ChannelAuthManagerTest, EnvironmentFillsEmptyFieldsAndIsNeverWritten) {
  env_["SLACK_APP_TOKEN"] = "xapp-env-secret";
  env_["EMAIL_PASSWORD"] = "env-password";
  ASSERT_TRUE(manager_->Set("slack", {{"bot_token", "xoxb-file"}}).ok());
  ASSERT_TRUE(manager_->Set("email", {{"username", "bot@example.com"}}).ok());

  absl::StatusOr<ChannelState> slack = manager_->Get("slack");
  ASSERT_TRUE(slack.ok());
  EXPECT_TRUE(slack->configured);
  EXPECT_EQ(Field(*slack, "bot_token").source, ChannelValueSource::kFile);
  EXPECT_EQ(Field(*slack, "app_token").source, ChannelValueSource::kEnv);
  EXPECT_EQ(Field(*slack, "app_token").value, "xapp-env-secret");
  EXPECT_EQ(Field(*slack, "app_token").env_var, "SLACK_APP_TOKEN");

  std::string text = ReadFileOrDie(path());
  EXPECT_THAT(text, Not(HasSubstr("xapp-env-secret")));
  EXPECT_THAT(text, Not(HasSubstr("env-password")));
  EXPECT_EQ(ReadJson()["slack"]["app_token"], "");

  // A file value wins over the environment.
  ASSERT_TRUE(manager_->Set("slack", {{"app_token", "xapp-file"}}).ok());
  EXPECT_EQ(Field(*manager_->Get("slack"), "app_token").value, "xapp-file");
}

TEST_F(ChannelAuthManagerTest, PartialUpdateKeepsOtherFieldsAndUnknownContent) {
  WriteFileOrDie(path(), R"({
  "custom_first": {"x": 1},
  "slack": {"bot_token": "xoxb-old", "app_token": "xapp-old", "team": "T123"},
  "email": {"username": "a@example.com", "password": "pw", "smtp_host": "smtp.example.com"}
})");
  ASSERT_TRUE(manager_->Set("slack", {{"app_token", "xapp-new"}}).ok());
  Json json = ReadJson();
  EXPECT_EQ(json.begin().key(), "custom_first") << "order of entries is kept";
  EXPECT_EQ(json["custom_first"], Json({{"x", 1}}));
  EXPECT_EQ(json["slack"]["bot_token"], "xoxb-old");
  EXPECT_EQ(json["slack"]["app_token"], "xapp-new");
  EXPECT_EQ(json["slack"]["team"], "T123");
  EXPECT_EQ(json["email"]["smtp_host"], "smtp.example.com");

  absl::StatusOr<bool> unset = manager_->Unset("email");
  ASSERT_TRUE(unset.ok());
  EXPECT_TRUE(*unset);
  json = ReadJson();
  EXPECT_EQ(json["email"]["username"], "");
  EXPECT_EQ(json["email"]["password"], "");
  EXPECT_EQ(json["email"]["smtp_host"], "smtp.example.com");
  EXPECT_FALSE(manager_->Get("email")->configured);
  absl::StatusOr<bool> again = manager_->Unset("email");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST_F(ChannelAuthManagerTest, ValidatesBeforeWritingAnything) {
  ASSERT_TRUE(manager_->Set("discord", {{"bot_token", "d-1"}}).ok());
  const std::string before = ReadFileOrDie(path());

  absl::StatusOr<bool> unknown_channel = manager_->Set("matrix", {{"token", "x"}});
  EXPECT_EQ(unknown_channel.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown_channel.status().message(), HasSubstr("telegram"));

  absl::StatusOr<ChannelState> bad_name = manager_->Get("te\nlegram");
  EXPECT_EQ(bad_name.status().code(), absl::StatusCode::kInvalidArgument);

  absl::StatusOr<bool> unknown_field =
      manager_->Set("slack", {{"bot_token", "fine"}, {"webhook", "x"}});
  EXPECT_EQ(unknown_field.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown_field.status().message(), HasSubstr("app_token"));

  absl::StatusOr<bool> secret_as_field = manager_->Set("slack", {{"xoxb-1234.5678", "x"}});
  EXPECT_THAT(secret_as_field.status().message(), Not(HasSubstr("xoxb-1234.5678")));
  absl::StatusOr<ChannelState> token_as_channel = manager_->Get("xoxb-1234-abcd");
  EXPECT_EQ(token_as_channel.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(token_as_channel.status().message(), Not(HasSubstr("xoxb")));

  absl::StatusOr<bool> control = manager_->Set("discord", {{"bot_token", "a\nb"}});
  EXPECT_EQ(control.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(control.status().message(), HasSubstr("discord bot_token"));

  absl::StatusOr<bool> empty_value = manager_->Set("discord", {{"bot_token", ""}});
  EXPECT_EQ(empty_value.status().code(), absl::StatusCode::kInvalidArgument);

  absl::StatusOr<bool> nothing = manager_->Set("discord", {});
  EXPECT_EQ(nothing.status().code(), absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(ReadFileOrDie(path()), before);
}

TEST_F(ChannelAuthManagerTest, UnparseableFileServesEnvironmentOnlyAndIsNeverWritten) {
  ASSERT_TRUE(manager_->Set("telegram", {{"bot_token", "tg-file"}}).ok());
  env_["TELEGRAM_BOT_TOKEN"] = "tg-env";
  const std::string broken = "{\"telegram\": {\"bot_token\": \"tg-broken-secret\"";
  WriteFileOrDie(path(), broken);

  absl::StatusOr<ChannelState> got = manager_->Get("telegram");
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(got->storage_error, HasSubstr("not valid JSON"));
  EXPECT_THAT(got->storage_error, Not(HasSubstr("tg-broken-secret")));
  EXPECT_EQ(Field(*got, "bot_token").source, ChannelValueSource::kEnv)
      << "a broken file serves no file values, not even the last good ones";
  EXPECT_EQ(Field(*got, "bot_token").value, "tg-env");

  absl::StatusOr<bool> set = manager_->Set("discord", {{"bot_token", "d"}});
  EXPECT_EQ(set.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(set.status().message(), HasSubstr("fix or remove"));
  EXPECT_EQ(manager_->Unset("telegram").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadFileOrDie(path()), broken);

  std::vector<StorageError> errors = manager_->DrainErrors();
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.front().file, path());

  // Fixed by hand: served again and writable.
  WriteFileOrDie(path(), R"({"telegram": {"bot_token": "tg-fixed"}})");
  got = manager_->Get("telegram");
  EXPECT_TRUE(got->storage_error.empty());
  EXPECT_EQ(Field(*got, "bot_token").value, "tg-fixed");
  EXPECT_TRUE(manager_->Set("discord", {{"bot_token", "d"}}).ok());
}

TEST_F(ChannelAuthManagerTest, ASectionOfTheWrongTypeIsReportedAndKept) {
  WriteFileOrDie(path(), R"({"twitch": "oauth:legacy", "telegram": {"bot_token": 42}})");
  std::vector<ChannelState> channels = manager_->List();
  EXPECT_EQ(channels[3].channel, "twitch");
  EXPECT_THAT(channels[3].problem, HasSubstr("not a JSON object"));
  EXPECT_THAT(channels[0].problem, HasSubstr("\"bot_token\" is not a string"));

  absl::StatusOr<bool> set = manager_->Set("twitch", {{"token", "oauth:new"}});
  EXPECT_EQ(set.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadJson()["twitch"], "oauth:legacy");
  // Other channels can still be set, and the odd section survives.
  ASSERT_TRUE(manager_->Set("discord", {{"bot_token", "d"}}).ok());
  EXPECT_EQ(ReadJson()["twitch"], "oauth:legacy");
}

TEST_F(ChannelAuthManagerTest, ExternalEditsAreSeenAndSurviveOurWrites) {
  ASSERT_TRUE(manager_->Set("telegram", {{"bot_token", "tg-1"}}).ok());
  Json json = ReadJson();
  json["discord"]["bot_token"] = "d-external";
  WriteFileOrDie(path(), json.dump());
  EXPECT_EQ(Field(*manager_->Get("discord"), "bot_token").value, "d-external");
  ASSERT_TRUE(manager_->Set("twitch", {{"token", "tw"}}).ok());
  json = ReadJson();
  EXPECT_EQ(json["discord"]["bot_token"], "d-external");
  EXPECT_EQ(json["telegram"]["bot_token"], "tg-1");
}

TEST_F(ChannelAuthManagerTest, ModesArePrivateEvenWhenTheFileWasLoose) {
  ASSERT_EQ(mkdir(auth_dir().c_str(), 0755) == 0 || errno == EEXIST, true);
  chmod(auth_dir().c_str(), 0755);
  WriteFileOrDie(path(), "{}");
  chmod(path().c_str(), 0644);
  Reopen();
  manager_->List();
  EXPECT_EQ(FileMode(path()), 0600);
  EXPECT_EQ(FileMode(auth_dir()), 0700);
}

}  // namespace
}  // namespace operator_auth
