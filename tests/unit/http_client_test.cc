#include "daemon/oauth/http_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/self_signed_https_server.h"

namespace operator_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A real HTTP server on 127.0.0.1 for the duration of a test. Register handlers on server()
// before the first request; handlers that wait should poll released() so the destructor's stop()
// does not have to wait for them.
class LocalServer {
 public:
  LocalServer() : port_(server_.bind_to_any_port("127.0.0.1")) {
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~LocalServer() {
    released_ = true;
    server_.stop();
    thread_.join();
  }

  httplib::Server& server() { return server_; }
  bool released() const { return released_; }
  std::string Url(absl::string_view path_and_query) const {
    return absl::StrCat("http://127.0.0.1:", port_, path_and_query);
  }

 private:
  httplib::Server server_;
  int port_;
  std::atomic<bool> released_{false};
  std::thread thread_;
};

// A port on which nothing listens: the socket is bound (so no one else takes the port) but never
// listens, so a connection to it is refused.
class ClosedPort {
 public:
  ClosedPort() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), length), 0);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length), 0);
    port_ = ntohs(address.sin_port);
  }
  ~ClosedPort() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

std::string HeaderOf(const httplib::Request& request, const char* name) {
  return request.get_header_value(name);
}

TEST(CurlHttpClient, PostsFormBodyAndReadsJsonReply) {
  LocalServer local;
  std::string method, body, content_type, custom;
  local.server().Post("/oauth/token", [&](const httplib::Request& req, httplib::Response& res) {
    method = req.method;
    body = req.body;
    content_type = HeaderOf(req, "Content-Type");
    custom = HeaderOf(req, "X-Request-Id");
    res.set_content(R"({"access_token":"at-1","expires_in":3600})",
                    "Application/JSON; charset=utf-8");
  });

  HttpRequest request;
  request.url = local.Url("/oauth/token");
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"X-Request-Id", "req-42"}};
  request.body = FormEncode({{"grant_type", "refresh_token"}, {"refresh_token", "rt/1 +2"}});
  absl::StatusOr<HttpResponse> response = CurlHttpClient().Send(request);

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->content_type, "application/json");
  EXPECT_EQ(response->body, R"({"access_token":"at-1","expires_in":3600})");
  EXPECT_EQ(method, "POST");
  EXPECT_EQ(body, "grant_type=refresh_token&refresh_token=rt%2F1%20%2B2");
  EXPECT_EQ(content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(custom, "req-42");
}

TEST(CurlHttpClient, PostsJsonBodyIntact) {
  LocalServer local;
  std::string body, content_type;
  local.server().Post("/token", [&](const httplib::Request& req, httplib::Response& res) {
    body = req.body;
    content_type = HeaderOf(req, "Content-Type");
    res.status = 201;
  });

  HttpRequest request;
  request.url = local.Url("/token");
  request.headers = {{"Content-Type", "application/json"}};
  request.body = R"({"client_id":"cli","code":"c\u00e9 \"quoted\"","n":[1,2]})";
  absl::StatusOr<HttpResponse> response = CurlHttpClient().Send(request);

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(body, request.body);
  EXPECT_EQ(content_type, "application/json");
}

TEST(CurlHttpClient, PostsBinaryBodyWithNulBytesByteForByte) {
  LocalServer local;
  std::string body;
  local.server().Post("/bin", [&](const httplib::Request& req, httplib::Response& res) {
    body = req.body;
    res.set_content(req.body, "application/octet-stream");
  });

  HttpRequest request;
  request.url = local.Url("/bin");
  request.headers = {{"Content-Type", "application/octet-stream"}};
  request.body = std::string("a\0b\xff\x01", 5) + std::string(5000, '\0');
  absl::StatusOr<HttpResponse> response = CurlHttpClient().Send(request);

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(body, request.body);
  EXPECT_EQ(response->body, request.body);
}

TEST(CurlHttpClient, PostsEmptyBodyWithZeroContentLength) {
  LocalServer local;
  std::string content_length = "unset";
  local.server().Post("/revoke", [&](const httplib::Request& req, httplib::Response& res) {
    content_length = HeaderOf(req, "Content-Length");
    res.status = 200;
  });

  HttpRequest request;
  request.url = local.Url("/revoke");
  absl::StatusOr<HttpResponse> response = CurlHttpClient().Send(request);

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(content_length, "0");
}

