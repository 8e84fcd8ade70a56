// A fixture for logins end to end over the gRPC stream: the real daemon, the fake provider on
// 127.0.0.1 with every built-in provider pointed at it, and the test acting as the browser (it
// follows the authorize redirect to the daemon's loopback server).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/fake_oauth/fake_oauth_server.h"
#include "tests/integration/daemon_fixture.h"

namespace operator_auth::testing {

// A port that was free a moment ago on 127.0.0.1.
inline int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

inline bool PortIsFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// Splits "http://host:port/path?query" into the origin and the rest.
inline std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  size_t path = url.find('/', url.find("://") + 3);
  return {url.substr(0, path), url.substr(path)};
}

class LoginTest : public DaemonTest {
 protected:
  using Json = nlohmann::json;
  using Stream = grpc::ClientReaderWriter<v1::LoginRequest, v1::LoginEvent>;

  void SetUp() override {
    fake_.Start();
    callback_port_ = FreeLoopbackPort();
    Json config = Json::parse(LoopbackOnlyConfig(fake_.base_url()));
    config["oauth_providers"]["openai-codex"]["redirect_uri"] =
        "http://localhost:" + std::to_string(callback_port_) + "/auth/callback";
    Configure(config);
    daemon_.SetConfig(config.dump());
    DaemonTest::SetUp();
    channel_ =
        grpc::CreateChannel("unix:" + daemon_.socket_path(), grpc::InsecureChannelCredentials());
    stub_ = v1::AuthService::NewStub(channel_);
  }

  std::unique_ptr<Stream> StartLogin(grpc::ClientContext& context, const std::string& provider,
                                     const std::string& domain = "") {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto stream = stub_->Login(&context);
    v1::LoginRequest start;
    start.mutable_start()->set_provider(provider);
    start.mutable_start()->set_enterprise_domain(domain);
    EXPECT_TRUE(stream->Write(start));
    return stream;
  }

  // The browser's part: ask the provider to authorize, and return where it redirects to.
  std::string Authorize(const std::string& auth_url) {
    auto [origin, rest] = SplitUrl(auth_url);
    httplib::Client provider(origin);
    provider.set_follow_location(false);
    auto reply = provider.Get(rest);
    EXPECT_TRUE(reply) << "authorize request failed";
    if (!reply) return "";
    EXPECT_EQ(reply->status, 302);
    return reply->get_header_value("Location");
  }

  // ...and follow that redirect to the daemon's loopback server.
  void FollowRedirect(const std::string& location) {
    auto [origin, rest] = SplitUrl(location);
    std::string loopback = origin;
    size_t host = loopback.find("localhost");
    if (host != std::string::npos) loopback.replace(host, 9, "127.0.0.1");
    httplib::Client callback(loopback);
    auto reply = callback.Get(rest);
    ASSERT_TRUE(reply) << "the daemon's callback server did not answer";
    EXPECT_EQ(reply->status, 200);
    EXPECT_THAT(reply->body, ::testing::HasSubstr("close this tab"));
  }

  // Lets a derived fixture change authd.json before the daemon starts.
  virtual void Configure(Json& config) { (void)config; }

  FakeOAuthServer fake_;
  int callback_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AuthService::Stub> stub_;
};

}  // namespace operator_auth::testing
