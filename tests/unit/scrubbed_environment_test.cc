#include "cli/scrubbed_environment.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace operator_auth::cli {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Entries(const ScrubbedEnvironment& environment) {
  std::vector<std::string> out;
  for (char* const* entry = environment.envp(); *entry != nullptr; ++entry) out.push_back(*entry);
  return out;
}

TEST(ScrubbedEnvironment, DropsSecretLookingNames) {
  for (const char* name :
       {"OPENAI_API_KEY", "anthropic_api_key", "AWS_SECRET_ACCESS_KEY", "GH_TOKEN", "GITHUB_TOKEN",
        "TELEGRAM_BOT_TOKEN", "CLIENT_SECRET", "DB_PASSWORD", "SMTP_PASSWD", "GITLAB_PAT",
        "GOOGLE_APPLICATION_CREDENTIALS", "MY_OAUTH_STATE", "TOKENIZER_CACHE", "SOME_APIKEY",
        "OPERATOR_AUTHD_SOCKET", "OPERATOR_AUTH_ANYTHING"}) {
    EXPECT_TRUE(IsSecretEnvironmentName(name)) << name;
  }
}

TEST(ScrubbedEnvironment, KeepsWhatABrowserNeeds) {
  for (const char* name :
       {"PATH", "HOME", "BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY",
        "DBUS_SESSION_BUS_ADDRESS", "LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "XDG_RUNTIME_DIR",
        "XDG_SESSION_TYPE", "XDG_CURRENT_DESKTOP", "SHELL", "USER", "TERM", "OPERATOR_HOME"}) {
    EXPECT_FALSE(IsSecretEnvironmentName(name)) << name;
  }
}

TEST(ScrubbedEnvironment, FiltersAnEnvironInOrderWithoutCopying) {
  std::string path = "PATH=/usr/bin";
  std::string key = "OPENAI_API_KEY=value-that-must-not-pass";
  std::string display = "DISPLAY=:0";
  std::string token = "GH_TOKEN=another-value";
  std::string malformed = "NO_EQUALS_SIGN";
  std::string xdg = "XDG_RUNTIME_DIR=/run/user/1000";
  char* environ_like[] = {path.data(),      key.data(), display.data(), token.data(),
                          malformed.data(), xdg.data(), nullptr};
  const ScrubbedEnvironment scrubbed(environ_like);
  EXPECT_THAT(Entries(scrubbed), ElementsAre(path, display, xdg));
  EXPECT_EQ(scrubbed.size(), 3u);
  EXPECT_EQ(scrubbed.envp()[0], path.data());
  EXPECT_EQ(scrubbed.envp()[3], nullptr);
}

TEST(ScrubbedEnvironment, EmptyOrMissingEnvironmentGivesAnEmptyOne) {
  char* empty[] = {nullptr};
  EXPECT_EQ(ScrubbedEnvironment(empty).size(), 0u);
  EXPECT_EQ(ScrubbedEnvironment(nullptr).envp()[0], nullptr);
}

}  // namespace
}  // namespace operator_auth::cli
