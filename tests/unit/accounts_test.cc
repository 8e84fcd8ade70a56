// Several accounts per provider (#13): the providers.json format (the default account stays the
// top-level entry; named accounts under "_accounts"), selectors, resolution per account, the
// default switch, and one refresh flight per account.
#include <sys/stat.h>

#include <atomic>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/credential_key.h"
#include "daemon/core/credential_document.h"
#include "daemon/core/file_auth_storage.h"
#include "daemon/core/in_memory_auth_storage.h"
#include "daemon/core/provider_auth_manager.h"
#include "daemon/core/refresh_coordinator.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/fake_token_service.h"

namespace operator_auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::FakeRefresher;
using testing::ReadFileOrDie;
using testing::TempDir;
using testing::WriteFileOrDie;
using Json = nlohmann::ordered_json;

TEST(CredentialSelector, SplitsAndValidatesBothParts) {
  auto plain = ParseCredentialSelector("openai");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->provider, "openai");
  EXPECT_EQ(plain->account, "");
  auto named = ParseCredentialSelector("claude@work");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->provider, "claude");
  EXPECT_EQ(named->account, "work");
  auto field = ParseCredentialSelector("openai", "work");
  ASSERT_TRUE(field.ok());
  EXPECT_EQ(field->account, "work");
  EXPECT_TRUE(ParseCredentialSelector("openai@work", "work").ok());  // the same, twice

  EXPECT_THAT(ParseCredentialSelector("openai@work", "home").status().message(),
              HasSubstr("named twice"));
  EXPECT_THAT(ParseCredentialSelector("openai@").status().message(), HasSubstr("account name"));
  EXPECT_THAT(ParseCredentialSelector("openai@Work").status().message(), HasSubstr("account name"));
  EXPECT_THAT(ParseCredentialSelector("openai@a@b").status().message(), HasSubstr("account name"));
  EXPECT_THAT(ParseCredentialSelector("@work").status().message(), HasSubstr("provider id"));

  EXPECT_EQ(CredentialKey("openai", ""), "openai");
  EXPECT_EQ(CredentialKey("openai", "work"), "openai@work");
  EXPECT_EQ(ProviderOfKey("openai@work"), "openai");
  EXPECT_EQ(AccountOfKey("openai@work"), "work");
  EXPECT_EQ(AccountOfKey("openai"), "");
}

TEST(AccountsDocument, NamedAccountsLiveUnderAccountsAndTheDefaultStaysOnTop) {
  CredentialDocument doc;
  doc.Put("openai", Credential::ApiKey("sk-default"));
  doc.Put("openai@work", Credential::ApiKey("sk-work"));
  Json file = Json::parse(doc.Serialize());
  // What a py-filelock reader looks up is untouched by the named account.
  EXPECT_EQ(file["openai"]["key"], "sk-default");
  EXPECT_EQ(file["_accounts"]["openai"]["named"]["work"]["key"], "sk-work");
  EXPECT_FALSE(file["_accounts"]["openai"].contains("default"));

  std::map<std::string, Credential> all = doc.Credentials();
  ASSERT_EQ(all.size(), 2u);  // "_accounts" itself is no provider
  EXPECT_EQ(all.at("openai").key.view(), "sk-default");
  EXPECT_EQ(all.at("openai@work").key.view(), "sk-work");
  EXPECT_TRUE(doc.Contains("openai@work"));
  EXPECT_FALSE(doc.Contains("openai@home"));
  EXPECT_FALSE(doc.Contains("_accounts"));

  // Removing the last named account leaves the file as if it had never had one.
  EXPECT_TRUE(doc.Remove("openai@work"));
  EXPECT_FALSE(doc.Remove("openai@work"));
  EXPECT_FALSE(Json::parse(doc.Serialize()).contains("_accounts"));
  EXPECT_FALSE(doc.Remove("_accounts"));
}