TEST(CurlHttpClient, GetSendsNoBodyAndKeepsTheQueryString) {
  LocalServer local;
  std::string method, body, code, accept;
  local.server().Get("/device", [&](const httplib::Request& req, httplib::Response& res) {
    method = req.method;
    body = req.body;
    code = req.get_param_value("code");
    accept = HeaderOf(req, "Accept");
    res.set_content("ok", "text/plain");
  });

  HttpRequest request;
  request.method = "GET";
  request.url = local.Url("/device?code=" + UrlEncode("a b&c"));
  request.headers = {{"Accept", "application/json"}};
  request.body = "ignored for GET";
  absl::StatusOr<HttpResponse> response = CurlHttpClient().Send(request);

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->content_type, "text/plain");
  EXPECT_EQ(response->body, "ok");
  EXPECT_EQ(method, "GET");
  EXPECT_EQ(body, "");
  EXPECT_EQ(code, "a b&c");
  EXPECT_EQ(accept, "application/json");
}

TEST(CurlHttpClient, SendsItsOwnUserAgentUnlessTheRequestSetsOne) {
  LocalServer local;
  std::string user_agent;
  local.server().Get("/ua", [&](const httplib::Request& req, httplib::Response& res) {
    user_agent = HeaderOf(req, "User-Agent");
    res.status = 204;
  });
  CurlHttpClient client;
  HttpRequest request;
  request.method = "GET";
  request.url = local.Url("/ua");

  ASSERT_TRUE(client.Send(request).ok());
  EXPECT_THAT(user_agent, ::testing::StartsWith("operator-authd/"));

  request.headers = {{"user-agent", "codex-cli/1.0"}};
  ASSERT_TRUE(client.Send(request).ok());
  EXPECT_EQ(user_agent, "codex-cli/1.0");
}

TEST(CurlHttpClient, ReturnsErrorStatusesAsResponses) {
  LocalServer local;
  local.server().Post("/token", [](const httplib::Request&, httplib::Response& res) {
    res.status = 400;
    res.set_content(R"({"error":"invalid_grant"})", "application/json");
  });
  local.server().Post("/busy", [](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_content("try later", "text/plain; charset=us-ascii");
  });
  CurlHttpClient client;
  HttpRequest request;

  request.url = local.Url("/token");
  absl::StatusOr<HttpResponse> bad_grant = client.Send(request);
  ASSERT_TRUE(bad_grant.ok()) << bad_grant.status();
  EXPECT_EQ(bad_grant->status, 400);
  EXPECT_EQ(bad_grant->content_type, "application/json");
  EXPECT_EQ(bad_grant->body, R"({"error":"invalid_grant"})");

  request.url = local.Url("/busy");
  absl::StatusOr<HttpResponse> busy = client.Send(request);
  ASSERT_TRUE(busy.ok()) << busy.status();
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->content_type, "text/plain");

  request.url = local.Url("/no-such-path");
  absl::StatusOr<HttpResponse> missing = client.Send(request);
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->status, 404);
}

TEST(CurlHttpClient, DoesNotFollowRedirects) {
  LocalServer local;
  std::atomic<int> elsewhere_hits{0};
  local.server().Post("/token", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/elsewhere", 302);
  });
  local.server().Post("/elsewhere", [&](const httplib::Request&, httplib::Response& res) {
    ++elsewhere_hits;
    res.status = 200;
  });

  HttpRequest request;
  request.url = local.Url("/token");
  request.body = "code=abc";
  absl::StatusOr<HttpResponse> response = CurlHttpClient().Send(request);

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 302);
  EXPECT_EQ(elsewhere_hits, 0);
}

TEST(CurlHttpClient, SlowServerIsDeadlineExceeded) {
  LocalServer local;
  local.server().Post("/slow", [&](const httplib::Request&, httplib::Response& res) {
    const absl::Time give_up = absl::Now() + absl::Seconds(2);
    while (!local.released() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(10));
    res.status = 200;
  });

  HttpRequest request;
  request.url = local.Url("/slow?code=SECRET-QUERY");
  request.body = "client_secret=SECRET-BODY";
  request.timeout = absl::Milliseconds(200);
  const absl::Time start = absl::Now();
  absl::StatusOr<HttpResponse> response = CurlHttpClient().Send(request);
  const absl::Duration elapsed = absl::Now() - start;

  EXPECT_TRUE(absl::IsDeadlineExceeded(response.status())) << response.status();
  EXPECT_LT(elapsed, absl::Seconds(1));
  const std::string message(response.status().message());
  EXPECT_THAT(message, HasSubstr("POST http://127.0.0.1:"));
  EXPECT_THAT(message, HasSubstr("/slow"));
  EXPECT_THAT(message, Not(HasSubstr("SECRET")));
  EXPECT_THAT(message, Not(HasSubstr("code=")));
}

