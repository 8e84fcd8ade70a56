// Hostile neighbours and hostile input (issue #11): the real daemon refuses configuration, homes
// and socket directories that another uid owns or may write, http:// to anything but loopback and
// a certificate no CA signed; it refuses to run as the overflow uid. The C++ client, operatorctl
// and the Python client refuse a socket another uid serves before sending anything.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "operator_auth/auth_client.h"
#include "operator_auth/watched_api_key.h"
#include "tests/support/child_process.h"
#include "tests/support/daemon_process.h"
#include "tests/support/run_as_nobody.h"
#include "tests/support/self_signed_https_server.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

class HostileTrustTest : public ::testing::Test {
 protected:
  HostileTrustTest() : daemon_(dir_.path()) {}

  // Starts the daemon, expects it to exit 1 by itself and returns what it logged.
  std::string RefusedStart() {
    daemon_.Launch();
    ProcessResult result = daemon_.WaitForExit(absl::Seconds(30));
    EXPECT_EQ(result.exit_code, 1) << result.err;
    EXPECT_FALSE(SocketAccepts(daemon_.socket_path()));
    return result.err;
  }

  void StartOrFail() { ASSERT_TRUE(daemon_.Start().ok()) << daemon_.Log(); }

  TempDir dir_;
  DaemonProcess daemon_;
};

// --- authd.json and the home ----------------------------------------------------------------

TEST_F(HostileTrustTest, AuthdJsonOthersMayWriteStopsTheStart) {
  WriteFileOrDie(daemon_.config_path(), "{}");
  ASSERT_EQ(chmod(daemon_.config_path().c_str(), 0666), 0);
  const std::string log = RefusedStart();
  EXPECT_THAT(log, HasSubstr("bad permissions on " + daemon_.config_path() + ": mode 0666"));
  EXPECT_THAT(log, HasSubstr("chmod go-w"));

  // The same file, tightened, is fine: the rule and nothing else stopped it.
  ASSERT_EQ(chmod(daemon_.config_path().c_str(), 0644), 0);
  StartOrFail();
  EXPECT_EQ(daemon_.Stop().exit_code, 0);
}

TEST_F(HostileTrustTest, AuthdJsonOwnedByAnotherUidStopsTheStart) {
  WriteFileOrDie(daemon_.config_path(), "{}");
  ASSERT_EQ(chown(daemon_.config_path().c_str(), kNobodyUid, kNobodyUid), 0);
  const std::string log = RefusedStart();
  EXPECT_THAT(log,
              HasSubstr("bad ownership for " + daemon_.config_path() + ": owned by uid 65534"));
}

TEST_F(HostileTrustTest, SymlinkedAuthdJsonStopsTheStart) {
  const std::string real = dir_.Sub("elsewhere.json");
  WriteFileOrDie(real, "{}");
  ASSERT_EQ(symlink(real.c_str(), daemon_.config_path().c_str()), 0);
  const std::string log = RefusedStart();
  EXPECT_THAT(log, HasSubstr(daemon_.config_path() + " is a symlink; refusing to follow it"));
}

TEST_F(HostileTrustTest, AHomeOthersMayWriteStopsTheStart) {
  ASSERT_EQ(mkdir(daemon_.home().c_str(), 0700), 0);
  ASSERT_EQ(chmod(daemon_.home().c_str(), 0777), 0);
  const std::string log = RefusedStart();
  EXPECT_THAT(log, HasSubstr("refusing the operator home " + daemon_.home()));
  EXPECT_THAT(log, HasSubstr("mode 0777"));
}

TEST_F(HostileTrustTest, AnAncestorOthersMayWriteStopsTheStart) {
  // The temp root holds the home, authd.json and the socket; 01777 owned by root would pass (it
  // is what /tmp is), 0777 does not.
  ASSERT_EQ(chmod(dir_.path().c_str(), 0777), 0);
  const std::string log = RefusedStart();
  EXPECT_THAT(log, HasSubstr("bad permissions on " + dir_.path() + ": mode 0777"));
  EXPECT_THAT(log, HasSubstr("an ancestor of"));
  ASSERT_EQ(chmod(dir_.path().c_str(), 0700), 0);
}

