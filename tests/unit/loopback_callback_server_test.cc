#include "daemon/oauth/loopback_callback_server.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace operator_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPath[] = "/auth/callback";
constexpr char kState[] = "state-Zx81_q";
constexpr char kCode[] = "ac_Code-9f3.x~y";

std::unique_ptr<LoopbackCallbackServer> StartServer(int port = 0) {
  absl::StatusOr<std::unique_ptr<LoopbackCallbackServer>> server =
      LoopbackCallbackServer::Start(port, kPath, kState);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

struct Reply {
  int status = 0;  // 0: no HTTP response at all (e.g. connection refused)
  std::string body;
  std::string content_type;
  std::string cache_control;
};

// A request from a fresh connection, as a browser's redirect makes it.
Reply Send(int port, const std::string& method, const std::string& target) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(2);
  client.set_url_encode(false);  // send the target as written, as a browser following a redirect
  httplib::Result result = method == "POST"
                               ? client.Post(target, "code=x", "application/x-www-form-urlencoded")
                               : client.Get(target);
  if (!result) return {};
  return {result->status, result->body, result->get_header_value("Content-Type"),
          result->get_header_value("Cache-Control")};
}

Reply Get(int port, const std::string& target) { return Send(port, "GET", target); }

std::string CallbackTarget(absl::string_view code, absl::string_view state) {
  return absl::StrCat(kPath, "?code=", code, "&state=", state);
}

// A login still waiting reports DEADLINE_EXCEEDED at once.
bool StillWaiting(LoopbackCallbackServer& server) {
  return server.Wait(absl::ZeroDuration()).status().code() == absl::StatusCode::kDeadlineExceeded;
}

TEST(LoopbackCallbackServer, SuccessReturnsTheCode) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  ASSERT_GT(server->port(), 0);

  const Reply reply = Get(server->port(), CallbackTarget(kCode, kState) + "&scope=openid");
  EXPECT_EQ(reply.status, 200);
  EXPECT_THAT(reply.body, HasSubstr("Login complete &mdash; you can close this tab."));
  EXPECT_THAT(reply.body, Not(HasSubstr(kCode)));
  EXPECT_THAT(reply.body, Not(HasSubstr(kState)));
  EXPECT_THAT(reply.body, Not(HasSubstr("http")));  // no external resources
  EXPECT_EQ(reply.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(reply.cache_control, "no-store");

  const absl::StatusOr<AuthorizationResponse> response = server->Wait(absl::Seconds(5));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->code, kCode);
  EXPECT_EQ(response->state, kState);
  // Every later Wait() sees the same outcome.
  EXPECT_EQ(server->Wait(absl::ZeroDuration())->code, kCode);
}

TEST(LoopbackCallbackServer, StaleStateDoesNotEndTheLogin) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  std::optional<absl::StatusOr<AuthorizationResponse>> waited;
  std::thread waiter([&] { waited = server->Wait(absl::Seconds(10)); });

  for (const std::string& target :
       {CallbackTarget("forged", "other-state"), CallbackTarget("forged", ""),
        absl::StrCat(kPath, "?code=forged"),
        absl::StrCat(kPath, "?error=access_denied&state=other-state")}) {
    SCOPED_TRACE(target);
    const Reply reply = Get(server->port(), target);
    EXPECT_EQ(reply.status, 400);
    EXPECT_THAT(reply.body, HasSubstr("This login link is stale or was not started here."));
    EXPECT_THAT(reply.body, Not(HasSubstr("forged")));
    EXPECT_TRUE(StillWaiting(*server));
  }

  EXPECT_EQ(Get(server->port(), CallbackTarget(kCode, kState)).status, 200);
  waiter.join();
  ASSERT_TRUE(waited.has_value());
  ASSERT_TRUE(waited->ok()) << waited->status();
  EXPECT_EQ((*waited)->code, kCode);
}

TEST(LoopbackCallbackServer, MalformedCallbackDoesNotEndTheLogin) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  for (const std::string& target :
       {std::string(kPath), absl::StrCat(kPath, "?state=", kState),
        CallbackTarget("with%20space", kState), CallbackTarget("", kState),
        absl::StrCat(CallbackTarget("a", kState), "&code=b"),
        CallbackTarget(std::string(5000, 'c'), kState)}) {
    SCOPED_TRACE(target.substr(0, 80));
    EXPECT_EQ(Get(server->port(), target).status, 400);
    EXPECT_TRUE(StillWaiting(*server));
  }
  EXPECT_EQ(Get(server->port(), CallbackTarget(kCode, kState)).status, 200);
  EXPECT_EQ(server->Wait(absl::Seconds(5))->code, kCode);
}

