// FleetKey: the key file's format, AES-256-GCM sealing with the etcd key as associated data, and
// the refusals (another key, another etcd key, a changed byte, a file others may write).
#include "daemon/fleet/fleet_key.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace operator_auth {
namespace {

using ::operator_auth::testing::TempDir;
using ::operator_auth::testing::WriteFileOrDie;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kEtcdKey[] = "/operator-authd/fleet-a/providers";
constexpr char kPlain[] = R"({"anthropic":{"type":"oauth","refresh":"rt-fleet-0001"}})";

TrustBoundary NoHome() { return TrustBoundary{geteuid(), "/nonexistent-home"}; }

// What `openssl rand -base64 32` prints, the format the issue names for key files.
std::string OpensslRandBase64() {
  FILE* pipe = popen("openssl rand -base64 32", "r");
  if (pipe == nullptr) return std::string();
  std::string out;
  char buffer[128];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) out.append(buffer, n);
  pclose(pipe);
  return out;
}

TEST(FleetKeyTest, SealedValuesOpenUnderTheSameKeyAndEtcdKey) {
  const FleetKey key = FleetKey::Generate();
  const std::string sealed = key.Seal(kPlain, kEtcdKey);
  EXPECT_THAT(sealed, Not(HasSubstr("rt-fleet-0001")));
  // "v1", a 12-byte nonce, the ciphertext, a 16-byte tag.
  EXPECT_EQ(sealed.size(), 2 + 12 + std::string(kPlain).size() + 16);
  absl::StatusOr<SecretString> opened = key.Open(sealed, kEtcdKey);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->view(), kPlain);
  // A fresh nonce each time: the same value never seals to the same bytes.
  EXPECT_NE(key.Seal(kPlain, kEtcdKey), sealed);
  // The empty value seals too (a document with nothing in it).
  absl::StatusOr<SecretString> empty = key.Open(key.Seal("", kEtcdKey), kEtcdKey);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(FleetKeyTest, AnotherKeyAnotherEtcdKeyOrAChangedByteDoNotOpen) {
  const FleetKey key = FleetKey::Generate();
  const std::string sealed = key.Seal(kPlain, kEtcdKey);

  absl::StatusOr<SecretString> wrong_key = FleetKey::Generate().Open(sealed, kEtcdKey);
  EXPECT_EQ(wrong_key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(wrong_key.status().message()), HasSubstr("fleet key"));

  // Moved to another etcd key (say, another fleet's): the associated data no longer matches.
  EXPECT_EQ(key.Open(sealed, "/operator-authd/fleet-b/providers").status().code(),
            absl::StatusCode::kFailedPrecondition);

  for (size_t at : {size_t{2}, size_t{14}, sealed.size() / 2, sealed.size() - 1}) {
    std::string changed = sealed;
    changed[at] = static_cast<char>(changed[at] ^ 0x01);
    EXPECT_EQ(key.Open(changed, kEtcdKey).status().code(), absl::StatusCode::kFailedPrecondition)
        << "byte " << at;
  }
  EXPECT_EQ(key.Open(sealed.substr(0, sealed.size() - 1), kEtcdKey).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Not a sealed value at all: too short, or another version.
  EXPECT_EQ(key.Open("v1short", kEtcdKey).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(key.Open("v2" + sealed.substr(2), kEtcdKey).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(key.Open(kPlain, kEtcdKey).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(FleetKeyTest, ParsesWhatOpensslRandPrintsAndItsOwnText) {
  const std::string line = OpensslRandBase64();
  ASSERT_EQ(absl::StripAsciiWhitespace(line).size(), 44u) << "openssl rand printed: " << line;
  absl::StatusOr<FleetKey> from_openssl = FleetKey::Parse(line);
  ASSERT_TRUE(from_openssl.ok()) << from_openssl.status();
  EXPECT_EQ(from_openssl->Text().view(), line);  // the same one line, newline included

  const FleetKey generated = FleetKey::Generate();
  absl::StatusOr<FleetKey> again = FleetKey::Parse(generated.Text().view());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Fingerprint(), generated.Fingerprint());
  EXPECT_NE(again->Fingerprint(), from_openssl->Fingerprint());
  EXPECT_EQ(generated.Fingerprint().size(), 8u);
  // The same key opens what the other copy sealed: what two hosts with one key file do.
  absl::StatusOr<SecretString> opened = again->Open(generated.Seal(kPlain, kEtcdKey), kEtcdKey);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->view(), kPlain);
}

TEST(FleetKeyTest, RefusesTextThatIsNotBase64OfThirtyTwoBytes) {
  const std::string secretish = "c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LWlzLXRvby1zaG9ydA==";
  for (const std::string& text :
       {std::string(), std::string("not base64 at all!"),
        std::string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="),      // 31 bytes
        std::string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="),  // 34 bytes
        secretish}) {
    absl::StatusOr<FleetKey> key = FleetKey::Parse(text);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument) << text;
    if (!text.empty()) {
      EXPECT_THAT(std::string(key.status().message()), Not(HasSubstr(text)));
    }
  }
}

TEST(FleetKeyTest, LoadReadsAPrivateFileAndRefusesOneOthersCanWrite) {
  TempDir dir;
  const FleetKey key = FleetKey::Generate();
  const std::string path = dir.Sub("fleet.key");
  WriteFileOrDie(path, std::string(key.Text().view()));
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  absl::StatusOr<FleetKey> loaded = FleetKey::Load(path, NoHome());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->Fingerprint(), key.Fingerprint());

  ASSERT_EQ(chmod(path.c_str(), 0620), 0);
  absl::StatusOr<FleetKey> writable = FleetKey::Load(path, NoHome());
  EXPECT_FALSE(writable.ok());
  EXPECT_THAT(std::string(writable.status().message()), HasSubstr("fleet key file"));
  EXPECT_THAT(std::string(writable.status().message()),
              Not(HasSubstr(std::string(absl::StripAsciiWhitespace(key.Text().view())))));

  EXPECT_EQ(FleetKey::Load(dir.Sub("missing.key"), NoHome()).status().code(),
            absl::StatusCode::kNotFound);
  const std::string garbage = dir.Sub("garbage.key");
  WriteFileOrDie(garbage, "hunter2-not-a-key\n");
  ASSERT_EQ(chmod(garbage.c_str(), 0600), 0);
  absl::StatusOr<FleetKey> bad = FleetKey::Load(garbage, NoHome());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr(garbage));
  EXPECT_THAT(std::string(bad.status().message()), Not(HasSubstr("hunter2")));
}

}  // namespace
}  // namespace operator_auth