TEST(AccountsDocument, SetDefaultSwapsPlacesAndKeepsEveryField) {
  absl::StatusOr<CredentialDocument> doc = CredentialDocument::Parse(R"({
    "anthropic": {"type": "oauth", "access": "at-personal", "refresh": "rt-personal",
                  "expires": 1, "note": "mine"},
    "_accounts": {"anthropic": {"named": {"work": {"type": "api_key", "key": "sk-work",
                                                    "team": "x"}}}}})");
  ASSERT_TRUE(doc.ok()) << doc.status();
  absl::StatusOr<bool> swapped = doc->SetDefaultAccount("anthropic", "work");
  ASSERT_TRUE(swapped.ok()) << swapped.status();
  EXPECT_TRUE(*swapped);
  Json file = Json::parse(doc->Serialize());
  EXPECT_EQ(file["anthropic"]["key"], "sk-work");
  EXPECT_EQ(file["anthropic"]["team"], "x");
  EXPECT_EQ(file["_accounts"]["anthropic"]["default"], "work");
  // The old default is a named account under the name it went by ("default").
  EXPECT_EQ(file["_accounts"]["anthropic"]["named"]["default"]["access"], "at-personal");
  EXPECT_EQ(file["_accounts"]["anthropic"]["named"]["default"]["note"], "mine");
  EXPECT_FALSE(file["_accounts"]["anthropic"]["named"].contains("work"));
  EXPECT_EQ(doc->DefaultAccountNames().at("anthropic"), "work");

  EXPECT_FALSE(*doc->SetDefaultAccount("anthropic", "work"));  // already
  EXPECT_TRUE(absl::IsNotFound(doc->SetDefaultAccount("anthropic", "nobody").status()));
  ASSERT_TRUE(*doc->SetDefaultAccount("anthropic", "default"));  // and back
  file = Json::parse(doc->Serialize());
  EXPECT_EQ(file["anthropic"]["access"], "at-personal");
  EXPECT_EQ(file["_accounts"]["anthropic"]["named"]["work"]["key"], "sk-work");
}

TEST(AccountsDocument, AMalformedAccountsSectionIsRefusedNotOverwritten) {
  for (const char* text : {R"({"_accounts": []})", R"({"_accounts": {"openai": 3}})",
                           R"({"_accounts": {"openai": {"default": 7}}})",
                           R"({"_accounts": {"openai": {"default": "Bad Name"}}})",
                           R"({"_accounts": {"openai": {"named": []}}})",
                           R"({"_accounts": {"openai": {"named": {"Bad@": {}}}}})"}) {
    absl::StatusOr<CredentialDocument> doc = CredentialDocument::Parse(text);
    EXPECT_TRUE(absl::IsInvalidArgument(doc.status())) << text;
    EXPECT_THAT(doc.status().message(), HasSubstr("_accounts")) << text;
  }
}