TEST(LoopbackCallbackServer, OtherPathsAndMethodsDoNotEndTheLogin) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);

  const Reply other_path = Get(server->port(), absl::StrCat("/favicon.ico?code=x&state=", kState));
  EXPECT_EQ(other_path.status, 404);
  EXPECT_LT(other_path.body.size(), 64u);
  EXPECT_EQ(Get(server->port(), absl::StrCat(kPath, "/more?code=x&state=", kState)).status, 404);
  EXPECT_EQ(Send(server->port(), "POST", CallbackTarget("x", kState)).status, 405);
  EXPECT_TRUE(StillWaiting(*server));

  EXPECT_EQ(Get(server->port(), CallbackTarget(kCode, kState)).status, 200);
  EXPECT_EQ(server->Wait(absl::Seconds(5))->code, kCode);
}

TEST(LoopbackCallbackServer, ProviderErrorEndsTheLoginWithPermissionDenied) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const Reply reply =
      Get(server->port(), absl::StrCat(kPath,
                                       "?error=access_denied&error_description=The+user+"
                                       "declined&state=",
                                       kState));
  EXPECT_EQ(reply.status, 200);
  EXPECT_THAT(reply.body, HasSubstr("not completed"));

  const absl::Status status = server->Wait(absl::Seconds(5)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(status.message()), HasSubstr("access_denied"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("The user declined"));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr(kState)));
}

TEST(LoopbackCallbackServer, StopsListeningOnceTheLoginEnds) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Get(server->port(), CallbackTarget(kCode, kState)).status, 200);
  // The listening socket closed before the page was sent: a second callback finds no one.
  EXPECT_EQ(Get(server->port(), CallbackTarget("another", kState)).status, 0);
  EXPECT_EQ(server->Wait(absl::ZeroDuration())->code, kCode);
}

TEST(LoopbackCallbackServer, WaitTimesOut) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const absl::Time start = absl::Now();
  const absl::Status status = server->Wait(absl::Milliseconds(100)).status();
  const absl::Duration waited = absl::Now() - start;
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(waited, absl::Milliseconds(95));
  EXPECT_LT(waited, absl::Seconds(2));

  // The server still listens after a timeout.
  EXPECT_EQ(Get(server->port(), CallbackTarget(kCode, kState)).status, 200);
  EXPECT_EQ(server->Wait(absl::ZeroDuration())->code, kCode);
}

TEST(LoopbackCallbackServer, CancelFromAnotherThreadEndsTheWaitAndFreesThePort) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const int port = server->port();

  std::optional<absl::StatusOr<AuthorizationResponse>> waited;
  absl::Time returned;
  std::thread waiter([&] {
    waited = server->Wait(absl::Seconds(30));
    returned = absl::Now();
  });
  absl::SleepFor(absl::Milliseconds(50));
  const absl::Time cancelled = absl::Now();
  server->Cancel();
  waiter.join();
  ASSERT_TRUE(waited.has_value());
  EXPECT_EQ(waited->status().code(), absl::StatusCode::kCancelled);
  EXPECT_LT(returned - cancelled, absl::Milliseconds(500));

  // The port is free as soon as Cancel() returns, before Stop() joins anything.
  auto next = StartServer(port);
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->port(), port);

  const absl::Time stopping = absl::Now();
  server->Stop();
  EXPECT_LT(absl::Now() - stopping, absl::Seconds(1));
  EXPECT_EQ(server->Wait(absl::ZeroDuration()).status().code(), absl::StatusCode::kCancelled);

  // The new login on the same port works.
  EXPECT_EQ(Get(port, CallbackTarget(kCode, kState)).status, 200);
  EXPECT_EQ(next->Wait(absl::Seconds(5))->code, kCode);
}

TEST(LoopbackCallbackServer, StopIsPromptAndIdempotent) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Get(server->port(), CallbackTarget("x", "stale")).status, 400);
  const absl::Time start = absl::Now();
  server->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  server->Stop();
  server->Cancel();
  EXPECT_EQ(server->Wait(absl::Seconds(1)).status().code(), absl::StatusCode::kCancelled);
}

