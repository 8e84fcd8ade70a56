// `operatorctl auth import SOURCE [--keep-in-sync]` end to end: the real daemon and operatorctl,
// vendor files in a temp HOME, the fake token endpoint on 127.0.0.1, and stand-in vendor CLIs
// (tests/integration/vendor_cli.py) that refresh by themselves near expiry as the real ones do.
//
// The vendor formats and locks these tests write and expect, and where they come from:
//  - Claude Code: ~/.claude/.credentials.json {"claudeAiOauth": {accessToken, refreshToken,
//    expiresAt (ms), scopes, subscriptionType}} (code.claude.com/docs/en/authentication;
//    rajish/cc-hdrm Models/KeychainCredentials.swift decodes the same fields). It refreshes
//    under proper-lockfile directory locks <dir>/.oauth_refresh.lock and <dir>.lock
//    (anaclumos/tokenmaxxing#27 and cnighswonger/claude-code-cache-fix#372, from Claude Code
//    2.1.2xx; anthropics/claude-code#95236).
//  - Codex: $CODEX_HOME/auth.json {"OPENAI_API_KEY", "tokens": {id_token, access_token,
//    refresh_token, account_id}, "last_refresh"} (openai/codex codex-rs/login/src/auth/storage.rs
//    AuthDotJson, codex-rs/login/src/token_data.rs); no lock, written in place.
//  - Gemini CLI: ~/.gemini/oauth_creds.json, google-auth-library's Credentials
//    (google-gemini/gemini-cli packages/core/src/code_assist/oauth2.ts); no lock.
//  - pi: ~/.pi/agent/auth.json, provider id -> {"type": "api_key"|"oauth", ...}; "anthropic"
//    is the Claude subscription when it is an OAuth entry (badlogic/pi-mono
//    packages/coding-agent AuthStorage); lock auth.json.lock.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/fake_oauth/fake_oauth_server.h"
#include "tests/integration/daemon_fixture.h"
#include "tests/support/eventually.h"

namespace operator_auth::testing {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kClaudeClientId[] = "9d1c250a-e61b-44d9-88ed-5944d1962f5e";
constexpr char kCodexClientId[] = "app_EMoamEEZ73f0CkXaXp7hrann";

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

void MakePrivateDirs(const std::string& path) {
  std::string partial;
  for (const absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    absl::StrAppend(&partial, "/", part);
    mkdir(partial.c_str(), 0700);
  }
}

void WritePrivateFile(const std::string& path, const std::string& contents) {
  MakePrivateDirs(path.substr(0, path.rfind('/')));
  WriteFileOrDie(path, contents);
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
}

Json ReadJson(const std::string& path) { return Json::parse(ReadFileOrDie(path)); }

bool Exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

class VendorTest : public DaemonTest {
 protected:
  explicit VendorTest(FakeOAuthOptions options = {}) : fake_(options) {}

  void SetUp() override {
    fake_.Start();
    daemon_.SetConfig(LoopbackOnlyConfig(fake_.base_url()));
    MakePrivateDirs(user_home_);
    DaemonTest::SetUp();
  }

  // operatorctl in a shell whose HOME is the temp user's and that sets none of the vendors'
  // directory variables, so each vendor's default path is under that HOME.
  ProcessResult UserCtl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {AUTHD_CTL_PATH, "--socket", daemon_.socket_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.env = {{"HOME", user_home_}};
    options.unset_env = {"CLAUDE_CONFIG_DIR", "CODEX_HOME", "PI_CODING_AGENT_DIR",
                         "GEMINI_CLI_HOME"};
    return RunProcess(argv, options);
  }

  std::string ClaudeFile() const { return user_home_ + "/.claude/.credentials.json"; }
  std::string CodexFile() const { return user_home_ + "/.codex/auth.json"; }

  // A Claude Code file as Claude Code writes it, with fields the daemon does not own.
  void WriteClaudeFile(const std::string& access, const std::string& refresh, int64_t expires) {
    WritePrivateFile(ClaudeFile(), Json{{"claudeAiOauth",
                                         {{"accessToken", access},
                                          {"refreshToken", refresh},
                                          {"expiresAt", expires},
                                          {"scopes", {"user:inference", "user:profile"}},
                                          {"subscriptionType", "max"}}},
                                        {"mcpOAuth", {{"server", {{"token", "mcp-kept"}}}}}}
                                       .dump());
  }

  Json Providers() { return ReadJson(daemon_.providers_path()); }

