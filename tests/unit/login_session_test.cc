// LoginSession's device flow with a scripted OAuthClient (no HTTP): how long it waits, and what it
// emits around the flow (terms notice, post-login notes).
#include "daemon/oauth/login_session.h"

#include <atomic>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/oauth/http_client.h"

namespace operator_auth {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

// Never called: the scripted client below answers everything itself.
class NoHttp : public HttpClient {
 public:
  absl::StatusOr<HttpResponse> Send(const HttpRequest&) override {
    return absl::InternalError("no HTTP in this test");
  }
};

// A device-code provider whose code lives `lifetime` and which approves after `pending` polls.
class ScriptedDeviceClient : public OAuthClient {
 public:
  ScriptedDeviceClient(HttpClient& http, absl::Duration lifetime, int pending)
      : OAuthClient(Config(), http, nullptr), lifetime_(lifetime), pending_(pending) {}

  absl::StatusOr<DeviceAuthorization> StartDeviceAuthorization(const LoginOptions&) override {
    DeviceAuthorization device;
    device.device_code = "dc";
    device.user_code = "ABCD-1234";
    device.verification_uri = "https://example.invalid/device";
    device.expires_in = lifetime_;
    device.interval = absl::Milliseconds(20);
    return device;
  }

  absl::StatusOr<std::optional<Credential>> PollDeviceAuthorization(const DeviceAuthorization&,
                                                                    const LoginOptions&,
                                                                    absl::Duration&) override {
    if (polls_++ < pending_) return std::optional<Credential>();
    return std::optional<Credential>(Credential::OAuth("access", "refresh", 0));
  }

  std::string TermsNotice() const override { return "terms apply"; }

  absl::StatusOr<Credential> FinishLogin(Credential credential,
                                         std::vector<std::string>& notes) override {
    notes.push_back("post-login step done");
    credential.attributes["project_id"] = "p-1";
    return credential;
  }

  int polls() const { return polls_; }

 private:
  static OAuthProviderConfig Config() {
    OAuthProviderConfig c;
    c.id = "scripted";
    c.flow = OAuthFlow::kDeviceCode;
    return c;
  }

  const absl::Duration lifetime_;
  const int pending_;
  std::atomic<int> polls_{0};
};

// The device code lives as long as the provider said (GitHub: 15 min), not as long as the
// session's timeout for pasted answers: before, a 5-minute cap cut GitHub logins short.
TEST(LoginSession, ADeviceLoginWaitsTheProvidersLifetimeNotTheSessionTimeout) {
  NoHttp http;
  ScriptedDeviceClient client(http, absl::Minutes(15), /*pending=*/10);
  LoginSession session(client, LoginOptions(), /*timeout=*/absl::Milliseconds(50));
  std::vector<std::string> progress;
  absl::StatusOr<Credential> credential = session.Run([&](const LoginEvent& e) {
    if (e.kind == LoginEvent::Kind::kProgress) progress.push_back(e.text);
  });
  ASSERT_TRUE(credential.ok()) << credential.status();
  EXPECT_EQ(client.polls(), 11);
  EXPECT_EQ(credential->attributes.at("project_id"), "p-1");  // FinishLogin's result is stored
  EXPECT_THAT(progress, ElementsAre("terms apply", "post-login step done"));
  EXPECT_THAT(session.notes(), Contains("post-login step done"));
}

TEST(LoginSession, ADeviceCodeThatExpiresEndsTheLogin) {
  NoHttp http;
  ScriptedDeviceClient client(http, absl::Milliseconds(100), /*pending=*/1000);
  LoginSession session(client, LoginOptions(), absl::Minutes(5));
  absl::StatusOr<Credential> credential = session.Run([](const LoginEvent&) {});
  EXPECT_EQ(credential.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(client.polls(), 20);
}

TEST(LoginSession, ADeviceLoginAskedOfAProviderWithoutOneIsRefused) {
  NoHttp http;
  OAuthProviderConfig config;
  config.id = "browser-only";
  config.flow = OAuthFlow::kAuthorizationCode;
  OAuthClient client(config, http, nullptr);
  LoginOptions options;
  options.device = true;
  LoginSession session(client, options);
  absl::StatusOr<Credential> credential = session.Run([](const LoginEvent&) {});
  EXPECT_EQ(credential.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(credential.status().message()), ::testing::HasSubstr("no device-code"));
}

}  // namespace
}  // namespace operator_auth