TEST_F(HostileTrustTest, SighupKeepsTheOldConfigurationWhenAuthdJsonTurnsUntrusted) {
  StartOrFail();
  ASSERT_EQ(chmod(daemon_.config_path().c_str(), 0666), 0);
  daemon_.Signal(SIGHUP);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline &&
         daemon_.Log().find("keeping the previous configuration") == std::string::npos) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_THAT(daemon_.Log(), HasSubstr("keeping the previous configuration: bad permissions on " +
                                       daemon_.config_path()));
  ProcessResult status =
      RunProcess({AUTHD_CTL_PATH, "--socket", daemon_.socket_path(), "daemon", "status"});
  EXPECT_EQ(status.exit_code, 1) << status.out << status.err;  // unhealthy, still serving
  ASSERT_EQ(chmod(daemon_.config_path().c_str(), 0600), 0);
  EXPECT_EQ(daemon_.Stop().exit_code, 0);
}

// --- endpoints --------------------------------------------------------------------------------

TEST_F(HostileTrustTest, PlainHttpToANonLoopbackHostIsAStartErrorNamingTheKey) {
  daemon_.SetConfig(R"({"oauth_providers": {"openai-codex":
                        {"token_url": "http://auth.example.com/oauth/token"}}})");
  const std::string log = RefusedStart();
  EXPECT_THAT(log, HasSubstr("oauth_providers.openai-codex.token_url"));
  EXPECT_THAT(log, HasSubstr("http:// is allowed only for a loopback host"));
}

TEST_F(HostileTrustTest, ASelfSignedTokenEndpointIsRefusedAndTheCredentialKept) {
  SelfSignedHttpsServer tls;
  Json config = Json::parse(LoopbackOnlyConfig("http://127.0.0.1:9"));
  config["oauth_providers"]["openai-codex"]["token_url"] = tls.Url("/oauth/token");
  daemon_.SetConfig(config.dump());
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  ASSERT_EQ(mkdir(daemon_.home().c_str(), 0700), 0);
  ASSERT_EQ(mkdir(daemon_.auth_dir().c_str(), 0700), 0);
  const Json stored = {{"openai-codex",
                        {{"type", "oauth"},
                         {"access", "at-expired-selfsigned"},
                         {"refresh", "rt-selfsigned"},
                         {"expires", now_ms - 60000}}}};
  WriteFileOrDie(daemon_.providers_path(), stored.dump());
  StartOrFail();

  AuthClientOptions options;
  options.socket_path = daemon_.socket_path();
  options.env_fallback = false;
  options.deadline = std::chrono::seconds(20);
  AuthClient client(options);
  absl::StatusOr<ApiKey> key = client.GetApiKey("openai-codex");
  ASSERT_FALSE(key.ok());
  EXPECT_THAT(key.status().message(),
              HasSubstr("the server's TLS certificate could not be verified"));
  EXPECT_THAT(key.status().message(), HasSubstr("self-signed certificate"));
  EXPECT_THAT(key.status().message(), Not(HasSubstr("rt-selfsigned")));
  EXPECT_EQ(Json::parse(ReadFileOrDie(daemon_.providers_path())), stored);
  EXPECT_EQ(daemon_.Stop().exit_code, 0);
}

// --- the socket directory ----------------------------------------------------------------------

TEST_F(HostileTrustTest, ASocketDirectoryOthersMayWriteIsRefusedStickyOrNot) {
  const std::string run = dir_.Sub("run");
  ASSERT_EQ(mkdir(run.c_str(), 0700), 0);
  for (mode_t mode : {0777, 01777, 0770}) {
    ASSERT_EQ(chmod(run.c_str(), mode), 0);
    const std::string log = RefusedStart();
    EXPECT_THAT(log, HasSubstr("refusing the socket directory " + run)) << mode;
    EXPECT_THAT(log, HasSubstr("bad permissions on " + run)) << mode;
  }
}

TEST_F(HostileTrustTest, ASocketDirectoryAnotherUidOwnsIsRefused) {
  const std::string run = dir_.Sub("run");
  ASSERT_EQ(mkdir(run.c_str(), 0700), 0);
  ASSERT_EQ(chown(run.c_str(), kNobodyUid, kNobodyUid), 0);
  const std::string log = RefusedStart();
  EXPECT_THAT(log, HasSubstr("refusing the socket directory " + run));
  EXPECT_THAT(log, HasSubstr("owned by uid 65534"));
}

// --- a socket another uid planted -------------------------------------------------------------