class AccountsManagerTest : public ::testing::Test {
 protected:
  AccountsManagerTest()
      : manager_(
            storage_, ProviderRegistry::BuiltIn(),
            [this](const std::string& name) -> std::optional<std::string> {
              auto it = env_.find(name);
              if (it == env_.end()) return std::nullopt;
              return it->second;
            },
            [] { return absl::FromUnixSeconds(1'800'000'000); }) {}

  std::map<std::string, std::string> env_;
  InMemoryAuthStorage storage_;
  ProviderAuthManager manager_;
};

TEST_F(AccountsManagerTest, EachAccountResolvesItsOwnKeyAndOnlyTheDefaultFallsToEnv) {
  env_["OPENAI_API_KEY"] = "sk-env";
  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-default").ok());
  ASSERT_TRUE(manager_.SetApiKey("openai@work", "sk-work").ok());

  auto key = manager_.GetApiKey("openai@work");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key.view(), "sk-work");
  EXPECT_EQ(key->provider, "openai");
  EXPECT_EQ(key->account, "work");
  key = manager_.GetApiKey("openai");
  EXPECT_EQ(key->key.view(), "sk-default");
  EXPECT_EQ(key->account, "");
  // The default's own name means the default.
  EXPECT_EQ(manager_.GetApiKey("openai@default")->key.view(), "sk-default");

  // A named account with nothing stored is NOT_FOUND naming it; the env key is the default's.
  auto missing = manager_.GetApiKey("openai@home");
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_THAT(missing.status().message(), HasSubstr("account \"home\" of openai"));
  EXPECT_THAT(missing.status().message(), ::testing::Not(HasSubstr("sk-")));
  ASSERT_TRUE(manager_.Logout("openai@work")->removed);
  EXPECT_TRUE(absl::IsNotFound(manager_.GetApiKey("openai@work").status()));
  ASSERT_TRUE(manager_.Logout("openai")->removed);
  EXPECT_EQ(manager_.GetApiKey("openai")->key.view(), "sk-env");

  // Aliases name the provider part too.
  ASSERT_TRUE(manager_.SetApiKey("claude@work", "sk-ant-work").ok());
  EXPECT_EQ(manager_.GetApiKey("anthropic-claude-code@work")->key.view(), "sk-ant-work");
  EXPECT_TRUE(absl::IsInvalidArgument(manager_.GetApiKey("openai@Bad").status()));
}

TEST_F(AccountsManagerTest, RuntimeKeysArePerAccount) {
  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-default").ok());
  ASSERT_TRUE(manager_.SetApiKey("openai@work", "sk-work").ok());
  ASSERT_TRUE(manager_.SetRuntimeApiKey("openai@work", "sk-runtime-work").ok());
  EXPECT_EQ(manager_.GetApiKey("openai@work")->key.view(), "sk-runtime-work");
  EXPECT_EQ(manager_.GetApiKey("openai")->key.view(), "sk-default");
}

TEST_F(AccountsManagerTest, StatusAndListingNameTheAccounts) {
  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-default").ok());
  ASSERT_TRUE(manager_.SetApiKey("openai@work", "sk-work").ok());
  auto status = manager_.GetStatus("openai@work");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->provider, "openai");
  EXPECT_EQ(status->account, "work");
  EXPECT_FALSE(status->default_account);
  EXPECT_TRUE(status->configured);
  status = manager_.GetStatus("openai");
  EXPECT_EQ(status->account, "default");
  EXPECT_TRUE(status->default_account);

  std::vector<std::string> listed;
  for (const ProviderListing& p : manager_.ListProviders()) {
    if (p.id == "openai") {
      for (const AccountListing& a : p.accounts) {
        listed.push_back(a.name + (a.is_default ? "*" : "") +
                         (a.status.configured ? "+" : "-"));
      }
    } else {
      EXPECT_TRUE(p.accounts.empty()) << p.id;
    }
    EXPECT_EQ(p.id.find('@'), std::string::npos);  // accounts are no providers of their own
  }
  EXPECT_THAT(listed, ElementsAre("default*+", "work+"));
}

TEST_F(AccountsManagerTest, SetDefaultChangesWhatCallersNamingNoAccountGet) {
  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-personal").ok());
  ASSERT_TRUE(manager_.SetApiKey("openai@work", "sk-work").ok());
  absl::StatusOr<bool> changed = manager_.SetDefaultAccount("openai", "work");
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(manager_.GetApiKey("openai")->key.view(), "sk-work");
  EXPECT_EQ(manager_.GetApiKey("openai@work")->key.view(), "sk-work");  // its name still works
  EXPECT_EQ(manager_.GetApiKey("openai@default")->key.view(), "sk-personal");
  EXPECT_EQ(manager_.DefaultAccountName("openai"), "work");
  EXPECT_TRUE(absl::IsNotFound(manager_.SetDefaultAccount("openai", "nobody").status()));
}

// Each account refreshes on its own: concurrent callers of two expired accounts of one provider
// make exactly one token-endpoint call per account, and each rotated token lands in its account.
TEST(AccountsRefresh, OneFlightPerAccount) {
  TempDir dir;
  const std::string auth = dir.Sub("auth");
  ASSERT_EQ(mkdir(auth.c_str(), 0700), 0);
  const int64_t expired = absl::ToUnixMillis(absl::Now() - absl::Minutes(1));
  Json file = {{"openai-codex", {{"type", "oauth"}, {"access", "a0"}, {"refresh", "r-home"},
                                 {"expires", expired}}},
               {"_accounts",
                {{"openai-codex",
                  {{"named", {{"work", {{"type", "oauth"}, {"access", "a1"},
                                        {"refresh", "r-work"}, {"expires", expired}}}}}}}}}};
  WriteFileOrDie(auth + "/providers.json", file.dump());
  auto storage = FileAuthStorage::Open(auth);
  ASSERT_TRUE(storage.ok());
  FakeRefresher refresher;
  refresher.delay = absl::Milliseconds(100);
  RefreshCoordinator coordinator(**storage, refresher, nullptr);
  ProviderAuthManager manager(**storage, ProviderRegistry::BuiltIn(), nullptr, nullptr,
                              &coordinator);
  constexpr int kCallersPerAccount = 16;
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  for (int i = 0; i < kCallersPerAccount; ++i) {
    for (const char* selector : {"openai-codex", "openai-codex@work"}) {
      manager.GetApiKeyAsync(selector, [&](absl::StatusOr<ResolvedKey> key) {
        if (!key.ok()) ++failed;
        ++done;
      });
    }
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (done.load() < 2 * kCallersPerAccount && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(done.load(), 2 * kCallersPerAccount);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(refresher.calls.load(), 2);
  Json after = Json::parse(ReadFileOrDie(auth + "/providers.json"));
  // Each account got a fresh pair of its own (the fake numbers its answers 1 and 2).
  const std::string home = after["openai-codex"]["refresh"];
  const std::string work = after["_accounts"]["openai-codex"]["named"]["work"]["refresh"];
  EXPECT_NE(home, work);
  EXPECT_THAT((std::vector<std::string>{home, work}),
              ::testing::UnorderedElementsAre("rt-1", "rt-2"));
  EXPECT_EQ(coordinator.StateOf("openai-codex").refreshes, 1);
  EXPECT_EQ(coordinator.StateOf("openai-codex@work").refreshes, 1);
}

// `auth default` while the endpoint answers a refresh: the rotated token follows the account to
// its new place instead of being dropped (dropping it would leave a spent refresh token stored).
TEST(AccountsRefresh, ARotatedTokenFollowsItsAccountWhenTheDefaultSwitches) {
  TempDir dir;
  const std::string auth = dir.Sub("auth");
  ASSERT_EQ(mkdir(auth.c_str(), 0700), 0);
  const int64_t expired = absl::ToUnixMillis(absl::Now() - absl::Minutes(1));
  const int64_t valid = absl::ToUnixMillis(absl::Now() + absl::Hours(1));
  Json file = {{"openai-codex", {{"type", "oauth"}, {"access", "a-home"}, {"refresh", "r-home"},
                                 {"expires", expired}}},
               {"_accounts",
                {{"openai-codex",
                  {{"named", {{"work", {{"type", "oauth"}, {"access", "a-work"},
                                        {"refresh", "r-work"}, {"expires", valid}}}}}}}}}};
  WriteFileOrDie(auth + "/providers.json", file.dump());
  auto storage = FileAuthStorage::Open(auth);
  ASSERT_TRUE(storage.ok());
  FakeRefresher refresher;
  absl::Notification answer;
  refresher.gate = &answer;
  RefreshCoordinator coordinator(**storage, refresher, nullptr);
  ProviderAuthManager manager(**storage, ProviderRegistry::BuiltIn(), nullptr, nullptr,
                              &coordinator);
  absl::Notification finished;
  absl::StatusOr<Credential> result = absl::UnknownError("not yet");
  coordinator.Refresh("openai-codex", absl::Now() + kOAuthExpiryMargin,
                      [&](absl::StatusOr<Credential> c) {
                        result = std::move(c);
                        finished.Notify();
                      });
  refresher.entered.WaitForNotification();
  ASSERT_TRUE(*manager.SetDefaultAccount("openai-codex", "work"));
  answer.Notify();
  ASSERT_TRUE(finished.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // The caller asked for the default, which is now "work", still valid: it gets that one.
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->access.view(), "a-work");
  Json after = Json::parse(ReadFileOrDie(auth + "/providers.json"));
  EXPECT_EQ(after["openai-codex"]["access"], "a-work");
  EXPECT_EQ(after["_accounts"]["openai-codex"]["named"]["default"]["access"], "at-1");
  EXPECT_EQ(after["_accounts"]["openai-codex"]["named"]["default"]["refresh"], "rt-1");
}

}  // namespace
}  // namespace operator_auth
