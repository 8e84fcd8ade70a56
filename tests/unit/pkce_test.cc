#include "daemon/oauth/pkce.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace operator_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

bool IsBase64UrlWithoutPadding(const std::string& text) {
  return text.find_first_not_of(
             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
         std::string::npos;
}

TEST(Pkce, ChallengeMatchesRfc7636AppendixB) {
  const unsigned char random_octets[] = {116, 24,  223, 180, 151, 153, 224, 37,  79,  250, 96,
                                         125, 216, 173, 187, 186, 22,  212, 37,  77,  105, 214,
                                         191, 240, 91,  88,  5,   88,  83,  132, 141, 121};
  const std::string verifier = Base64UrlEncode(
      absl::string_view(reinterpret_cast<const char*>(random_octets), sizeof(random_octets)));
  EXPECT_EQ(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  EXPECT_EQ(PkceChallenge(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Pkce, GeneratedVerifierIs43UrlSafeCharactersAndMatchesItsChallenge) {
  const PkcePair pair = GeneratePkce();
  EXPECT_EQ(pair.verifier.size(), 43u);
  EXPECT_TRUE(IsBase64UrlWithoutPadding(pair.verifier)) << pair.verifier;
  EXPECT_EQ(pair.challenge.size(), 43u);
  EXPECT_TRUE(IsBase64UrlWithoutPadding(pair.challenge)) << pair.challenge;
  EXPECT_EQ(pair.challenge, PkceChallenge(pair.verifier));
}

TEST(Pkce, TwoGenerationsDiffer) {
  const PkcePair first = GeneratePkce();
  const PkcePair second = GeneratePkce();
  EXPECT_NE(first.verifier, second.verifier);
  EXPECT_NE(first.challenge, second.challenge);
  EXPECT_NE(RandomUrlSafeToken(), RandomUrlSafeToken());
}

TEST(Pkce, RandomUrlSafeTokenLengthFollowsItsByteCount) {
  EXPECT_EQ(RandomUrlSafeToken().size(), 43u);
  EXPECT_EQ(RandomUrlSafeToken(16).size(), 22u);
  EXPECT_EQ(RandomUrlSafeToken(1).size(), 2u);
  EXPECT_EQ(RandomUrlSafeToken(0), "");
  const std::string token = RandomUrlSafeToken(300);
  EXPECT_EQ(token.size(), 400u);
  EXPECT_TRUE(IsBase64UrlWithoutPadding(token));
  absl::StatusOr<std::string> bytes = Base64UrlDecode(token);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size(), 300u);
}

TEST(Base64Url, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

// Bits left over in the last character are ignored, not required to be zero.
TEST(Base64Url, DecodesNonCanonicalTrailingBits) {
  absl::StatusOr<std::string> decoded = Base64UrlDecode("Zm9=");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, "fo");
}

TEST(Base64Url, DecodesWithAndWithoutPadding) {
  for (const char* text : {"Zm9vYg", "Zm9vYg=="}) {
    absl::StatusOr<std::string> decoded = Base64UrlDecode(text);
    ASSERT_TRUE(decoded.ok()) << text << ": " << decoded.status();
    EXPECT_EQ(*decoded, "foob");
  }
  for (const char* text : {"Zm9vYmE", "Zm9vYmE="}) {
    absl::StatusOr<std::string> decoded = Base64UrlDecode(text);
    ASSERT_TRUE(decoded.ok()) << text << ": " << decoded.status();
    EXPECT_EQ(*decoded, "fooba");
  }
  absl::StatusOr<std::string> empty = Base64UrlDecode("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
  absl::StatusOr<std::string> url_safe = Base64UrlDecode("-_8");
  ASSERT_TRUE(url_safe.ok());
  EXPECT_EQ(*url_safe, "\xfb\xff");
}

TEST(Base64Url, RoundTripsEveryByteValueAtEveryLengthRemainder) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  for (size_t length = 0; length <= all_bytes.size(); length += 1) {
    const std::string data = all_bytes.substr(all_bytes.size() - length);
    absl::StatusOr<std::string> decoded = Base64UrlDecode(Base64UrlEncode(data));
    ASSERT_TRUE(decoded.ok()) << length;
    EXPECT_EQ(*decoded, data) << length;
  }
}

TEST(Base64Url, RejectsCharactersOutsideTheAlphabetWithoutQuotingThem) {
  for (const std::string& text :
       {std::string("Zm9v+mFy"), std::string("Zm9v/mFy"), std::string("Zm9v YmFy"),
        std::string("Zm9v\0mFy", 8), std::string("Zm9v\xc3\xa9mF"), std::string("Zm=9vYmF"),
        std::string("Zm9vYmF\n")}) {
    absl::StatusOr<std::string> decoded = Base64UrlDecode(text);
    EXPECT_TRUE(absl::IsInvalidArgument(decoded.status())) << decoded.status();
    EXPECT_THAT(std::string(decoded.status().message()), Not(HasSubstr("Zm9v")));
  }
}

TEST(Base64Url, RejectsMalformedPaddingAndImpossibleLengths) {
  for (const char* text : {"Z", "Zm9vY", "Zg=", "Zg===", "Zm9v=", "=", "==", "Zm9vYmFy===="}) {
    EXPECT_TRUE(absl::IsInvalidArgument(Base64UrlDecode(text).status())) << text;
  }
}

}  // namespace
}  // namespace operator_auth
