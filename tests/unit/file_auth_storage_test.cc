#include "daemon/core/file_auth_storage.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "daemon/core/provider_auth_manager.h"
#include "daemon/core/provider_registry.h"
#include "tests/support/temp_dir.h"

namespace operator_auth {
namespace {

using testing::FileMode;
using ::testing::HasSubstr;
using testing::PathExists;
using testing::ReadFileOrDie;
using testing::TempDir;
using testing::WriteFileOrDie;
using Json = nlohmann::ordered_json;

class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t mask) : old_(umask(mask)) {}
  ~UmaskGuard() { umask(old_); }

 private:
  mode_t old_;
};

std::unique_ptr<FileAuthStorage> OpenOrDie(const std::string& auth_dir) {
  absl::StatusOr<std::unique_ptr<FileAuthStorage>> s = FileAuthStorage::Open(auth_dir);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

absl::Status PutKey(AuthStorage& storage, const std::string& id, const std::string& key) {
  return storage.Update([&](CredentialDocument& d) -> absl::StatusOr<bool> {
    d.Put(id, Credential::ApiKey(key));
    return true;
  });
}

// A write that would pass the size limit is refused whole; the file keeps what it held and loads.
TEST(FileAuthStorage, AWritePastTheSizeLimitIsRefusedAndTheFileStaysLoadable) {
  TempDir dir;
  FileAuthStorage::Options options;
  options.max_write_bytes = 64 * 1024;
  auto storage = FileAuthStorage::Open(dir.Sub("auth"), options);
  ASSERT_TRUE(storage.ok());
  const std::string key(4000, 'k');
  absl::Status last;
  int written = 0;
  for (int i = 0; i < 100 && last.ok(); ++i) {
    last = PutKey(**storage, "p" + std::to_string(i), key);
    if (last.ok()) ++written;
  }
  EXPECT_EQ(last.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(last.message(), HasSubstr("over the limit of 65536"));
  EXPECT_GT(written, 10);
  const std::string text = ReadFileOrDie(dir.Sub("auth/providers.json"));
  EXPECT_LE(text.size(), 64u * 1024);
  EXPECT_EQ(Json::parse(text).size(), static_cast<size_t>(written));
  EXPECT_EQ((*storage)->Snapshot()->credentials.size(), static_cast<size_t>(written));
  EXPECT_TRUE((*storage)->Snapshot()->load_error.empty());
  // Making room works again.
  ASSERT_TRUE(
      (*storage)
          ->Update([](CredentialDocument& d) -> absl::StatusOr<bool> { return d.Remove("p0"); })
          .ok());
  EXPECT_TRUE(PutKey(**storage, "p-last", "sk-small").ok());
}

TEST(FileAuthStorage, ModesArePrivateUnderAnyUmask) {
  UmaskGuard umask_zero(0);
  TempDir dir;
  const std::string auth = dir.Sub("home/auth");
  auto storage = OpenOrDie(auth);
  ASSERT_TRUE(PutKey(*storage, "openai", "sk-1").ok());
  EXPECT_EQ(FileMode(dir.Sub("home")), 0700);
  EXPECT_EQ(FileMode(auth), 0700);
  EXPECT_EQ(FileMode(auth + "/providers.json"), 0600);
  EXPECT_EQ(FileMode(auth + "/providers.lock"), 0600);
}

TEST(FileAuthStorage, TightensAnExistingLooseDirectoryAndFile) {
  UmaskGuard umask_zero(0);
  TempDir dir;
  const std::string auth = dir.Sub("auth");
  ASSERT_EQ(mkdir(auth.c_str(), 0755), 0);
  WriteFileOrDie(auth + "/providers.json", R"({"openai": {"type": "api_key", "key": "sk-1"}})");
  ASSERT_EQ(chmod((auth + "/providers.json").c_str(), 0644), 0);
  auto storage = OpenOrDie(auth);
  EXPECT_EQ(FileMode(auth), 0700);
  EXPECT_EQ(FileMode(auth + "/providers.json"), 0600);
}

TEST(FileAuthStorage, ExternalEditIsSeenByTheNextSnapshot) {
  TempDir dir;
  auto storage = OpenOrDie(dir.Sub("auth"));
  const std::string path = dir.Sub("auth/providers.json");
  // In-place rewrites of the same size, faster than mtime granularity: only a real change
  // notification catches every one.
  for (int i = 0; i < 20; ++i) {
    std::string key = "sk-external-" + std::to_string(i % 10);
    WriteFileOrDie(path, R"({"openai": {"type": "api_key", "key": ")" + key + "\"}}");
    auto snapshot = storage->Snapshot();
    ASSERT_EQ(snapshot->credentials.at("openai").key.view(), key) << "iteration " << i;
  }
}

TEST(FileAuthStorage, ExternalEditSurvivesOurWrite) {
  TempDir dir;
  auto storage = OpenOrDie(dir.Sub("auth"));
  ASSERT_TRUE(PutKey(*storage, "openai", "sk-ours").ok());
  const std::string path = dir.Sub("auth/providers.json");
  Json external = Json::parse(ReadFileOrDie(path));
  external["python-tool"] = {{"type", "api_key"}, {"key", "sk-py"}, {"extra", {{"x", 1}}}};
  WriteFileOrDie(path, external.dump());
  // Our next write re-reads under the lock instead of writing our stale view back.
  ASSERT_TRUE(PutKey(*storage, "groq", "gsk-ours").ok());
  Json after = Json::parse(ReadFileOrDie(path));
  EXPECT_EQ(after["python-tool"], external["python-tool"]);
  EXPECT_EQ(after["openai"]["key"], "sk-ours");
  EXPECT_EQ(after["groq"]["key"], "gsk-ours");
}

TEST(FileAuthStorage, MalformedFileIsReportedOnceAndNeverWritten) {
  TempDir dir;
  const std::string auth = dir.Sub("auth");
  ASSERT_EQ(mkdir(auth.c_str(), 0700), 0);
  const std::string path = auth + "/providers.json";
  const std::string broken = "{\"openai\": {\"type\": \"api_key\", \"key\": \"sk-secret-broken";
  WriteFileOrDie(path, broken);

  auto storage = OpenOrDie(auth);
  auto snapshot = storage->Snapshot();
  EXPECT_THAT(snapshot->load_error, HasSubstr("not valid JSON"));
  EXPECT_TRUE(snapshot->credentials.empty());

  absl::Status write = PutKey(*storage, "groq", "gsk-1");
  EXPECT_TRUE(absl::IsFailedPrecondition(write)) << write;
  EXPECT_THAT(std::string(write.message()), HasSubstr("cannot be loaded"));
  EXPECT_EQ(ReadFileOrDie(path), broken);

  std::vector<StorageError> errors = storage->DrainErrors();
  ASSERT_EQ(errors.size(), 2u);  // the load, then the refused write
  EXPECT_THAT(errors[0].message, HasSubstr("not valid JSON"));
  for (const StorageError& e : errors) EXPECT_THAT(e.message, ::testing::Not(HasSubstr("secret")));
  EXPECT_TRUE(storage->DrainErrors().empty());
  storage->Snapshot();  // an unchanged broken file is not reported again
  EXPECT_TRUE(storage->DrainErrors().empty());

  WriteFileOrDie(path, R"({"openai": {"type": "api_key", "key": "sk-fixed"}})");
  snapshot = storage->Snapshot();
  EXPECT_TRUE(snapshot->load_error.empty());
  EXPECT_EQ(snapshot->credentials.at("openai").key.view(), "sk-fixed");
  EXPECT_TRUE(PutKey(*storage, "groq", "gsk-1").ok());
}

TEST(FileAuthStorage, BrokenReloadKeepsServingTheLastGoodCredentials) {
  TempDir dir;
  auto storage = OpenOrDie(dir.Sub("auth"));
  ASSERT_TRUE(PutKey(*storage, "openai", "sk-good").ok());
  WriteFileOrDie(dir.Sub("auth/providers.json"), "{ half-edited");
  auto snapshot = storage->Snapshot();
  EXPECT_FALSE(snapshot->load_error.empty());
  EXPECT_EQ(snapshot->credentials.at("openai").key.view(), "sk-good");
}

TEST(FileAuthStorage, SweepsTempFilesACrashedWriterLeft) {
  TempDir dir;
  const std::string auth = dir.Sub("auth");
  ASSERT_EQ(mkdir(auth.c_str(), 0700), 0);
  WriteFileOrDie(auth + "/.providers.json.tmp-abc123", "{\"openai\": {\"key\": \"sk-torn");
  WriteFileOrDie(auth + "/unrelated.txt", "keep me");
  auto storage = OpenOrDie(auth);
  EXPECT_FALSE(PathExists(auth + "/.providers.json.tmp-abc123"));
  EXPECT_TRUE(PathExists(auth + "/unrelated.txt"));
}

TEST(FileAuthStorage, WritesLeaveNoTempFiles) {
  TempDir dir;
  auto storage = OpenOrDie(dir.Sub("auth"));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(PutKey(*storage, "p" + std::to_string(i), "k").ok());
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.Sub("auth"))) {
    EXPECT_THAT(e.path().filename().string(), ::testing::Not(HasSubstr(".tmp-")));
    ++entries;
  }
  EXPECT_EQ(entries, 2);  // providers.json and providers.lock
}

