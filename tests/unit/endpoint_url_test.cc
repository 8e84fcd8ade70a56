#include "daemon/oauth/endpoint_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace operator_auth {
namespace {

using ::testing::HasSubstr;

TEST(EndpointUrl, HttpsGoesAnywhere) {
  EXPECT_TRUE(CheckEndpointUrl("https://auth.openai.com/oauth/token").ok());
  EXPECT_TRUE(CheckEndpointUrl("HTTPS://api.{domain}/copilot").ok());
}

TEST(EndpointUrl, PlainHttpOnlyToLoopbackHosts) {
  for (const char* url :
       {"http://127.0.0.1:8080/token", "http://127.255.1.2/x", "http://localhost:1/cb",
        "http://LOCALHOST/", "http://[::1]:9/x", "http://user@127.0.0.1/x"}) {
    EXPECT_TRUE(CheckEndpointUrl(url).ok()) << url;
  }
  for (const char* url :
       {"http://example.com/token", "http://128.0.0.1/", "http://127.0.0.1.evil.example/",
        "http://localhost.evil.example/", "http://127.0.0.1@evil.example/", "http://0177.0.0.1/",
        "http://[::ffff:127.0.0.1]/", "http://10.0.0.1:8080/token", "http://[::1/", "http://"}) {
    absl::Status s = CheckEndpointUrl(url);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << url;
    EXPECT_THAT(s.message(), HasSubstr("loopback")) << url;
  }
}

TEST(EndpointUrl, OtherSchemesAreRefused) {
  for (const char* url : {"ftp://127.0.0.1/x", "file:///etc/passwd", "127.0.0.1:80", ""}) {
    EXPECT_TRUE(absl::IsInvalidArgument(CheckEndpointUrl(url))) << url;
  }
}

TEST(EndpointUrl, HostIsTakenAfterUserinfoAndBeforePort) {
  EXPECT_EQ(UrlHost("http://a:b@Example.COM:80/p?q"), "example.com");
  EXPECT_EQ(UrlHost("https://[::1]:443/"), "[::1]");
  EXPECT_EQ(UrlHost("https://host?x=@evil"), "host");
  EXPECT_EQ(UrlHost("mailto:x"), "");
  EXPECT_FALSE(IsLoopbackHost("127.0.0"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.256"));
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
}

}  // namespace
}  // namespace operator_auth
