// `cmake --install` into a temporary prefix: both binaries, the systemd user units with that
// prefix filled in (and accepted by systemd-analyze verify), operatorctl's bash completion, which
// has to parse and complete, and the C++ client, against which the example agent must build (with
// CMake's find_package and with pkg-config) and run.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "operator_auth/auth_client.h"
#include "tests/support/child_process.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

class InstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ProcessOptions options;
    options.unset_env = {"DESTDIR"};
    options.timeout = absl::Seconds(120);
    ProcessResult installed = RunProcess(
        {AUTHD_CMAKE_COMMAND, "--install", AUTHD_BUILD_DIR, "--prefix", prefix()}, options);
    ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
  }

  std::string prefix() const { return dir_.Sub("prefix"); }
  std::string UnitPath(const std::string& unit) const {
    return prefix() + "/" + AUTHD_USER_UNIT_DIR + "/" + unit;
  }
  std::string CompletionPath() const {
    return prefix() + "/share/bash-completion/completions/operatorctl";
  }
  std::string FishCompletionPath() const {
    return prefix() + "/share/fish/vendor_completions.d/operatorctl.fish";
  }

  // What the installed zsh script hands compadd for `words` (the last one being completed; zsh's
  // compadd filters by prefix itself), run in zsh with compadd and _files stood in for.
  std::vector<std::string> ZshCandidates(const std::vector<std::string>& words) {
    const std::string harness = R"(
      compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }
      _files() { print FILES; }
      script=$1; shift
      words=("$@"); CURRENT=$#
      complete_it() { source $script; }
      complete_it
    )";
    std::vector<std::string> argv = {
        "/usr/bin/zsh", "-f",  "-c",
        harness,        "zsh", prefix() + "/share/zsh/vendor-completions/_operatorctl"};
    argv.insert(argv.end(), words.begin(), words.end());
    ProcessResult result = RunProcess(argv);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.err, "");
    return absl::StrSplit(result.out, '\n', absl::SkipEmpty());
  }

  // What fish offers for the command line `line` with the installed script loaded.
  std::vector<std::string> FishComplete(const std::string& line) {
    ProcessResult result =
        RunProcess({"/usr/bin/fish", "--no-config", "-c", "source $argv[1]; complete -C $argv[2]",
                    FishCompletionPath(), line});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    std::vector<std::string> words;
    for (absl::string_view row : absl::StrSplit(result.out, '\n', absl::SkipEmpty())) {
      words.emplace_back(row.substr(0, row.find('\t')));
    }
    return words;
  }

  // systemd-analyze verify as a user manager would load `units`. It only warns (and exits 0)
  // about unknown keys or values it cannot parse, so a clean result is exit 0 and no output.
  ProcessResult Verify(const std::vector<std::string>& units) {
    // A user manager needs a runtime directory; a container as root has none.
    const std::string runtime_dir = dir_.Sub("xdg-runtime");
    std::filesystem::create_directories(runtime_dir);
    chmod(runtime_dir.c_str(), 0700);
    ProcessOptions options;
    options.env = {{"XDG_RUNTIME_DIR", runtime_dir}, {"SYSTEMD_LOG_COLOR", "0"}};
    std::vector<std::string> argv = {AUTHD_SYSTEMD_ANALYZE, "verify", "--user", "--man=no",
                                     "--generators=no"};
    argv.insert(argv.end(), units.begin(), units.end());
    return RunProcess(argv, options);
  }
  static bool Clean(const ProcessResult& r) {
    return r.exit_code == 0 && r.out.empty() && r.err.empty();
  }

  // Copies both installed units to `dir`, the service with `from` replaced by `to`.
  std::vector<std::string> BrokenCopy(const std::string& dir, const std::string& from,
                                      const std::string& to) {
    std::filesystem::create_directories(dir);
    const std::string service = ReadFileOrDie(UnitPath("operator-authd.service"));
    EXPECT_THAT(service, HasSubstr(from));
    WriteFileOrDie(dir + "/operator-authd.service", absl::StrReplaceAll(service, {{from, to}}));
    std::filesystem::copy_file(UnitPath("operator-authd.socket"), dir + "/operator-authd.socket");
    return {dir + "/operator-authd.service", dir + "/operator-authd.socket"};
  }

  // What the installed completion offers when the cursor is at the end of `words` (the last one
  // is the word being completed: "" right after a space).
  std::vector<std::string> Complete(const std::vector<std::string>& words) {
    // How bash would call the function `complete -p` names: (command, word, previous word).
    const std::string script = R"(
      source "$1" || exit 2
      spec=$(complete -p operatorctl) || exit 3
      fn=${spec##*-F }
      fn=${fn%% *}
      shift
      COMP_WORDS=("$@")
      COMP_CWORD=$(($# - 1))
      COMP_LINE="$*"
      COMP_POINT=${#COMP_LINE}
      "$fn" operatorctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
      printf '%s\n' "${COMPREPLY[@]}"
    )";
    std::vector<std::string> argv = {"/bin/bash", "--norc", "--noprofile",   "-c",
                                     script,      "bash",   CompletionPath()};
    argv.insert(argv.end(), words.begin(), words.end());
    ProcessResult result = RunProcess(argv);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.err, "");
    return absl::StrSplit(result.out, '\n', absl::SkipEmpty());
  }

  TempDir dir_;
};

TEST_F(InstallTest, InstallsBinariesUnitsAndCompletionUnderThePrefix) {
  for (const char* binary : {"operator-authd", "operatorctl"}) {
    const std::string path = prefix() + "/bin/" + binary;
    EXPECT_EQ(access(path.c_str(), X_OK), 0) << path;
  }
  ProcessResult version = RunProcess({prefix() + "/bin/operator-authd", "--version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;

  EXPECT_THAT(std::string(AUTHD_USER_UNIT_DIR), Not(::testing::StartsWith("/")));
  const std::string service = ReadFileOrDie(UnitPath("operator-authd.service"));
  const std::string socket = ReadFileOrDie(UnitPath("operator-authd.socket"));
  for (const std::string* unit : {&service, &socket}) {
    EXPECT_THAT(*unit, Not(ContainsRegex("@[A-Za-z_]+@"))) << *unit;
  }
  EXPECT_THAT(service, HasSubstr("\nExecStart=" + prefix() + "/bin/operator-authd "));
  EXPECT_THAT(service, HasSubstr("\nType=notify\n"));
  EXPECT_THAT(socket, HasSubstr("\nListenStream=%t/operator/authd.sock\n"));

  // The installed scripts are what operatorctl generates from its own definition.
  const std::vector<std::pair<std::string, std::string>> scripts = {
      {"bash", CompletionPath()},
      {"zsh", prefix() + "/share/zsh/vendor-completions/_operatorctl"},
      {"fish", prefix() + "/share/fish/vendor_completions.d/operatorctl.fish"}};
  for (const auto& [shell, path] : scripts) {
    ProcessResult generated = RunProcess({prefix() + "/bin/operatorctl", "completion", shell});
    ASSERT_EQ(generated.exit_code, 0) << generated.err;
    EXPECT_EQ(ReadFileOrDie(path), generated.out) << path;
  }
}

TEST_F(InstallTest, InstalledUnitsPassSystemdAnalyzeVerify) {
  ProcessResult verified =
      Verify({UnitPath("operator-authd.service"), UnitPath("operator-authd.socket")});
  EXPECT_TRUE(Clean(verified)) << "exit " << verified.exit_code << "\n"
                               << verified.out << verified.err;
}

// Issue #11's hardening: resource bounds, no devices, other processes hidden, gRPC tracing off,
// writes only to the credentials directory and the socket's; systemd's own exposure score
// (offline, as a user manager would load the unit) stays at or under 2.0 (it was 2.6 before).
TEST_F(InstallTest, InstalledServiceIsBoundedAndSandboxed) {
  const std::string service = ReadFileOrDie(UnitPath("operator-authd.service"));
  for (const char* line :
       {"\nLimitNOFILE=4096\n", "\nTasksMax=256\n", "\nMemoryMax=256M\n", "\nPrivateDevices=yes\n",
        "\nProtectProc=invisible\n", "\nUnsetEnvironment=GRPC_TRACE GRPC_VERBOSITY\n",
        "\nReadWritePaths=-%h/.operator/auth -%t/operator\n",
        "\nReadWritePaths=-%h/.claude -%h/.codex -%h/.gemini -%h/.pi/agent\n",
        "\nExecStartPre=+/bin/mkdir -p -m 0700 %h/.operator/auth\n"}) {
    EXPECT_THAT(service, HasSubstr(line));
  }
  EXPECT_THAT(service, Not(HasSubstr("-%h/.operator ")));

  const std::string runtime_dir = dir_.Sub("xdg-runtime-security");
  std::filesystem::create_directories(runtime_dir);
  chmod(runtime_dir.c_str(), 0700);
  ProcessOptions options;
  options.env = {{"XDG_RUNTIME_DIR", runtime_dir}, {"SYSTEMD_LOG_COLOR", "0"}};
  ProcessResult security =
      RunProcess({AUTHD_SYSTEMD_ANALYZE, "security", "--user", "--offline=true", "--no-pager",
                  UnitPath("operator-authd.service")},
                 options);
  const std::string marker = "Overall exposure level for operator-authd.service: ";
  const size_t at = security.out.find(marker);
  ASSERT_NE(at, std::string::npos) << security.out << security.err;
  double exposure = 10;
  ASSERT_TRUE(absl::SimpleAtod(
      security.out.substr(at + marker.size(),
                          security.out.find(' ', at + marker.size()) - (at + marker.size())),
      &exposure));
  EXPECT_LE(exposure, 2.0) << security.out;
}

// The check above can fail: a unit with a mistake in it does not come out clean.
TEST_F(InstallTest, SystemdAnalyzeVerifyRejectsBrokenUnits) {
  ProcessResult unknown_key =
      Verify(BrokenCopy(dir_.Sub("unknown-key"), "\nType=notify\n", "\nType=notify\nBogus=1\n"));
  EXPECT_FALSE(Clean(unknown_key));
  EXPECT_THAT(unknown_key.err, HasSubstr("Unknown key"));

  ProcessResult bad_value =
      Verify(BrokenCopy(dir_.Sub("bad-value"), "\nType=notify\n", "\nType=notiffy\n"));
  EXPECT_FALSE(Clean(bad_value));

  ProcessResult missing_binary = Verify(
      BrokenCopy(dir_.Sub("missing-binary"), prefix() + "/bin/operator-authd", "/nonexistent/x"));
  EXPECT_NE(missing_binary.exit_code, 0);
}

TEST_F(InstallTest, InstalledCompletionParsesAndCompletes) {
  ProcessResult syntax = RunProcess({"/bin/bash", "-n", CompletionPath()});
  EXPECT_EQ(syntax.exit_code, 0) << syntax.err;

  EXPECT_THAT(Complete({"operatorctl", "ch"}), ElementsAre("channels"));
  EXPECT_THAT(Complete({"operatorctl", ""}),
              ElementsAre("audit", "auth", "channels", "daemon", "exec", "fleet", "setup"));
  EXPECT_THAT(Complete({"operatorctl", "exec", "openai-c"}), ElementsAre("openai-codex"));
  EXPECT_THAT(Complete({"operatorctl", "exec", "--"}), IsSupersetOf({"--env", "--socket"}));
  EXPECT_THAT(Complete({"operatorctl", "setup", "claude-code", "--"}),
              IsSupersetOf({"--settings", "--remove", "--force"}));
  EXPECT_THAT(Complete({"operatorctl", "channels", "show", ""}),
              ElementsAre("telegram", "discord", "slack", "twitch", "email"));
  EXPECT_THAT(Complete({"operatorctl", "auth", ""}),
              IsSupersetOf({"list", "status", "set", "unset", "token", "login"}));
  EXPECT_THAT(Complete({"operatorctl", "--socket", "/tmp/x", "auth", "token", "openai-c"}),
              ElementsAre("openai-codex"));
  EXPECT_THAT(Complete({"operatorctl", "auth", "login", "github-copilot", "--"}),
              IsSupersetOf({"--enterprise-domain", "--no-browser", "--json"}));
  EXPECT_THAT(Complete({"operatorctl", "channels", "set", "slack", "--"}),
              IsSupersetOf({"--bot-token", "--app-token"}));
  EXPECT_THAT(Complete({"operatorctl", "channels", "set", "email", "--"}),
              IsSupersetOf({"--username", "--password"}));
  // A secret's value is offered as "-" (read it from stdin), nothing else.
  EXPECT_THAT(Complete({"operatorctl", "channels", "set", "telegram", "--bot-token", ""}),
              ElementsAre("-"));
  EXPECT_THAT(Complete({"operatorctl", "daemon", ""}), ElementsAre("status"));
  EXPECT_THAT(Complete({"operatorctl", "daemon", "status", "--j"}), ElementsAre("--json"));
  EXPECT_THAT(Complete({"operatorctl", "auth", "login", "cod"}), ElementsAre("codex"));
  EXPECT_THAT(Complete({"operatorctl", "auth", "set", "openai", "--api-key", ""}),
              ElementsAre("-"));
  // The hidden subcommand that writes these scripts is not offered.
  EXPECT_THAT(Complete({"operatorctl", "co"}), ::testing::IsEmpty());
}

TEST_F(InstallTest, InstalledZshAndFishCompletionLoadAndComplete) {
  ProcessResult zsh =
      RunProcess({"/usr/bin/zsh", "-n", prefix() + "/share/zsh/vendor-completions/_operatorctl"});
  EXPECT_EQ(zsh.exit_code, 0) << zsh.err;
  EXPECT_THAT(ZshCandidates({"operatorctl", ""}),
              ElementsAre("audit", "auth", "channels", "daemon", "exec", "fleet", "setup"));
  EXPECT_THAT(ZshCandidates({"operatorctl", "auth", "token", "openai-c"}),
              IsSupersetOf({"openai-codex", "codex"}));
  EXPECT_THAT(ZshCandidates(
                  {"operatorctl", "--socket", "/x", "channels", "set", "slack", "--bot-token", ""}),
              ElementsAre("-"));
  EXPECT_THAT(ZshCandidates({"operatorctl", "--socket", ""}), ElementsAre("FILES"));
  EXPECT_THAT(ZshCandidates({"operatorctl", "daemon", "status", "--"}),
              IsSupersetOf({"--json", "--socket"}));

  EXPECT_THAT(FishComplete("operatorctl "),
              ElementsAre("audit", "auth", "channels", "daemon", "exec", "fleet", "setup"));
  EXPECT_THAT(FishComplete("operatorctl auth "),
              IsSupersetOf({"list", "status", "set", "unset", "token", "login"}));
  EXPECT_THAT(FishComplete("operatorctl auth token openai-c"), ElementsAre("openai-codex"));
  EXPECT_THAT(FishComplete("operatorctl channels show "),
              IsSupersetOf({"telegram", "discord", "slack", "twitch", "email"}));
  EXPECT_THAT(FishComplete("operatorctl auth login copilot --"),
              IsSupersetOf({"--enterprise-domain", "--no-browser", "--device", "--json"}));
  EXPECT_THAT(FishComplete("operatorctl channels set telegram --bot-token "), ElementsAre("-"));
}

// An agent outside this tree builds against the installed client both ways an agent's build
// would find it, and talks to a real daemon. In a sanitizer build the installed libraries are
// instrumented, so the agent is built with the same sanitizers.
TEST_F(InstallTest, TheExampleAgentBuildsAgainstTheInstalledClientAndRuns) {
  const std::string flags = AUTHD_EXAMPLE_SANITIZE_FLAGS;
  ProcessOptions build_options;
  build_options.timeout = absl::Seconds(300);

  const std::string cmake_build = dir_.Sub("agent-cmake");
  ProcessResult configured =
      RunProcess({AUTHD_CMAKE_COMMAND, "-S", std::string(AUTHD_SOURCE_DIR) + "/client/examples",
                  "-B", cmake_build, "-DCMAKE_PREFIX_PATH=" + prefix(),
                  "-DCMAKE_CXX_FLAGS=" + flags, "-DCMAKE_EXE_LINKER_FLAGS=" + flags},
                 build_options);
  ASSERT_EQ(configured.exit_code, 0) << configured.out << configured.err;
  ProcessResult built = RunProcess({AUTHD_CMAKE_COMMAND, "--build", cmake_build}, build_options);
  ASSERT_EQ(built.exit_code, 0) << built.out << built.err;

  // pkg-config: the .pc file finds the prefix relative to itself.
  build_options.env = {{"PKG_CONFIG_PATH", prefix() + "/lib/pkgconfig"}};
  const std::string pc_agent = dir_.Sub("agent-pkg-config");
  ProcessResult pc_built = RunProcess(
      {"/bin/sh", "-c",
       "c++ -std=c++17 $0 \"$1\" -o \"$2\" $(pkg-config --cflags --libs operator_auth_client) $0",
       flags, std::string(AUTHD_SOURCE_DIR) + "/client/examples/agent.cc", pc_agent},
      build_options);
  ASSERT_EQ(pc_built.exit_code, 0) << pc_built.out << pc_built.err;

  TempDir daemon_dir;
  DaemonProcess daemon(daemon_dir.path());
  ASSERT_TRUE(daemon.Start().ok()) << daemon.Log();
  AuthClientOptions options;
  options.socket_path = daemon.socket_path();
  ASSERT_TRUE(AuthClient(options).SetApiKey("openai", "sk-installed-agent-1").ok());
  for (const std::string& agent : {cmake_build + "/agent", pc_agent}) {
    ProcessResult ran = RunProcess({agent, "openai", daemon.socket_path()});
    EXPECT_EQ(ran.exit_code, 0) << agent << ": " << ran.err;
    EXPECT_THAT(ran.out, HasSubstr("provider openai\nkind api_key\nkey length 20\n")) << agent;
    EXPECT_THAT(ran.out + ran.err, Not(HasSubstr("sk-installed-agent-1")));
    ProcessResult none = RunProcess({agent, "mistral", daemon.socket_path()});
    EXPECT_EQ(none.exit_code, 1) << agent << ": " << none.out << none.err;
  }
  EXPECT_EQ(daemon.Stop().exit_code, 0);
}

}  // namespace
}  // namespace operator_auth::testing