  FakeOAuthServer fake_;
  const std::string user_home_ = dir_.Sub("user");
};

using ImportTest = VendorTest;

TEST_F(ImportTest, ClaudeCodeLoginIsImportedAndNoTokenIsPrinted) {
  const int64_t expires = NowMs() + 3'600'000;
  WriteClaudeFile("sk-ant-oat01-imported-access", "sk-ant-ort01-imported-refresh", expires);
  const std::string before = ReadFileOrDie(ClaudeFile());
  ProcessResult r = UserCtl({"auth", "import", "claude-code"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("anthropic-claude-code"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("imported-access")));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("imported-refresh")));
  // Without --keep-in-sync the user is told that both now hold one refresh token.
  EXPECT_THAT(r.err, HasSubstr("--keep-in-sync"));
  Json entry = Providers()["anthropic-claude-code"];
  EXPECT_EQ(entry["type"], "oauth");
  EXPECT_EQ(entry["access"], "sk-ant-oat01-imported-access");
  EXPECT_EQ(entry["refresh"], "sk-ant-ort01-imported-refresh");
  EXPECT_EQ(entry["expires"], expires);
  EXPECT_EQ(ReadFileOrDie(ClaudeFile()), before) << "an import reads the vendor's file only";
  absl::StatusOr<ApiKey> key = client_->GetApiKey("claude");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "sk-ant-oat01-imported-access");
  EXPECT_EQ(fake_.GrantCount("refresh_token"), 0);
}

TEST_F(ImportTest, CodexTokensAndApiKeyAreImportedWithTheJwtExpiry) {
  // A real login's access token from the fake, so that it is a JWT with "exp".
  const int64_t exp_s = absl::ToUnixSeconds(absl::Now()) + 7200;
  const std::string jwt_payload = absl::WebSafeBase64Escape(Json{
      {"exp", exp_s},
      {"https://api.openai.com/auth",
       {{"chatgpt_account_id", "acct-9"}}}}.dump());
  const std::string access = "eyJhbGciOiJub25lIn0." + jwt_payload + ".sig";
  WritePrivateFile(CodexFile(), Json{{"OPENAI_API_KEY", "sk-codex-api-key-import"},
                                     {"tokens",
                                      {{"id_token", "id.token.kept"},
                                       {"access_token", access},
                                       {"refresh_token", "rt-codex-import"},
                                       {"account_id", "acct-9"}}},
                                     {"last_refresh", "2026-12-01T00:00:00Z"}}
                                    .dump());
  ProcessResult r = UserCtl({"auth", "import", "codex", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("rt-codex-import")));
  EXPECT_THAT(r.out, Not(HasSubstr("sk-codex-api-key-import")));
  Json out = Json::parse(r.out);
  EXPECT_EQ(out["logins"].size(), 2u);
  Json file = Providers();
  EXPECT_EQ(file["openai"]["key"], "sk-codex-api-key-import");
  EXPECT_EQ(file["openai-codex"]["refresh"], "rt-codex-import");
  EXPECT_EQ(file["openai-codex"]["expires"], exp_s * 1000);
  EXPECT_EQ(file["openai-codex"]["account_id"], "acct-9");
}

