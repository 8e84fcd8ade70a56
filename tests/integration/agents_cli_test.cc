// `operatorctl exec` and `operatorctl setup` (issue #12) against the real daemon, with the vendor
// tools' settings files in a temp HOME / CLAUDE_CONFIG_DIR / CODEX_HOME.
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/integration/daemon_fixture.h"

namespace operator_auth::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

constexpr char kOpenAiKey[] = "sk-exec-openai-secret-1";
constexpr char kAnthropicKey[] = "sk-ant-exec-secret-2";
constexpr char kClaudeToken[] = "at-exec-claude-3";
constexpr char kGeminiToken[] = "at-exec-gemini-4";

class AgentsCliTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    ASSERT_TRUE(client_->SetApiKey("openai", kOpenAiKey).ok());
  }

  // The vendor tools' settings live under here; the variables that would point elsewhere are
  // dropped, so the test never touches the real ones.
  ProcessOptions ToolEnvironment() {
    ProcessOptions options;
    options.env["HOME"] = home_.path();
    options.unset_env = {"CLAUDE_CONFIG_DIR",       "CODEX_HOME",
                         "OPENAI_API_KEY",          "ANTHROPIC_API_KEY",
                         "CLAUDE_CODE_OAUTH_TOKEN", "OPERATOR_AUTHD_SOCKET",
                         "GOOGLE_CLOUD_PROJECT",    "GOOGLE_GENAI_USE_GCA"};
    return options;
  }

  // A directory `variable` (CLAUDE_CONFIG_DIR, CODEX_HOME) points the tool at, made 0700.
  std::string ToolHome(ProcessOptions& options, const std::string& variable) {
    const std::string dir = home_.Sub(variable);
    EXPECT_EQ(mkdir(dir.c_str(), 0700), 0);
    options.env[variable] = dir;
    return dir;
  }

  ProcessResult CtlWith(const std::vector<std::string>& args, const ProcessOptions& options) {
    std::vector<std::string> argv = {AUTHD_CTL_PATH, "--socket", daemon_.socket_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, options);
  }
  ProcessResult CtlWith(const std::vector<std::string>& args) {
    return CtlWith(args, ToolEnvironment());
  }

  void StoreOAuthLogins() {
    const int64_t expires = absl::ToUnixMillis(absl::Now()) + 3'600'000;
    Json file = Json::parse(ReadFileOrDie(daemon_.providers_path()));
    file["anthropic-claude-code"] = {{"type", "oauth"},
                                     {"access", kClaudeToken},
                                     {"refresh", "rt-exec-5"},
                                     {"expires", expires}};
    file["google-gemini-cli"] = {{"type", "oauth"},
                                 {"access", kGeminiToken},
                                 {"refresh", "rt-exec-6"},
                                 {"expires", expires},
                                 {"project_id", "proj-exec-7"}};
    WriteFileOrDie(daemon_.providers_path(), file.dump());
  }

  TempDir home_;
};

// ---- exec ----

TEST_F(AgentsCliTest, ExecPutsEachKeyWhereItsToolReadsIt) {
  StoreOAuthLogins();
  // Aliases as the daemon accepts them; the variables follow the canonical ids it answers with.
  ProcessResult run = CtlWith(
      {"exec", "openai", "claude", "gemini-cli", "--", "sh", "-c",
       "printf '%s|' \"$OPENAI_API_KEY\" \"$CLAUDE_CODE_OAUTH_TOKEN\" "
       "\"$GOOGLE_CLOUD_ACCESS_TOKEN\" \"$GOOGLE_GENAI_USE_GCA\" \"$GOOGLE_CLOUD_PROJECT\""});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, std::string(kOpenAiKey) + "|" + kClaudeToken + "|" + kGeminiToken +
                         "|true|proj-exec-7|");

  // A project the user exported stays theirs; the key is always the daemon's.
  ProcessOptions options = ToolEnvironment();
  options.env["GOOGLE_CLOUD_PROJECT"] = "my-own-project";
  options.env["GOOGLE_CLOUD_ACCESS_TOKEN"] = "stale";
  ProcessResult mine =
      CtlWith({"exec", "gemini-cli", "--", "sh", "-c",
               "printf '%s|%s' \"$GOOGLE_CLOUD_PROJECT\" \"$GOOGLE_CLOUD_ACCESS_TOKEN\""},
              options);
  ASSERT_EQ(mine.exit_code, 0) << mine.err;
  EXPECT_EQ(mine.out, std::string("my-own-project|") + kGeminiToken);
}