// A listener run as uid 65534 in a directory of its own, counting the bytes each connection
// sends: the clients must send it nothing at all.
class PlantedSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(chmod(dir_.path().c_str(), 0711), 0);
    ASSERT_EQ(mkdir(planted_dir().c_str(), 0755), 0);
    ASSERT_EQ(chown(planted_dir().c_str(), kNobodyUid, kNobodyUid), 0);
    const char* script = R"(
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(16)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(2.0)
    n = 0
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            n += len(d)
    except OSError:
        pass
    print("received", n, flush=True)
    c.close()
)";
    server_ = std::make_unique<ChildProcess>(AsNobody({AUTHD_PYTHON3, "-c", script, socket_path()}),
                                             ProcessOptions{});
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline && server_->PeekStdout().find("listening") == std::string::npos) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    ASSERT_THAT(server_->PeekStdout(), HasSubstr("listening")) << server_->PeekStderr();
  }

  std::string planted_dir() const { return dir_.Sub("planted"); }
  std::string socket_path() const { return planted_dir() + "/authd.sock"; }

  // Every connection the planted listener saw sent it 0 bytes.
  void ExpectNothingReceived() {
    absl::SleepFor(absl::Milliseconds(300));  // let it print the last connection's count
    for (absl::string_view line : absl::StrSplit(server_->PeekStdout(), '\n', absl::SkipEmpty())) {
      if (line == "listening") continue;
      EXPECT_EQ(line, "received 0");
    }
  }

  void ExpectClearRefusal(absl::string_view message) {
    EXPECT_THAT(std::string(message), HasSubstr("refusing to talk to " + socket_path()));
    EXPECT_THAT(std::string(message), HasSubstr("served by uid 65534"));
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> server_;
};

TEST_F(PlantedSocketTest, TheCppClientRefusesItBeforeSendingAKey) {
  AuthClientOptions options;
  options.socket_path = socket_path();
  options.env_fallback = false;
  AuthClient client(options);
  absl::StatusOr<v1::SetApiKeyResponse> set = client.SetApiKey("openai", "sk-planted-cpp-1234");
  ASSERT_FALSE(set.ok());
  EXPECT_TRUE(absl::IsPermissionDenied(set.status())) << set.status();
  ExpectClearRefusal(set.status().message());
  EXPECT_FALSE(IsDaemonUnreachable(set.status()));
  EXPECT_THAT(set.status().message(), Not(HasSubstr("sk-planted")));

  WatchedApiKeyOptions watch_options;
  watch_options.socket_path = socket_path();
  watch_options.env_fallback = false;
  WatchedApiKey watched("openai", watch_options);
  absl::StatusOr<ApiKey> key = watched.Await(std::chrono::seconds(5));
  EXPECT_TRUE(absl::IsPermissionDenied(key.status())) << key.status();
  ExpectNothingReceived();
}

TEST_F(PlantedSocketTest, OperatorctlRefusesItBeforeSendingAKey) {
  ProcessOptions options;
  options.stdin_data = "sk-planted-ctl-1234\n";
  ProcessResult set = RunProcess(
      {AUTHD_CTL_PATH, "--socket", socket_path(), "auth", "set", "openai", "--api-key", "-"},
      options);
  EXPECT_NE(set.exit_code, 0);
  ExpectClearRefusal(set.err);
  EXPECT_THAT(set.out + set.err, Not(HasSubstr("sk-planted")));
  ExpectNothingReceived();
}

TEST_F(PlantedSocketTest, ThePythonClientRefusesItBeforeSendingAnything) {
  const char* script = R"(
import sys
from operator_auth_client import AuthClient, UntrustedDaemon
with AuthClient(sys.argv[1], env_fallback=False) as client:
    try:
        client.get_api_key("openai")
    except UntrustedDaemon as error:
        print(error)
        sys.exit(3)
sys.exit(0)
)";
  ProcessOptions options;
  options.env = {{"PYTHONPATH", AUTHD_PYTHON_PACKAGE_DIR}, {"PYTHONDONTWRITEBYTECODE", "1"}};
  ProcessResult result = RunProcess({AUTHD_PYTHON3, "-c", script, socket_path()}, options);
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  ExpectClearRefusal(result.out);
  ExpectNothingReceived();
}

// --- the daemon's own uid ----------------------------------------------------------------------

TEST_F(HostileTrustTest, TheDaemonRefusesToRunAsTheOverflowUid) {
  std::ifstream overflow("/proc/sys/kernel/overflowuid");
  uid_t overflow_uid = 0;
  ASSERT_TRUE(overflow >> overflow_uid);
  ASSERT_EQ(overflow_uid, kNobodyUid) << "run_as_nobody assumes the overflow uid is 65534";

  ASSERT_EQ(chmod(dir_.path().c_str(), 0711), 0);
  DaemonProcess as_nobody(dir_.path(), CopyForNobody(AUTHD_DAEMON_PATH, dir_));
  as_nobody.SetLauncher(AsNobody({}));
  as_nobody.Launch();
  ProcessResult result = as_nobody.WaitForExit(absl::Seconds(30));
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("refusing to run as uid 65534, the overflow uid"));
}

}  // namespace
}  // namespace operator_auth::testing