TEST(CurlHttpClient, ClosedPortIsUnavailable) {
  ClosedPort closed;
  HttpRequest request;
  request.url = absl::StrCat("http://127.0.0.1:", closed.port(), "/oauth/token");
  request.timeout = absl::Seconds(5);
  absl::StatusOr<HttpResponse> response = CurlHttpClient().Send(request);

  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
}

TEST(CurlHttpClient, ErrorMessageNamesSchemeHostAndPathOnly) {
  ClosedPort closed;
  HttpRequest request;
  request.url = absl::StrCat("http://alice:PASSWORD-IN-URL@127.0.0.1:", closed.port(),
                             "/oauth/token?code=CODE-IN-QUERY#FRAGMENT-PART");
  request.headers = {{"Authorization", "Bearer TOKEN-IN-HEADER"}};
  request.body = "refresh_token=TOKEN-IN-BODY";
  absl::StatusOr<HttpResponse> response = CurlHttpClient().Send(request);

  ASSERT_FALSE(response.ok());
  const std::string message(response.status().message());
  EXPECT_THAT(message,
              HasSubstr(absl::StrCat("POST http://127.0.0.1:", closed.port(), "/oauth/token")));
  for (const char* secret : {"alice", "PASSWORD-IN-URL", "CODE-IN-QUERY", "FRAGMENT-PART",
                             "TOKEN-IN-HEADER", "TOKEN-IN-BODY", "?", "#"}) {
    EXPECT_THAT(message, Not(HasSubstr(secret)));
  }
}

TEST(CurlHttpClient, OversizedBodyIsResourceExhausted) {
  LocalServer local;
  const std::string big(kMaxResponseBytes + 1, 'x');
  local.server().Get("/big", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(big, "application/json");
  });

  HttpRequest request;
  request.method = "GET";
  request.url = local.Url("/big");
  absl::StatusOr<HttpResponse> response = CurlHttpClient().Send(request);

  EXPECT_TRUE(absl::IsResourceExhausted(response.status())) << response.status();
  EXPECT_THAT(std::string(response.status().message()), Not(HasSubstr("xxxx")));
}

TEST(CurlHttpClient, OversizedChunkedBodyWithoutLengthIsResourceExhausted) {
  LocalServer local;
  local.server().Get("/stream", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json",
                                     [](size_t offset, httplib::DataSink& sink) {
                                       if (offset > 2 * kMaxResponseBytes) {
                                         sink.done();
                                         return true;
                                       }
                                       const std::string chunk(64 * 1024, 'y');
                                       return sink.write(chunk.data(), chunk.size());
                                     });
  });

  HttpRequest request;
  request.method = "GET";
  request.url = local.Url("/stream");
  absl::StatusOr<HttpResponse> response = CurlHttpClient().Send(request);

  EXPECT_TRUE(absl::IsResourceExhausted(response.status())) << response.status();
}

TEST(CurlHttpClient, BodyOfExactlyTheLimitIsAccepted) {
  LocalServer local;
  const std::string body(kMaxResponseBytes, 'z');
  local.server().Get("/limit", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(body, "application/octet-stream");
  });

  HttpRequest request;
  request.method = "GET";
  request.url = local.Url("/limit");
  absl::StatusOr<HttpResponse> response = CurlHttpClient().Send(request);

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body.size(), kMaxResponseBytes);
}

TEST(CurlHttpClient, RefusesSchemesOtherThanHttpAndHttps) {
  for (const char* url : {"file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/"}) {
    HttpRequest request;
    request.method = "GET";
    request.url = url;
    absl::StatusOr<HttpResponse> response = CurlHttpClient().Send(request);
    EXPECT_TRUE(absl::IsInvalidArgument(response.status())) << url << ": " << response.status();
  }
}

TEST(CurlHttpClient, RefusesASelfSignedCertificate) {
  testing::SelfSignedHttpsServer tls;
  CurlHttpClient client;
  HttpRequest request;
  request.url = tls.Url("/token");
  request.body = "grant_type=refresh_token";
  request.timeout = absl::Seconds(10);
  absl::StatusOr<HttpResponse> response = client.Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
  EXPECT_THAT(response.status().message(),
              HasSubstr("refused: the server's TLS certificate could not be verified"));
  EXPECT_THAT(response.status().message(), HasSubstr("self-signed certificate"));
}