// A connection to the server's port that sends `sent` and then nothing.
int ConnectAndSend(int port, const std::string& sent) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  if (!sent.empty()) {
    EXPECT_EQ(send(fd, sent.data(), sent.size(), MSG_NOSIGNAL), static_cast<ssize_t>(sent.size()));
  }
  return fd;
}

// True when the server closed `fd` (EOF or reset) within `timeout`; whatever it answered
// first is read and dropped.
bool ClosedByServer(int fd, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  char buffer[4096];
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    pollfd p{fd, POLLIN, 0};
    if (left <= absl::ZeroDuration() ||
        poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) != 1) {
      return false;
    }
    const ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
  }
}

TEST(LoopbackCallbackServer, StopIsPromptWhateverClientsHoldOpen) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  std::vector<int> fds;
  fds.push_back(ConnectAndSend(server->port(), ""));                               // idle
  fds.push_back(ConnectAndSend(server->port(), "GET /auth/callback?code=x&st"));   // half a line
  fds.push_back(ConnectAndSend(server->port(), "GET / HTTP/1.1\r\nHost: x\r\n"));  // no end
  absl::SleepFor(absl::Milliseconds(20));

  const absl::Time start = absl::Now();
  server->Stop();
  const absl::Duration took = absl::Now() - start;
  std::cout << "[ FIGURE   ] loopback_stop_with_idle_and_half_sent_clients_ms = "
            << absl::ToDoubleMilliseconds(took) << std::endl;
  EXPECT_LT(took, absl::Milliseconds(200));
  for (int fd : fds) {
    EXPECT_TRUE(ClosedByServer(fd, absl::Seconds(1)));
    close(fd);
  }
}

TEST(LoopbackCallbackServer, ASlowLorisClientIsClosedAtTheRequestDeadline) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const int fd = ConnectAndSend(server->port(), "GET /auth/callback?code=");
  EXPECT_FALSE(ClosedByServer(fd, LoopbackCallbackServer::kRequestDeadline / 2));
  EXPECT_TRUE(ClosedByServer(fd, LoopbackCallbackServer::kRequestDeadline));
  close(fd);
  EXPECT_EQ(server->timed_out_connections(), 1u);
  EXPECT_TRUE(StillWaiting(*server));
}

TEST(LoopbackCallbackServer, AClientTricklingItsRequestIsClosedAtTheDeadlineToo) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const int fd = ConnectAndSend(server->port(), "G");
  const absl::Time start = absl::Now();
  bool closed = false;
  // One byte every 200 ms keeps the connection readable on every round; 40 rounds (8 s) at
  // most, so a server that only closed idle connections would run past the bound below.
  for (int i = 0; i < 40 && !closed; ++i) {
    closed = ClosedByServer(fd, absl::Milliseconds(200));
    if (!closed) send(fd, "E", 1, MSG_NOSIGNAL);
  }
  const absl::Duration took = absl::Now() - start;
  close(fd);
  EXPECT_TRUE(closed);
  // Slack for a loaded 2-core machine under TSan (3.5 s was seen); a trickle that kept it open
  // would take the whole 8 s.
  EXPECT_LT(took, LoopbackCallbackServer::kRequestDeadline + absl::Seconds(3));
}

TEST(LoopbackCallbackServer, ConnectionsPastTheCapAreClosedAtOnceAndTheCallbackStillEndsTheLogin) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  std::vector<int> held;
  for (size_t i = 0; i < LoopbackCallbackServer::kMaxConnections; ++i) {
    held.push_back(ConnectAndSend(server->port(), "GET /auth/callback HTTP/1.1\r\n"));
  }
  absl::SleepFor(absl::Milliseconds(50));
  const int extra = ConnectAndSend(server->port(), "");
  EXPECT_TRUE(ClosedByServer(extra, absl::Milliseconds(500))) << "past the cap: closed at once";
  close(extra);
  EXPECT_GE(server->refused_connections(), 1u);
  for (int fd : held) close(fd);  // the flood goes away: its places free up
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(Get(server->port(), CallbackTarget(kCode, kState)).status, 200);
  EXPECT_EQ(server->Wait(absl::Seconds(5))->code, kCode);
}