TEST_F(AgentsCliTest, ExecEnvNamesTheVariable) {
  ProcessResult run = CtlWith({"exec", "--env", "MY_KEY=openai", "--", "sh", "-c",
                               "printf '%s|%s' \"$MY_KEY\" \"${OPENAI_API_KEY-unset}\""});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, std::string(kOpenAiKey) + "|unset");
}

TEST_F(AgentsCliTest, ExecHandsOverArgvUntouchedWithNoKeyOnIt) {
  // A second "--", empty and spaced words, and option-looking words all belong to the command.
  ProcessResult run = CtlWith(
      {"exec", "openai", "--", "sh", "-c",
       "printf '[%s]' \"$@\"; tr '\\0' ' ' < /proc/$$/cmdline | grep -c 'sk''-exec' || true", "sh",
       "a b", "", "--", "--socket", "-x"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "[a b][][--][--socket][-x]0\n");
}

TEST_F(AgentsCliTest, ExecWithAMissingKeyStartsNothingAndNamesTheProvider) {
  const std::string marker = home_.Sub("started");
  ProcessResult run = CtlWith({"exec", "openai", "anthropic", "--", "touch", marker});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("anthropic"));
  EXPECT_THAT(run.err, HasSubstr("touch was not started"));
  EXPECT_FALSE(PathExists(marker));
  EXPECT_THAT(run.out + run.err, Not(HasSubstr(kOpenAiKey)));
}