TEST(FileAuthStorage, RefusesASymlinkAtTheCredentialsPath) {
  TempDir dir;
  const std::string auth = dir.Sub("auth");
  ASSERT_EQ(mkdir(auth.c_str(), 0700), 0);
  WriteFileOrDie(dir.Sub("elsewhere.json"), R"({"openai": {"type": "api_key", "key": "sk-x"}})");
  ASSERT_EQ(symlink(dir.Sub("elsewhere.json").c_str(), (auth + "/providers.json").c_str()), 0);
  auto storage = OpenOrDie(auth);
  EXPECT_THAT(storage->Snapshot()->load_error, HasSubstr("symlink"));
  EXPECT_FALSE(PutKey(*storage, "groq", "gsk").ok());
  EXPECT_EQ(ReadFileOrDie(dir.Sub("elsewhere.json")),
            R"({"openai": {"type": "api_key", "key": "sk-x"}})");
}

TEST(FileAuthStorage, UnknownEntriesSurviveManagerWrites) {
  TempDir dir;
  const std::string auth = dir.Sub("auth");
  ASSERT_EQ(mkdir(auth.c_str(), 0700), 0);
  const Json original = Json::parse(R"({
    "future": {"type": "passkey", "blob": [1, 2]},
    "openai-codex": {"type": "oauth", "access": "a", "refresh": "r", "expires": 1,
                     "extra": {"account_id": "acct"}}})");
  WriteFileOrDie(auth + "/providers.json", original.dump());
  auto storage = OpenOrDie(auth);
  ProviderAuthManager manager(*storage, ProviderRegistry::BuiltIn());
  ASSERT_TRUE(manager.SetApiKey("openai", "sk-1").ok());
  ASSERT_TRUE(manager.Logout("openai").ok());
  Json after = Json::parse(ReadFileOrDie(auth + "/providers.json"));
  EXPECT_EQ(after, original);
}

}  // namespace
}  // namespace operator_auth
