#include "daemon/vendor/vendor_links.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace operator_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using testing::TempDir;
using testing::WriteFileOrDie;

TEST(VendorLinks, SaveThenLoadRoundTrips) {
  TempDir dir;
  const std::string path = dir.Sub("vendor_links.json");
  std::vector<VendorLink> links = {
      {VendorSource::kClaudeCode,
       "/home/me/.claude/.credentials.json",
       {{"anthropic-claude-code", "0123456789abcdef0123456789abcdef"}},
       1764800000000},
      {VendorSource::kPi,
       "/home/me/.pi/agent/auth.json",
       {{"anthropic-claude-code", "aa"}, {"openrouter", "bb"}},
       1764800000001},
  };
  ASSERT_TRUE(SaveVendorLinks(path, links).ok());
  EXPECT_EQ(testing::FileMode(path), 0600);
  absl::StatusOr<std::vector<VendorLink>> loaded = LoadVendorLinks(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 2u);
  for (size_t i = 0; i < links.size(); ++i) {
    EXPECT_EQ((*loaded)[i].source, links[i].source);
    EXPECT_EQ((*loaded)[i].path, links[i].path);
    EXPECT_EQ((*loaded)[i].synced, links[i].synced);
    EXPECT_EQ((*loaded)[i].linked_unix_ms, links[i].linked_unix_ms);
  }
  ASSERT_TRUE(SaveVendorLinks(path, {}).ok());
  loaded = LoadVendorLinks(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->empty());
}

TEST(VendorLinks, AMissingFileHoldsNoLink) {
  TempDir dir;
  absl::StatusOr<std::vector<VendorLink>> loaded = LoadVendorLinks(dir.Sub("vendor_links.json"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->empty());
}

TEST(VendorLinks, AMalformedFileIsDataLossNamingTheFile) {
  TempDir dir;
  const std::string path = dir.Sub("vendor_links.json");
  for (const char* text : {
           "{not json",
           "[]",
           R"({"links": {}})",
           R"({"links": [1]})",
           R"({"links": [{"source": "emacs", "path": "/x"}]})",
           R"({"links": [{"source": "codex", "path": "relative/auth.json"}]})",
           R"({"links": [{"source": "codex"}]})",
       }) {
    WriteFileOrDie(path, text);
    absl::StatusOr<std::vector<VendorLink>> loaded = LoadVendorLinks(path);
    ASSERT_FALSE(loaded.ok()) << text;
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << text;
    EXPECT_THAT(loaded.status().message(), HasSubstr(path)) << text;
  }
}

TEST(LoginFingerprint, IsThirtyTwoHexDigitsThatDifferPerLogin) {
  const Credential oauth = Credential::OAuth("access-token-AAAA", "refresh-token-BBBB", 1);
  const std::string print = LoginFingerprint(&oauth);
  EXPECT_THAT(print, MatchesRegex("[0-9a-f]{32}"));
  EXPECT_THAT(print, Not(HasSubstr("AAAA")));
  EXPECT_THAT(print, Not(HasSubstr("BBBB")));

  // The expiry is not part of the login; the tokens and the type are.
  const Credential later = Credential::OAuth("access-token-AAAA", "refresh-token-BBBB", 2);
  EXPECT_EQ(LoginFingerprint(&later), print);
  const Credential new_access = Credential::OAuth("access-token-CCCC", "refresh-token-BBBB", 1);
  const Credential new_refresh = Credential::OAuth("access-token-AAAA", "refresh-token-CCCC", 1);
  EXPECT_NE(LoginFingerprint(&new_access), print);
  EXPECT_NE(LoginFingerprint(&new_refresh), print);
  EXPECT_NE(LoginFingerprint(&new_access), LoginFingerprint(&new_refresh));
  // Token boundaries count: "ab" + "c" is not "a" + "bc".
  const Credential ab_c = Credential::OAuth("ab", "c", 1);
  const Credential a_bc = Credential::OAuth("a", "bc", 1);
  EXPECT_NE(LoginFingerprint(&ab_c), LoginFingerprint(&a_bc));

  const Credential key = Credential::ApiKey("same-secret");
  const Credential access_only = Credential::OAuth("same-secret", "", 0);
  EXPECT_THAT(LoginFingerprint(&key), MatchesRegex("[0-9a-f]{32}"));
  EXPECT_NE(LoginFingerprint(&key), LoginFingerprint(&access_only));
}

TEST(LoginFingerprint, IsEmptyForNoLogin) {
  EXPECT_EQ(LoginFingerprint(nullptr), "");
  const Credential unknown;
  EXPECT_EQ(LoginFingerprint(&unknown), "");
  Credential broken = Credential::ApiKey("k");
  broken.problem = "field \"key\" is not a string";
  EXPECT_EQ(LoginFingerprint(&broken), "");
}

}  // namespace
}  // namespace operator_auth