TEST_F(AgentsCliTest, ExecIsReplacedByTheCommandItsExitCodeAndSignals) {
  ProcessOptions options = ToolEnvironment();
  ChildProcess child({AUTHD_CTL_PATH, "--socket", daemon_.socket_path(), "exec", "openai", "--",
                      "sh", "-c", "echo $$"},
                     options);
  ProcessResult same_pid = child.Wait();
  ASSERT_EQ(same_pid.exit_code, 0) << same_pid.err;
  EXPECT_EQ(same_pid.out, std::to_string(child.pid()) + "\n");

  EXPECT_EQ(CtlWith({"exec", "openai", "--", "sh", "-c", "exit 7"}).exit_code, 7);
  ProcessResult killed = CtlWith({"exec", "openai", "--", "sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(killed.signal, SIGTERM);
}

TEST_F(AgentsCliTest, ExecReportsCommandsThatCannotRunAsAShellDoes) {
  ProcessResult missing = CtlWith({"exec", "openai", "--", "no-such-command-for-exec"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_THAT(missing.err, HasSubstr("no-such-command-for-exec: command not found"));
  EXPECT_EQ(CtlWith({"exec", "openai", "--", home_.Sub("nothing/here")}).exit_code, 127);

  const std::string not_executable = home_.Sub("script.sh");
  WriteFileOrDie(not_executable, "#!/bin/sh\necho hi\n");
  ASSERT_EQ(chmod(not_executable.c_str(), 0600), 0);
  ProcessResult denied = CtlWith({"exec", "openai", "--", not_executable});
  EXPECT_EQ(denied.exit_code, 126);
  EXPECT_THAT(denied.err, HasSubstr("script.sh"));
  EXPECT_THAT(missing.out + missing.err + denied.out + denied.err, Not(HasSubstr(kOpenAiKey)));
}

// The client is gone before the exec: the command inherits the descriptors operatorctl was given
// and no connection to the daemon (gRPC's sockets are O_CLOEXEC and closed with the channel).
TEST_F(AgentsCliTest, ExecLeavesTheCommandNoDaemonSocket) {
  const std::string probe = "for f in /proc/$$/fd/*; do readlink \"$f\"; done | sort";
  ProcessResult direct = RunProcess({"/bin/sh", "-c", probe}, ToolEnvironment());
  ASSERT_EQ(direct.exit_code, 0) << direct.err;
  ProcessResult via_exec = CtlWith({"exec", "openai", "--", "sh", "-c", probe});
  ASSERT_EQ(via_exec.exit_code, 0) << via_exec.err;
  EXPECT_THAT(via_exec.out, Not(HasSubstr("socket:")));
  // The listing's own directory descriptor differs in name only, and each run has its own
  // capture files (the test harness's, named by their base names).
  auto descriptors = [](const std::string& text) {
    std::vector<std::string> lines;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (absl::StartsWith(line, "/proc/")) continue;
      lines.emplace_back(absl::StartsWith(line, "/tmp/authd-child-") ? line.substr(line.rfind('/'))
                                                                     : line);
    }
    return lines;
  };
  EXPECT_EQ(descriptors(via_exec.out), descriptors(direct.out));
}

// Blocked and ignored signals pass through execve: the command must get the ones operatorctl was
// started with (here SIGUSR1 blocked and SIGHUP ignored, by a python3 launcher, which also ignores
// SIGPIPE and SIGXFSZ), none added, none dropped. grep reads its own state: a shell would reset
// its mask.
TEST_F(AgentsCliTest, ExecLeavesTheCommandTheSignalStateItWasGiven) {
  const std::string launcher =
      "import os, signal, sys\n"
      "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})\n"
      "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
      "os.execv(sys.argv[1], sys.argv[1:])\n";
  const std::vector<std::string> probe = {"/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"};
  std::vector<std::string> direct = {AUTHD_PYTHON3, "-c", launcher};
  direct.insert(direct.end(), probe.begin(), probe.end());
  std::vector<std::string> via_exec = {AUTHD_PYTHON3,  "-c",       launcher,
                                       AUTHD_CTL_PATH, "--socket", daemon_.socket_path(),
                                       "exec",         "openai",   "--"};
  via_exec.insert(via_exec.end(), probe.begin(), probe.end());

  ProcessResult expected = RunProcess(direct, ToolEnvironment());
  ASSERT_EQ(expected.exit_code, 0) << expected.err;
  EXPECT_THAT(expected.out, HasSubstr("SigBlk:\t0000000000000200"));  // SIGUSR1
  ProcessResult got = RunProcess(via_exec, ToolEnvironment());
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, expected.out);
}

TEST_F(AgentsCliTest, ExecUsageErrors) {
  ProcessResult no_command = CtlWith({"exec", "openai"});
  EXPECT_EQ(no_command.exit_code, 2);
  EXPECT_THAT(no_command.err, HasSubstr("after --"));
  EXPECT_EQ(CtlWith({"exec", "--", "true"}).exit_code, 2);
  // A mistyped --env may hold a key: never echoed.
  ProcessResult bad_env = CtlWith({"exec", "--env", "sk-typed-by-mistake-9", "--", "true"});
  EXPECT_EQ(bad_env.exit_code, 2);
  EXPECT_THAT(bad_env.err, Not(HasSubstr("sk-typed-by-mistake-9")));
  ProcessResult clash =
      CtlWith({"exec", "openai", "--env", "OPENAI_API_KEY=anthropic", "--", "true"});
  EXPECT_NE(clash.exit_code, 0);
  EXPECT_EQ(CtlWith({"auth", "list", "--", "x"}).exit_code, 2);
}

// ---- setup claude-code ----

std::string Helper(const std::string& settings_path) {
  return Json::parse(ReadFileOrDie(settings_path))["apiKeyHelper"].get<std::string>();
}

TEST_F(AgentsCliTest, SetupClaudeCodeWritesAHelperThatPrintsTheAnthropicKey) {
  ASSERT_TRUE(client_->SetApiKey("anthropic", kAnthropicKey).ok());
  ProcessResult setup = CtlWith({"setup", "claude-code"});
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  EXPECT_EQ(setup.err, "");
  const std::string settings = home_.Sub(".claude/settings.json");
  EXPECT_EQ(FileMode(settings), 0600);
  EXPECT_EQ(FileMode(home_.Sub(".claude")), 0700);
  const std::string helper = Helper(settings);
  EXPECT_THAT(helper, HasSubstr(daemon_.socket_path()));
  EXPECT_THAT(helper, HasSubstr(" auth token anthropic"));

  // As Claude Code runs it: /bin/sh, from anywhere, with an unrelated environment.
  ProcessOptions elsewhere;
  elsewhere.unset_env = {"OPERATOR_AUTHD_SOCKET", "XDG_RUNTIME_DIR", "OPERATOR_HOME"};
  ProcessResult key = RunProcess({"/bin/sh", "-c", "cd / && " + helper}, elsewhere);
  EXPECT_EQ(key.exit_code, 0) << key.err;
  EXPECT_TRUE(key.out == std::string(kAnthropicKey) + "\n");

  const std::string before = ReadFileOrDie(settings);
  ProcessResult again = CtlWith({"setup", "claude-code"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("Already set up"));
  EXPECT_EQ(ReadFileOrDie(settings), before);
}

TEST_F(AgentsCliTest, SetupClaudeCodeKeepsOtherSettingsAndRemoveUndoesExactlyIt) {
  ProcessOptions options = ToolEnvironment();
  const std::string settings = ToolHome(options, "CLAUDE_CONFIG_DIR") + "/settings.json";
  const Json original = {{"model", "opus"},
                         {"env", {{"ANTHROPIC_BASE_URL", "https://gw.example"}}},
                         {"permissions", {{"allow", {"Bash(ls:*)"}}}}};
  WriteFileOrDie(settings, original.dump(2));
  ASSERT_EQ(chmod(settings.c_str(), 0640), 0);

  ProcessResult setup = CtlWith({"setup", "claude-code"}, options);
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  // No anthropic key in the daemon yet: setup works all the same, and says how to add one.
  EXPECT_THAT(setup.err, HasSubstr("operatorctl auth set anthropic --api-key -"));
  Json written = Json::parse(ReadFileOrDie(settings));
  EXPECT_EQ(FileMode(settings), 0640);
  EXPECT_TRUE(written.contains("apiKeyHelper"));
  written.erase("apiKeyHelper");
  EXPECT_EQ(written, original);
  EXPECT_FALSE(PathExists(home_.Sub(".claude")));

  ProcessResult removed = CtlWith({"setup", "claude-code", "--remove"}, options);
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(Json::parse(ReadFileOrDie(settings)), original);
  ProcessResult nothing = CtlWith({"setup", "claude-code", "--remove"}, options);
  EXPECT_EQ(nothing.exit_code, 0);
  EXPECT_THAT(nothing.out, HasSubstr("Nothing to remove"));
}

TEST_F(AgentsCliTest, SetupClaudeCodeNeverReplacesAnotherHelperWithoutForce) {
  const std::string settings = home_.Sub("my-settings.json");
  const std::string text = R"({"apiKeyHelper": "~/bin/vault-key.sh", "env": {"X": "sk-in-env-8"}})";
  WriteFileOrDie(settings, text);

  ProcessResult refused = CtlWith({"setup", "claude-code", "--settings", settings});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("~/bin/vault-key.sh"));
  EXPECT_THAT(refused.err, HasSubstr("--force"));
  EXPECT_THAT(refused.out + refused.err, Not(HasSubstr("sk-in-env-8")));
  EXPECT_EQ(ReadFileOrDie(settings), text);
  ProcessResult not_ours = CtlWith({"setup", "claude-code", "--settings", settings, "--remove"});
  EXPECT_EQ(not_ours.exit_code, 1);
  EXPECT_EQ(ReadFileOrDie(settings), text);

  ProcessResult forced = CtlWith({"setup", "claude-code", "--settings", settings, "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_THAT(Helper(settings), HasSubstr("auth token anthropic"));
  EXPECT_EQ(Json::parse(ReadFileOrDie(settings))["env"]["X"], "sk-in-env-8");
}

TEST_F(AgentsCliTest, SetupRefusesMalformedSettingsAndWritesNothing) {
  const std::string settings = home_.Sub("broken.json");
  const std::string text = "{\"env\": {\"ANTHROPIC_API_KEY\": \"sk-ant-broken-10\"";
  WriteFileOrDie(settings, text);
  ProcessResult run = CtlWith({"setup", "claude-code", "--settings", settings});
  EXPECT_EQ(run.exit_code, 4);
  EXPECT_THAT(run.err, HasSubstr("nothing was written"));
  EXPECT_THAT(run.out + run.err, Not(HasSubstr("sk-ant-broken-10")));
  EXPECT_EQ(ReadFileOrDie(settings), text);
}

// Without --socket and OPERATOR_AUTHD_SOCKET the helper relies on the default socket, as any shell
// finds it; an explicit socket is written out.
TEST_F(AgentsCliTest, SetupNamesTheSocketOnlyWhenItIsNotTheDefault) {
  ProcessOptions options = ToolEnvironment();
  options.env["XDG_RUNTIME_DIR"] = home_.Sub("runtime");
  ProcessResult plain = RunProcess({AUTHD_CTL_PATH, "setup", "claude-code"}, options);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  char ctl[PATH_MAX];
  ASSERT_NE(realpath(AUTHD_CTL_PATH, ctl), nullptr);
  EXPECT_EQ(Helper(home_.Sub(".claude/settings.json")), std::string(ctl) + " auth token anthropic");

  options.env["OPERATOR_AUTHD_SOCKET"] = "/run/elsewhere/authd.sock";
  ProcessResult from_env = RunProcess({AUTHD_CTL_PATH, "setup", "claude-code"}, options);
  ASSERT_EQ(from_env.exit_code, 0) << from_env.err;
  EXPECT_EQ(Helper(home_.Sub(".claude/settings.json")),
            std::string(ctl) + " --socket /run/elsewhere/authd.sock auth token anthropic");
}

// ---- setup codex ----

// Codex's config.toml as its TOML parser reads it (openai/codex
// codex-rs/model-provider-info/src/lib.rs ModelProviderInfo, codex-rs/protocol/src/config_types.rs
// ModelProviderAuthInfo): parsed here with Python's tomllib, the result as JSON.
Json ParseToml(const std::string& path) {
  ProcessResult parsed = RunProcess(
      {AUTHD_PYTHON3, "-c",
       "import json, sys, tomllib; print(json.dumps(tomllib.load(open(sys.argv[1], 'rb'))))",
       path});
  EXPECT_EQ(parsed.exit_code, 0) << parsed.err;
  return parsed.exit_code == 0 ? Json::parse(parsed.out) : Json();
}

TEST_F(AgentsCliTest, SetupCodexAddsAProviderWhoseCommandPrintsTheKeyAndRemoveRestoresTheFile) {
  ProcessOptions options = ToolEnvironment();
  const std::string config = ToolHome(options, "CODEX_HOME") + "/config.toml";
  const std::string original =
      "model = \"gpt-5-codex\"\n\n[model_providers.azure]\nname = \"Azure\"\n"
      "base_url = \"https://example.openai.azure.com/openai\"\nenv_key = "
      "\"AZURE_OPENAI_API_KEY\"\n";
  WriteFileOrDie(config, original);

  ProcessResult setup = CtlWith({"setup", "codex"}, options);
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  EXPECT_THAT(setup.out, HasSubstr("codex --profile operator-authd"));
  const Json toml = ParseToml(config);
  EXPECT_EQ(toml["model"], "gpt-5-codex");
  EXPECT_EQ(toml["model_providers"]["azure"]["env_key"], "AZURE_OPENAI_API_KEY");
  const Json& provider = toml["model_providers"]["operator-authd"];
  EXPECT_EQ(provider["base_url"], "https://api.openai.com/v1");
  EXPECT_EQ(provider["wire_api"], "responses");
  EXPECT_FALSE(provider.contains("env_key"));  // Codex refuses auth together with env_key
  EXPECT_EQ(toml["profiles"]["operator-authd"]["model_provider"], "operator-authd");

  // As Codex runs it: the program with its arguments, no shell, stdout trimmed.
  std::vector<std::string> command = {provider["auth"]["command"].get<std::string>()};
  for (const Json& arg : provider["auth"]["args"]) command.push_back(arg.get<std::string>());
  ProcessResult key = RunProcess(command);
  EXPECT_EQ(key.exit_code, 0) << key.err;
  EXPECT_TRUE(key.out == std::string(kOpenAiKey) + "\n");

  ProcessResult again = CtlWith({"setup", "codex"}, options);
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.out, HasSubstr("Already set up"));

  ProcessResult removed = CtlWith({"setup", "codex", "--remove"}, options);
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(ReadFileOrDie(config), original);
}

TEST_F(AgentsCliTest, SetupCodexRefusesATableOfTheSameNameItDidNotWrite) {
  const std::string config = home_.Sub("config.toml");
  const std::string text = "[profiles.operator-authd]\nmodel = \"o3\"\n";
  WriteFileOrDie(config, text);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"setup", "codex", "--settings", config},
        std::vector<std::string>{"setup", "codex", "--settings", config, "--force"}}) {
    ProcessResult run = CtlWith(args);
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_THAT(run.err, HasSubstr("[profiles.operator-authd]"));
    EXPECT_EQ(ReadFileOrDie(config), text);
  }
}

}  // namespace
}  // namespace operator_auth::testing