TEST(LoopbackCallbackServer, AnOversizedRequestHeadIsRefused) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const std::string head =
      "GET /auth/callback?x=" + std::string(LoopbackCallbackServer::kMaxRequestHeadBytes, 'a');
  const int fd = ConnectAndSend(server->port(), head);
  EXPECT_TRUE(ClosedByServer(fd, absl::Seconds(1)));
  close(fd);
  EXPECT_TRUE(StillWaiting(*server));
}

TEST(LoopbackCallbackServer, PortInUseIsFailedPrecondition) {
  auto first = StartServer();
  ASSERT_NE(first, nullptr);
  const absl::Status status = LoopbackCallbackServer::Start(first->port(), kPath, kState).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(absl::StrCat("port ", first->port(), " on 127.0.0.1 is in use")));

  // The refused second server did not disturb the first.
  EXPECT_EQ(Get(first->port(), CallbackTarget(kCode, kState)).status, 200);
  EXPECT_EQ(first->Wait(absl::Seconds(5))->code, kCode);
}

TEST(LoopbackCallbackServer, PortHeldByAReusePortListenerIsInUse) {
  // httplib's own default socket options set SO_REUSEPORT; had we set it too, both listeners
  // would share the port and the kernel would split the callbacks between them.
  httplib::Server other;
  const int port = other.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  EXPECT_EQ(LoopbackCallbackServer::Start(port, kPath, kState).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// The listening sockets of this process on `port`, with their local address.
std::vector<int> ListeningSocketsOnPort(int port) {
  std::vector<int> sockets;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::stoi(entry.path().filename().string());
    int listening = 0;
    socklen_t length = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || !listening) {
      continue;
    }
    sockaddr_storage address{};
    socklen_t address_length = sizeof(address);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_length) != 0) continue;
    in_port_t bound_port = 0;
    if (address.ss_family == AF_INET) {
      bound_port = reinterpret_cast<const sockaddr_in*>(&address)->sin_port;
    } else if (address.ss_family == AF_INET6) {
      bound_port = reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port;
    }
    if (ntohs(bound_port) == port) sockets.push_back(fd);
  }
  return sockets;
}

int IntOption(int fd, int option) {
  int value = -1;
  socklen_t length = sizeof(value);
  EXPECT_EQ(getsockopt(fd, SOL_SOCKET, option, &value, &length), 0);
  return value;
}

// A non-loopback IPv4 address of this host, if it has one.
std::optional<in_addr> NonLoopbackAddress() {
  ifaddrs* interfaces = nullptr;
  if (getifaddrs(&interfaces) != 0) return std::nullopt;
  std::optional<in_addr> found;
  for (ifaddrs* entry = interfaces; entry != nullptr && !found; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET) continue;
    const in_addr address = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr)->sin_addr;
    if ((ntohl(address.s_addr) >> 24) != 127) found = address;
  }
  freeifaddrs(interfaces);
  return found;
}

TEST(LoopbackCallbackServer, ListensOnLoopbackOnly) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const std::vector<int> sockets = ListeningSocketsOnPort(server->port());
  ASSERT_EQ(sockets.size(), 1u);
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  ASSERT_EQ(getsockname(sockets[0], reinterpret_cast<sockaddr*>(&address), &length), 0);
  ASSERT_EQ(address.ss_family, AF_INET);
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&address)->sin_addr, text, sizeof(text));
  EXPECT_STREQ(text, "127.0.0.1");
  EXPECT_NE(IntOption(sockets[0], SO_REUSEADDR), 0);
  EXPECT_EQ(IntOption(sockets[0], SO_REUSEPORT), 0);

  // Where the host has another address, nothing answers there.
  if (const std::optional<in_addr> other = NonLoopbackAddress()) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_addr = *other;
    target.sin_port = htons(static_cast<uint16_t>(server->port()));
    EXPECT_NE(connect(fd, reinterpret_cast<const sockaddr*>(&target), sizeof(target)), 0);
    close(fd);
  }
}

TEST(LoopbackCallbackServer, StartRejectsBadArguments) {
  EXPECT_EQ(LoopbackCallbackServer::Start(-1, kPath, kState).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoopbackCallbackServer::Start(65536, kPath, kState).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoopbackCallbackServer::Start(0, "auth/callback", kState).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoopbackCallbackServer::Start(0, kPath, "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace operator_auth
