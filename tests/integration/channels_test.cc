// Channel credentials end to end: the real daemon's ChannelService through the C++ client and
// operatorctl, channels.json on disk, environment fallback, a broken file, and py-filelock.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "tests/integration/daemon_fixture.h"

namespace operator_auth::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

class ChannelsTest : public DaemonTest {
 protected:
  std::string channels_path() const { return daemon_.auth_dir() + "/channels.json"; }

  std::vector<std::string> PyChannelsArgv(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {AUTHD_PYTHON3, AUTHD_PY_CHANNELS_WRITER, daemon_.auth_dir()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  static const v1::ChannelField& Field(const v1::ChannelInfo& channel, const std::string& name) {
    for (const v1::ChannelField& f : channel.fields()) {
      if (f.name() == name) return f;
    }
    ADD_FAILURE() << "no field " << name;
    return channel.fields(0);
  }
};

TEST_F(ChannelsTest, CliSetShowListUnsetRoundTrip) {
  ProcessResult set = Ctl({"channels", "set", "slack", "--bot-token", "-"}, "xoxb-cli-secret\n");
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_THAT(set.out + set.err, Not(HasSubstr("xoxb-cli-secret")));
  ASSERT_EQ(Ctl({"channels", "set", "slack", "--app-token", "xapp-cli-secret"}).exit_code, 0);

  Json file = Json::parse(ReadFileOrDie(channels_path()));
  EXPECT_EQ(file["slack"]["bot_token"], "xoxb-cli-secret");
  EXPECT_EQ(file["slack"]["app_token"], "xapp-cli-secret");
  for (const char* section : {"telegram", "discord", "slack", "twitch", "email"}) {
    EXPECT_TRUE(file[section].is_object()) << section;
  }
  EXPECT_EQ(FileMode(channels_path()), 0600);
  EXPECT_EQ(FileMode(daemon_.auth_dir() + "/channels.lock"), 0600);

  ProcessResult show = Ctl({"channels", "show", "slack"});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("configured (channels.json)"));
  EXPECT_THAT(show.out, Not(HasSubstr("xoxb-cli-secret")));
  ProcessResult reveal = Ctl({"channels", "show", "slack", "--reveal", "--json"});
  ASSERT_EQ(reveal.exit_code, 0) << reveal.err;
  Json shown = Json::parse(reveal.out);
  EXPECT_EQ(shown["fields"][0]["value"], "xoxb-cli-secret");
  EXPECT_EQ(shown["fields"][1]["value"], "xapp-cli-secret");

  ProcessResult list = Ctl({"channels", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, Not(HasSubstr("cli-secret")));
  Json listed = Json::parse(list.out);
  ASSERT_EQ(listed["channels"].size(), 5u);
  EXPECT_EQ(listed["channels"][2]["name"], "slack");
  EXPECT_EQ(listed["channels"][2]["configured"], true);
  EXPECT_EQ(listed["channels"][0]["configured"], false);
  EXPECT_EQ(listed["channels"][0]["fields"][0]["env_var"], "TELEGRAM_BOT_TOKEN");

  ProcessResult not_configured = Ctl({"channels", "show", "twitch"});
  EXPECT_EQ(not_configured.exit_code, 1);

  ProcessResult unset = Ctl({"channels", "unset", "slack"});
  ASSERT_EQ(unset.exit_code, 0) << unset.err;
  EXPECT_THAT(unset.out, HasSubstr("Cleared"));
  EXPECT_EQ(Ctl({"channels", "show", "slack"}).exit_code, 1);
  EXPECT_THAT(ReadFileOrDie(channels_path()), Not(HasSubstr("cli-secret")));
}

TEST_F(ChannelsTest, BadInputGetsClearErrorsAndWritesNothing) {
  ASSERT_TRUE(client_->SetChannel("discord", {{"bot_token", "d-1"}}).ok());
  const std::string before = ReadFileOrDie(channels_path());

  EXPECT_EQ(client_->GetChannel("matrix").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->SetChannel("slack", {{"webhook", "x"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->SetChannel("slack", {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->SetChannel("email", {{"password", "a\nb"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->SetChannel("email", {{"password", std::string(70000, 'p')}}).status().code(),
            absl::StatusCode::kResourceExhausted)
      << "over the daemon's 64 KiB request limit";
  EXPECT_EQ(client_->SetChannel("email", {{"password", std::string(9000, 'p')}}).status().code(),
            absl::StatusCode::kInvalidArgument);

  ProcessResult unknown = Ctl({"channels", "show", "matrix"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("telegram, discord, slack, twitch, email"));
  ProcessResult wrong_field = Ctl({"channels", "set", "telegram", "--app-token", "x"});
  EXPECT_EQ(wrong_field.exit_code, 2);
  EXPECT_THAT(wrong_field.err, HasSubstr("bot_token"));
  ProcessResult no_fields = Ctl({"channels", "set", "telegram"});
  EXPECT_EQ(no_fields.exit_code, 2);
  ProcessResult stray = Ctl({"channels", "set", "telegram", "123456:stray-secret"});
  EXPECT_EQ(stray.exit_code, 2);
  EXPECT_THAT(stray.err, Not(HasSubstr("stray-secret")));

  EXPECT_EQ(ReadFileOrDie(channels_path()), before);
}

TEST_F(ChannelsTest, DaemonEnvironmentFillsFieldsAndIsNeverWritten) {
  daemon_.Stop();
  daemon_.SetEnv("SLACK_APP_TOKEN", "xapp-env-only");
  daemon_.SetEnv("TELEGRAM_BOT_TOKEN", "tg-env-only");
  ASSERT_TRUE(daemon_.Start().ok()) << daemon_.Log();
  client_ = NewClient();

  ASSERT_TRUE(client_->SetChannel("slack", {{"bot_token", "xoxb-file"}}).ok());
  absl::StatusOr<v1::GetChannelResponse> slack = client_->GetChannel("slack");
  ASSERT_TRUE(slack.ok()) << slack.status();
  EXPECT_TRUE(slack->channel().configured());
  EXPECT_EQ(Field(slack->channel(), "bot_token").source(), v1::CHANNEL_VALUE_SOURCE_FILE);
  EXPECT_EQ(Field(slack->channel(), "app_token").source(), v1::CHANNEL_VALUE_SOURCE_ENV);
  EXPECT_EQ(Field(slack->channel(), "app_token").value(), "xapp-env-only");

  ProcessResult unset = Ctl({"channels", "unset", "telegram"});
  EXPECT_THAT(unset.out, HasSubstr("TELEGRAM_BOT_TOKEN in the daemon's environment"));
  ASSERT_TRUE(client_->SetChannel("email", {{"username", "bot@example.com"}}).ok());

  const std::string text = ReadFileOrDie(channels_path());
  EXPECT_THAT(text, Not(HasSubstr("env-only")));
  EXPECT_EQ(Json::parse(text)["slack"]["app_token"], "");
}

TEST_F(ChannelsTest, UnparseableFileIsReportedServedFromEnvAndNeverRewritten) {
  daemon_.Stop();
  const std::string broken = "{\"telegram\": {\"bot_token\": \"tg-in-broken-file\"}";
  WriteFileOrDie(channels_path(), broken);
  daemon_.SetEnv("DISCORD_BOT_TOKEN", "d-env");
  daemon_.SetLogLevel("trace");
  ASSERT_TRUE(daemon_.Start().ok()) << daemon_.Log();
  client_ = NewClient();

  absl::StatusOr<v1::ListChannelsResponse> list = client_->ListChannels();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->channels(0).storage_error(), HasSubstr("not valid JSON"));
  EXPECT_FALSE(list->channels(0).configured());
  EXPECT_TRUE(list->channels(1).configured()) << "the environment still serves";

  absl::StatusOr<v1::SetChannelResponse> set = client_->SetChannel("twitch", {{"token", "t"}});
  EXPECT_EQ(set.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(set.status().message(), HasSubstr("fix or remove"));
  ProcessResult cli = Ctl({"channels", "unset", "telegram"});
  EXPECT_EQ(cli.exit_code, 4);
  EXPECT_EQ(ReadFileOrDie(channels_path()), broken);

  ProcessResult status = Ctl({"daemon", "status"});
  EXPECT_EQ(status.exit_code, 1) << status.out;
  EXPECT_THAT(status.out, HasSubstr("UNHEALTHY"));
  EXPECT_THAT(status.out, HasSubstr("channels.json"));

  EXPECT_THAT(daemon_.Log(), Not(HasSubstr("tg-in-broken-file")));
  EXPECT_THAT(daemon_.Log(), Not(HasSubstr("d-env")));

  // Fixed by hand: loads again without a restart, and writes work.
  WriteFileOrDie(channels_path(), R"({"telegram": {"bot_token": "tg-fixed"}})");
  EXPECT_TRUE(client_->SetChannel("twitch", {{"token", "t"}}).ok());
  EXPECT_EQ(Json::parse(ReadFileOrDie(channels_path()))["telegram"]["bot_token"], "tg-fixed");
  EXPECT_EQ(Ctl({"daemon", "status"}).exit_code, 0);
}

TEST_F(ChannelsTest, SetWaitsForPythonHoldingChannelsLockAndKeepsItsWrite) {
  ASSERT_TRUE(client_->SetChannel("discord", {{"bot_token", "d-seed"}}).ok());
  ProcessOptions options;
  options.stdin_data = "tg-from-python";
  ChildProcess python(PyChannelsArgv({"hold", "1.0", "telegram", "bot_token"}), options);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (python.PeekStdout().find("locked") == std::string::npos && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_THAT(python.PeekStdout(), HasSubstr("locked"));
  const absl::Time start = absl::Now();
  ASSERT_TRUE(client_->SetChannel("twitch", {{"token", "tw-daemon"}}).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(500)) << "the write did not wait for the lock";
  EXPECT_EQ(python.Wait().exit_code, 0);

  Json file = Json::parse(ReadFileOrDie(channels_path()));
  EXPECT_EQ(file["telegram"]["bot_token"], "tg-from-python");
  EXPECT_EQ(file["twitch"]["token"], "tw-daemon");
  EXPECT_EQ(file["discord"]["bot_token"], "d-seed");
  // And a later Python write is seen by the next read.
  ProcessOptions again;
  again.stdin_data = "tg-second";
  ASSERT_EQ(RunProcess(PyChannelsArgv({"set", "telegram", "bot_token"}), again).exit_code, 0);
  absl::StatusOr<v1::GetChannelResponse> got = client_->GetChannel("telegram");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(Field(got->channel(), "bot_token").value(), "tg-second");
}

}  // namespace
}  // namespace operator_auth::testing