TEST(CurlHttpClient, RefusesPlainHttpToAnythingButLoopback) {
  CurlHttpClient client;
  HttpRequest request;
  request.url = "http://192.0.2.1/token";  // TEST-NET-1: nothing is ever sent there
  request.timeout = absl::Seconds(1);
  absl::StatusOr<HttpResponse> response = client.Send(request);
  EXPECT_TRUE(absl::IsInvalidArgument(response.status())) << response.status();
  EXPECT_THAT(response.status().message(), HasSubstr("only for a loopback host"));
}

TEST(CurlHttpClient, RejectsHeaderInjectionAndUnknownMethods) {
  CurlHttpClient client;
  HttpRequest request;
  request.url = "http://127.0.0.1:9/token";
  request.headers = {{"Authorization", "Bearer SECRET\r\nX-Injected: 1"}};
  absl::StatusOr<HttpResponse> injected = client.Send(request);
  EXPECT_TRUE(absl::IsInvalidArgument(injected.status())) << injected.status();
  EXPECT_THAT(std::string(injected.status().message()), Not(HasSubstr("SECRET")));

  request.headers.clear();
  request.method = "DELETE";
  EXPECT_TRUE(absl::IsInvalidArgument(client.Send(request).status()));
}

TEST(CurlHttpClient, ServesConcurrentSendsFromManyThreads) {
  LocalServer local;
  local.server().Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.body, "text/plain");
  });
  CurlHttpClient client;
  std::atomic<int> matched{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        HttpRequest request;
        request.url = local.Url("/echo");
        request.body = absl::StrCat("thread=", t, "&i=", i);
        absl::StatusOr<HttpResponse> response = client.Send(request);
        if (response.ok() && response->body == request.body) ++matched;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(matched, 20);
}

TEST(UrlEncode, LeavesOnlyUnreservedCharactersUnescaped) {
  EXPECT_EQ(UrlEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(UrlEncode("a b+c/d?e=f&g%h"), "a%20b%2Bc%2Fd%3Fe%3Df%26g%25h");
  EXPECT_EQ(UrlEncode(std::string("\0\xff*", 3)), "%00%FF%2A");
  EXPECT_EQ(UrlEncode("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(UrlEncode(""), "");
}

TEST(FormEncode, JoinsEncodedFieldsInOrderWithPercentTwentyForSpace) {
  EXPECT_EQ(FormEncode({{"grant_type", "authorization_code"},
                        {"redirect_uri", "http://localhost:1455/auth/callback"},
                        {"scope", "openid profile"},
                        {"empty", ""}}),
            "grant_type=authorization_code&redirect_uri=http%3A%2F%2Flocalhost%3A1455%2Fauth%2F"
            "callback&scope=openid%20profile&empty=");
  EXPECT_EQ(FormEncode({}), "");
}

TEST(FormDecode, DecodesPlusAsSpaceAndPercentEscapes) {
  const HttpFields fields = FormDecode("code=a%2Fb+c&state=xyz&scope=openid%20email");
  EXPECT_EQ(fields, (HttpFields{{"code", "a/b c"}, {"state", "xyz"}, {"scope", "openid email"}}));
}

TEST(FormDecode, KeepsMalformedEscapesLiterally) {
  EXPECT_EQ(FormDecode("a=%zz&b=%4&c=100%&d=%%41"),
            (HttpFields{{"a", "%zz"}, {"b", "%4"}, {"c", "100%"}, {"d", "%A"}}));
}

TEST(FormDecode, HandlesMissingValuesEmptyPairsAndRepeatedNames) {
  EXPECT_EQ(FormDecode("flag&&x=1&x=2&=v&k="),
            (HttpFields{{"flag", ""}, {"x", "1"}, {"x", "2"}, {"", "v"}, {"k", ""}}));
  EXPECT_EQ(FormDecode(""), HttpFields{});
  EXPECT_EQ(FormDecode("a=b=c"), (HttpFields{{"a", "b=c"}}));
}

TEST(FormDecode, RoundTripsFormEncode) {
  const HttpFields fields = {{"a b", "c&d=e"}, {"\xc3\xa9", std::string("\0+%", 3)}, {"x", ""}};
  EXPECT_EQ(FormDecode(FormEncode(fields)), fields);
}

}  // namespace
}  // namespace operator_auth