TEST_F(ImportTest, GeminiCliAndPiLoginsAreImported) {
  const int64_t expires = NowMs() + 3'000'000;
  WritePrivateFile(user_home_ + "/.gemini/oauth_creds.json",
                   Json{{"access_token", "ya29.gemini-import"},
                        {"refresh_token", "1//gemini-import-refresh"},
                        {"scope", "https://www.googleapis.com/auth/cloud-platform"},
                        {"token_type", "Bearer"},
                        {"expiry_date", expires}}
                       .dump());
  ProcessResult r = UserCtl({"auth", "import", "gemini-cli"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Providers()["google-gemini-cli"]["access"], "ya29.gemini-import");
  EXPECT_EQ(Providers()["google-gemini-cli"]["expires"], expires);

  WritePrivateFile(user_home_ + "/.pi/agent/auth.json",
                   Json{{"anthropic",
                         {{"type", "oauth"},
                          {"access", "sk-ant-oat01-pi"},
                          {"refresh", "sk-ant-ort01-pi"},
                          {"expires", expires}}},
                        {"openai", {{"type", "api_key"}, {"key", "sk-pi-openai"}}},
                        {"github-copilot",
                         {{"type", "oauth"},
                          {"access", "tid=pi"},
                          {"refresh", "gho_pi"},
                          {"expires", expires},
                          {"enterpriseUrl", "ghe.example.com"}}}}
                       .dump());
  r = UserCtl({"auth", "import", "pi"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json file = Providers();
  EXPECT_EQ(file["anthropic-claude-code"]["refresh"], "sk-ant-ort01-pi");
  EXPECT_EQ(file["openai"]["key"], "sk-pi-openai");
  EXPECT_EQ(file["github-copilot"]["enterpriseUrl"], "ghe.example.com");
  EXPECT_FALSE(file.contains("anthropic")) << "pi's OAuth \"anthropic\" is our subscription id";
}

TEST_F(ImportTest, BadFilesAreRefusedAndNothingIsWritten) {
  ASSERT_TRUE(client_->SetApiKey("openai", "sk-kept-before").ok());
  const std::string before = ReadFileOrDie(daemon_.providers_path());
  // Missing: exit 1 naming the path.
  ProcessResult r = UserCtl({"auth", "import", "codex"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr(CodexFile()));
  // Not JSON, and the wrong shape: exit 4, the position or the field named, no content quoted.
  WritePrivateFile(ClaudeFile(), "{\"claudeAiOauth\": {\"accessToken\": \"sk-ant-oat01-torn");
  r = UserCtl({"auth", "import", "claude-code"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("sk-ant-oat01-torn")));
  WritePrivateFile(ClaudeFile(), R"({"claudeAiOauth": {"accessToken": 42}})");
  r = UserCtl({"auth", "import", "claude-code"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("accessToken"));
  // A file others may write, and one another uid owns.
  WriteClaudeFile("sk-ant-oat01-x", "sk-ant-ort01-x", NowMs() + 3'600'000);
  ASSERT_EQ(chmod(ClaudeFile().c_str(), 0620), 0);
  r = UserCtl({"auth", "import", "claude-code"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("group or others"));
  ASSERT_EQ(chmod(ClaudeFile().c_str(), 0600), 0);
  ASSERT_EQ(geteuid(), 0u) << "the suite runs as root (CI does) to give a file to uid 65534";
  ASSERT_EQ(chown(ClaudeFile().c_str(), 65534, 65534), 0);
  r = UserCtl({"auth", "import", "claude-code"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("65534"));
  // An unknown source is a usage error.
  r = UserCtl({"auth", "import", "cursor"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(ReadFileOrDie(daemon_.providers_path()), before);
  EXPECT_FALSE(Exists(daemon_.auth_dir() + "/vendor_links.json"));
}

using KeepInSyncTest = VendorTest;

TEST_F(KeepInSyncTest, TheDaemonsRefreshIsWrittenBackUnderClaudeCodesLock) {
  fake_.AddRefreshToken("rt-claude-0");
  WriteClaudeFile("at-claude-0", "rt-claude-0", NowMs() - 60'000);  // expired
  ProcessResult r = UserCtl({"auth", "import", "claude-code", "--keep-in-sync"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("in sync"));

  absl::StatusOr<ApiKey> key = client_->GetApiKey("anthropic-claude-code");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_NE(key->key, "at-claude-0");
  EXPECT_EQ(fake_.GrantCount("refresh_token"), 1);
  Json vendor = ReadJson(ClaudeFile());
  Json stored = Providers()["anthropic-claude-code"];
  EXPECT_EQ(vendor["claudeAiOauth"]["accessToken"], key->key);
  EXPECT_EQ(vendor["claudeAiOauth"]["refreshToken"], stored["refresh"]);
  EXPECT_NE(vendor["claudeAiOauth"]["refreshToken"], "rt-claude-0");
  EXPECT_EQ(vendor["claudeAiOauth"]["expiresAt"], stored["expires"]);
  // Every field the daemon does not own is kept.
  EXPECT_EQ(vendor["claudeAiOauth"]["subscriptionType"], "max");
  EXPECT_EQ(vendor["claudeAiOauth"]["scopes"].size(), 2u);
  EXPECT_EQ(vendor["mcpOAuth"]["server"]["token"], "mcp-kept");
  struct stat st {};
  ASSERT_EQ(stat(ClaudeFile().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // The locks were taken and are released.
  EXPECT_FALSE(Exists(user_home_ + "/.claude/.oauth_refresh.lock"));
  EXPECT_FALSE(Exists(user_home_ + "/.claude.lock"));

  absl::StatusOr<v1::AuthStatus> status = client_->GetAuthStatus("anthropic-claude-code");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->sync().source(), "claude-code");
  EXPECT_EQ(status->sync().path(), ClaudeFile());
  EXPECT_EQ(status->sync().error(), "");
  r = UserCtl({"auth", "status", "claude"});
  EXPECT_THAT(r.out, HasSubstr("synced with:       claude-code"));
}

TEST_F(KeepInSyncTest, ANewLoginMadeWithTheVendorsCliIsAdopted) {
  WriteClaudeFile("at-first-login", "rt-first-login", NowMs() + 3'600'000);
  ASSERT_EQ(UserCtl({"auth", "import", "claude-code", "--keep-in-sync"}).exit_code, 0);
  // `claude /login` writes a new login into its file.
  WriteClaudeFile("at-second-login", "rt-second-login", NowMs() + 7'200'000);
  EXPECT_TRUE(Eventually([&] {
    absl::StatusOr<ApiKey> key = client_->GetApiKey("anthropic-claude-code");
    return key.ok() && key->key == "at-second-login";
  })) << daemon_.Log();
  EXPECT_EQ(Providers()["anthropic-claude-code"]["refresh"], "rt-second-login");
  EXPECT_EQ(ReadJson(ClaudeFile())["claudeAiOauth"]["accessToken"], "at-second-login")
      << "adopted, not overwritten";
  EXPECT_EQ(fake_.GrantCount("refresh_token"), 0);
}

TEST_F(KeepInSyncTest, ALoginMadeThroughTheDaemonIsWrittenToTheVendorsFile) {
  WriteClaudeFile("at-vendor", "rt-vendor", NowMs() + 3'600'000);
  ASSERT_EQ(UserCtl({"auth", "import", "claude-code", "--keep-in-sync"}).exit_code, 0);
  // Another tool of ours (a py-filelock writer) stores a new login in providers.json.
  ProcessOptions input;
  input.stdin_data =
      Json{{"access", "at-ours"}, {"refresh", "rt-ours"}, {"expires", NowMs() + 7'200'000}}.dump();
  ProcessResult w = RunProcess(PyWriterArgv({"oauth", "anthropic-claude-code"}), input);
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_TRUE(Eventually([&] {
    return ReadJson(ClaudeFile())["claudeAiOauth"]["refreshToken"] == "rt-ours";
  })) << daemon_.Log();
  EXPECT_EQ(ReadJson(ClaudeFile())["mcpOAuth"]["server"]["token"], "mcp-kept");
}

TEST_F(KeepInSyncTest, WhileClaudeCodeHoldsItsLockTheDaemonTakesItsRefreshInstead) {
  fake_.AddRefreshToken("rt-held-0");
  WriteClaudeFile("at-held-0", "rt-held-0", NowMs() + 3'600'000);
  ASSERT_EQ(UserCtl({"auth", "import", "claude-code", "--keep-in-sync"}).exit_code, 0);
  // Claude Code takes its lock to refresh; meanwhile the token is found expired.
  const std::string lock = user_home_ + "/.claude/.oauth_refresh.lock";
  ASSERT_EQ(mkdir(lock.c_str(), 0700), 0);
  ProcessResult expire = RunProcess(PyWriterArgv({"expire", "anthropic-claude-code"}));
  ASSERT_EQ(expire.exit_code, 0) << expire.err;
  AuthClientOptions options;
  options.socket_path = daemon_.socket_path();
  options.env_fallback = false;
  options.deadline = std::chrono::seconds(15);
  AuthClient patient(options);
  absl::StatusOr<ApiKey> key;
  std::thread caller([&] { key = patient.GetApiKey("anthropic-claude-code"); });
  absl::SleepFor(absl::Milliseconds(500));
  // Claude Code's refresh lands in its file; then it releases the lock.
  WriteClaudeFile("at-held-by-claude", "rt-held-by-claude", NowMs() + 3'600'000);
  ASSERT_EQ(rmdir(lock.c_str()), 0);
  caller.join();
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "at-held-by-claude");
  EXPECT_EQ(fake_.GrantCount("refresh_token"), 0) << "the daemon spent nothing";
}

TEST_F(KeepInSyncTest, UnlinkEndsTheSyncAndLeavesBothFiles) {
  WriteClaudeFile("at-unlink", "rt-unlink", NowMs() + 3'600'000);
  ASSERT_EQ(UserCtl({"auth", "import", "claude-code", "--keep-in-sync"}).exit_code, 0);
  ProcessResult r = UserCtl({"auth", "unlink", "claude-code"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("No longer keeping"));
  absl::StatusOr<v1::AuthStatus> status = client_->GetAuthStatus("anthropic-claude-code");
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->has_sync());
  WriteClaudeFile("at-after-unlink", "rt-after-unlink", NowMs() + 3'600'000);
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(Providers()["anthropic-claude-code"]["access"], "at-unlink");
  r = UserCtl({"auth", "unlink", "claude-code"});
  EXPECT_THAT(r.out, HasSubstr("Was not keeping"));
}

TEST_F(KeepInSyncTest, TheLinkSurvivesARestart) {
  WriteClaudeFile("at-restart", "rt-restart", NowMs() + 3'600'000);
  ASSERT_EQ(UserCtl({"auth", "import", "claude-code", "--keep-in-sync"}).exit_code, 0);
  ASSERT_EQ(daemon_.Stop().exit_code, 0);
  WriteClaudeFile("at-while-stopped", "rt-while-stopped", NowMs() + 3'600'000);
  ASSERT_TRUE(daemon_.Start().ok()) << daemon_.Log();
  client_ = NewClient();
  EXPECT_TRUE(Eventually([&] {
    absl::StatusOr<ApiKey> key = client_->GetApiKey("anthropic-claude-code");
    return key.ok() && key->key == "at-while-stopped";
  })) << daemon_.Log();
  Json links = ReadJson(daemon_.auth_dir() + "/vendor_links.json");
  EXPECT_THAT(links.dump(), Not(HasSubstr("rt-")));
  EXPECT_THAT(links.dump(), Not(HasSubstr("at-")));
}

// --- The storm: the daemon and 4 stand-in vendor CLIs on one rotating refresh token. ---------

FakeOAuthOptions ShortLivedTokens() {
  FakeOAuthOptions options;
  // The shortest lifetime the daemon takes as it is (kMinTokenLifetimeS); it keeps the shorter of
  // 5 minutes and half of it as its margin, so the files say 30 s.
  options.access_token_lifetime_s = 60;
  return options;
}

class VendorStormTest : public VendorTest {
 protected:
  VendorStormTest() : VendorTest(ShortLivedTokens()) {}

  // AUTHD_VENDOR_STORM_SECONDS scales every phase for a long run by hand.
  static double Scale() {
    const char* s = std::getenv("AUTHD_VENDOR_STORM_SECONDS");
    return s == nullptr ? 1.0 : std::max(1.0, std::atof(s) / 50.0);
  }

  std::vector<std::unique_ptr<ChildProcess>> StartStandIns(const std::string& mode,
                                                           const std::string& file,
                                                           const std::string& client_id, int count,
                                                           double seconds) {
    std::vector<std::unique_ptr<ChildProcess>> out;
    ProcessOptions options;
    options.timeout = absl::Seconds(seconds + 60);
    for (int i = 0; i < count; ++i) {
      // Lead 10 s on a token the file says lives 30 s: Claude Code's 5 minutes on 8 hours,
      // made much stricter (the daemon renews at half-life, 15 s before).
      out.push_back(std::make_unique<ChildProcess>(
          std::vector<std::string>{AUTHD_PYTHON3, AUTHD_VENDOR_CLI, mode, file,
                                   fake_.base_url() + "/token", client_id, "10000",
                                   absl::StrCat(seconds)},
          options));
    }
    return out;
  }

  struct Totals {
    int refreshes = 0, logouts = 0, lock_timeouts = 0, torn_reads = 0, expired_seen = 0;
  };
  Totals Collect(std::vector<std::unique_ptr<ChildProcess>>& stand_ins) {
    Totals t;
    for (auto& c : stand_ins) {
      ProcessResult r = c->Wait();
      EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
      if (r.exit_code != 0) continue;
      Json counts = Json::parse(r.out);
      t.refreshes += counts["refreshes"].get<int>();
      t.logouts += counts["logouts"].get<int>();
      t.lock_timeouts += counts["lock_timeouts"].get<int>();
      t.torn_reads += counts["torn_reads"].get<int>();
      t.expired_seen += counts["expired_seen"].get<int>();
    }
    return t;
  }
};

// Three phases: the daemon refreshes for everyone; the daemon is stopped and the stand-ins
// refresh by themselves (the daemon's last refresh token must still be good in their file); the
// daemon comes back and adopts what they did. Goal: no refresh token is ever spent twice, and no
// stand-in is ever logged out.
TEST_F(VendorStormTest, ClaudeCodeStandInsAndTheDaemonNeverReuseARefreshToken) {
  const double scale = Scale();
  const double with_daemon = 18 * scale, stopped = 22 * scale, back = 6 * scale;
  fake_.AddRefreshToken("rt-storm-0");
  // Near expiry: without the daemon the stand-ins would refresh 5 s from now.
  WriteClaudeFile("at-storm-0", "rt-storm-0", NowMs() + 15'000);
  ASSERT_EQ(UserCtl({"auth", "import", "claude-code", "--keep-in-sync"}).exit_code, 0);
  auto stand_ins =
      StartStandIns("claude-code", ClaudeFile(), kClaudeClientId, 4, with_daemon + stopped + back);

  absl::SleepFor(absl::Seconds(with_daemon));
  const int daemon_refreshes_before_stop = fake_.GrantCount("refresh_token");
  ASSERT_EQ(daemon_.Stop().exit_code, 0);
  absl::SleepFor(absl::Seconds(stopped));
  const int refreshes_while_stopped =
      fake_.GrantCount("refresh_token") - daemon_refreshes_before_stop;
  ASSERT_TRUE(daemon_.Start().ok()) << daemon_.Log();
  client_ = NewClient();
  absl::SleepFor(absl::Seconds(back));

  Totals t = Collect(stand_ins);
  absl::StatusOr<ApiKey> key = client_->GetApiKey("anthropic-claude-code");
  ASSERT_TRUE(key.ok()) << key.status();
  const int total = fake_.GrantCount("refresh_token");
  std::printf(
      "vendor storm (claude-code, 4 stand-ins, 60 s tokens, %.0f s): %d refreshes (%d by the "
      "daemon before it stopped, %d while it was stopped, %d by stand-ins in all), %d reused "
      "refresh tokens, %d forced logouts, %d stand-in lock timeouts, %d reads of an expired "
      "token\n",
      with_daemon + stopped + back, total, daemon_refreshes_before_stop, refreshes_while_stopped,
      t.refreshes, fake_.InvalidGrantCount(), t.logouts, t.lock_timeouts, t.expired_seen);
  EXPECT_EQ(fake_.InvalidGrantCount(), 0) << "a refresh token was spent twice";
  EXPECT_EQ(t.logouts, 0);
  EXPECT_GE(daemon_refreshes_before_stop, 2) << "the daemon renews for everyone";
  EXPECT_GE(refreshes_while_stopped, 1) << "with the daemon stopped, the CLIs go on by themselves";
  EXPECT_EQ(ReadJson(ClaudeFile())["claudeAiOauth"]["accessToken"], key->key);
}

// Codex takes no lock, so its instances race each other: without the daemon all four would
// refresh 5 s in, and all but one would be logged out. With the daemon renewing early (at once
// after the import, then at half-life) they never need to refresh at all.
TEST_F(VendorStormTest, CodexStandInsNeverRefreshWhileTheDaemonRuns) {
  const double seconds = 20 * Scale();
  fake_.AddRefreshToken("rt-codex-storm-0");
  const std::string payload =
      absl::WebSafeBase64Escape(Json{{"exp", absl::ToUnixSeconds(absl::Now()) + 15}}.dump());
  WritePrivateFile(CodexFile(), Json{{"OPENAI_API_KEY", nullptr},
                                     {"tokens",
                                      {{"id_token", "id.token.kept"},
                                       {"access_token", "eyJhbGciOiJub25lIn0." + payload + ".s"},
                                       {"refresh_token", "rt-codex-storm-0"},
                                       {"account_id", "acct-fake-1"}}},
                                     {"last_refresh", "2026-12-01T00:00:00Z"}}
                                    .dump());
  ASSERT_EQ(UserCtl({"auth", "import", "codex", "--keep-in-sync"}).exit_code, 0);
  auto stand_ins = StartStandIns("codex", CodexFile(), kCodexClientId, 4, seconds);
  Totals t = Collect(stand_ins);
  std::printf(
      "vendor storm (codex, 4 stand-ins, 60 s tokens, %.0f s): %d refreshes by the daemon, %d by "
      "stand-ins, %d reused refresh tokens, %d forced logouts, %d torn reads\n",
      seconds, fake_.GrantCount("refresh_token") - t.refreshes, t.refreshes,
      fake_.InvalidGrantCount(), t.logouts, t.torn_reads);
  EXPECT_EQ(fake_.InvalidGrantCount(), 0);
  EXPECT_EQ(t.logouts, 0);
  EXPECT_EQ(t.refreshes, 0) << "the daemon renews before Codex would";
  EXPECT_EQ(ReadJson(CodexFile())["tokens"]["id_token"], "id.token.kept");
}

}  // namespace
}  // namespace operator_auth::testing
