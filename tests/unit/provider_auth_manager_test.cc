#include "daemon/core/provider_auth_manager.h"

#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "daemon/core/in_memory_auth_storage.h"

namespace operator_auth {
namespace {

using ::testing::HasSubstr;

class ProviderAuthManagerTest : public ::testing::Test {
 protected:
  ProviderAuthManagerTest()
      : manager_(
            storage_, ProviderRegistry::BuiltIn(),
            [this](const std::string& name) -> std::optional<std::string> {
              auto it = env_.find(name);
              if (it == env_.end()) return std::nullopt;
              return it->second;
            },
            [this] { return now_; }) {}

  void StoreOAuth(const std::string& id, const std::string& access, absl::Time expires) {
    ASSERT_TRUE(storage_
                    .Update([&](CredentialDocument& d) -> absl::StatusOr<bool> {
                      Credential c = Credential::OAuth(access, "refresh-" + access,
                                                       absl::ToUnixMillis(expires));
                      c.account_id = "acct-1";
                      d.Put(id, c);
                      return true;
                    })
                    .ok());
  }

  std::map<std::string, std::string> env_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  InMemoryAuthStorage storage_;
  ProviderAuthManager manager_;
};

TEST_F(ProviderAuthManagerTest, ResolutionOrderIsRuntimeStoredEnv) {
  env_["OPENAI_API_KEY"] = "sk-env";
  auto key = manager_.GetApiKey("openai");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->key.view(), "sk-env");
  EXPECT_EQ(key->source, KeySource::kEnv);
  EXPECT_EQ(key->label, "OPENAI_API_KEY");

  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-stored").ok());
  key = manager_.GetApiKey("openai");
  EXPECT_EQ(key->key.view(), "sk-stored");
  EXPECT_EQ(key->source, KeySource::kStored);

  ASSERT_TRUE(manager_.SetRuntimeApiKey("openai", "sk-runtime").ok());
  key = manager_.GetApiKey("openai");
  EXPECT_EQ(key->key.view(), "sk-runtime");
  EXPECT_EQ(key->source, KeySource::kRuntime);

  auto cleared = manager_.SetRuntimeApiKey("openai", "");
  ASSERT_TRUE(cleared.ok());
  EXPECT_TRUE(*cleared);
  EXPECT_EQ(manager_.GetApiKey("openai")->key.view(), "sk-stored");

  ASSERT_TRUE(manager_.Logout("openai")->removed);
  EXPECT_EQ(manager_.GetApiKey("openai")->key.view(), "sk-env");
  EXPECT_FALSE(manager_.Logout("openai")->removed);
}

TEST_F(ProviderAuthManagerTest, RuntimeKeysAreBoundedInAllAndPerPeer) {
  for (size_t i = 0; i < kMaxRuntimeKeysPerPeer; ++i) {
    ASSERT_TRUE(manager_.SetRuntimeApiKey("p" + std::to_string(i), "sk-r", "fd:5").ok());
  }
  absl::StatusOr<bool> refused = manager_.SetRuntimeApiKey("one-more", "sk-r", "fd:5");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("clear some first"));
  // Replacing or clearing one of its own keys is always allowed.
  EXPECT_TRUE(manager_.SetRuntimeApiKey("p0", "sk-r2", "fd:5").ok());
  EXPECT_TRUE(manager_.SetRuntimeApiKey("p1", "", "fd:5").ok());
  EXPECT_TRUE(manager_.SetRuntimeApiKey("one-more", "sk-r", "fd:5").ok());

  size_t held = kMaxRuntimeKeysPerPeer;
  for (int peer = 6; held < kMaxRuntimeKeys; ++peer) {
    for (size_t i = 0; i < kMaxRuntimeKeysPerPeer && held < kMaxRuntimeKeys; ++i, ++held) {
      ASSERT_TRUE(
          manager_
              .SetRuntimeApiKey(absl::StrCat("q", peer, "-", i), "sk-r", absl::StrCat("fd:", peer))
              .ok());
    }
  }
  refused = manager_.SetRuntimeApiKey("fresh", "sk-r", "fd:999");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("256 runtime keys"));
}

TEST_F(ProviderAuthManagerTest, StoredApiKeyBeatsStoredOAuthWhichBeatsEnv) {
  env_["OPENAI_CODEX_API_KEY"] = "sk-env";
  StoreOAuth("openai-codex", "access-1", now_ + absl::Hours(1));
  auto key = manager_.GetApiKey("openai-codex");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->key.view(), "access-1");
  EXPECT_EQ(key->label, "providers.json (oauth)");
  EXPECT_EQ(key->expires_unix_ms, absl::ToUnixMillis(now_ + absl::Hours(1)));
}

TEST_F(ProviderAuthManagerTest, ExpiredOAuthFallsToEnvOrSaysLoginAgain) {
  StoreOAuth("openai-codex", "access-old", now_ + absl::Seconds(29));  // inside the margin
  auto key = manager_.GetApiKey("openai-codex");
  EXPECT_TRUE(absl::IsFailedPrecondition(key.status())) << key.status();
  EXPECT_THAT(std::string(key.status().message()), HasSubstr("expired"));
  auto status = manager_.GetStatus("openai-codex");
  EXPECT_TRUE(status->expired);
  EXPECT_FALSE(status->configured);
  EXPECT_EQ(status->account_id, "acct-1");

  env_["OPENAI_CODEX_API_KEY"] = "sk-env";
  key = manager_.GetApiKey("openai-codex");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->source, KeySource::kEnv);

  now_ -= absl::Seconds(10);  // 39 s before expiry: valid again
  EXPECT_EQ(manager_.GetApiKey("openai-codex")->key.view(), "access-old");
}

TEST_F(ProviderAuthManagerTest, NothingAnywhereIsNotFoundWithAHint) {
  auto key = manager_.GetApiKey("mistral");
  EXPECT_TRUE(absl::IsNotFound(key.status()));
  EXPECT_THAT(std::string(key.status().message()), HasSubstr("MISTRAL_API_KEY"));
  EXPECT_THAT(std::string(key.status().message()), HasSubstr("operatorctl auth set mistral"));
}

TEST_F(ProviderAuthManagerTest, EnvValuesAreNeverPersisted) {
  env_["GROQ_API_KEY"] = "gsk-env";
  ASSERT_TRUE(manager_.GetApiKey("groq").ok());
  ASSERT_TRUE(manager_.GetStatus("groq").ok());
  manager_.ListProviders();
  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-1").ok());
  EXPECT_THAT(storage_.Serialized(), ::testing::Not(HasSubstr("gsk-env")));
  EXPECT_THAT(storage_.Serialized(), ::testing::Not(HasSubstr("groq")));
}

TEST_F(ProviderAuthManagerTest, BadInputIsInvalidArgumentAndChangesNothing) {
  EXPECT_TRUE(absl::IsInvalidArgument(manager_.GetApiKey("Bad Id").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(manager_.SetApiKey("../etc", "sk").status()));
  auto s = manager_.SetApiKey("openai", "sk-secret\nline");
  EXPECT_TRUE(absl::IsInvalidArgument(s.status()));
  EXPECT_THAT(std::string(s.status().message()), ::testing::Not(HasSubstr("secret")));
  EXPECT_TRUE(absl::IsInvalidArgument(manager_.SetApiKey("openai", "").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(manager_.SetRuntimeApiKey("openai", "a\tb").status()));
  EXPECT_EQ(storage_.Serialized(), "{}\n");
}

TEST_F(ProviderAuthManagerTest, StatusNamesSourceAndVariableButNoSecret) {
  env_["OPENROUTER_API_KEY"] = "sk-or-secret";
  auto status = manager_.GetStatus("openrouter");
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->configured);
  EXPECT_EQ(status->source, KeySource::kEnv);
  EXPECT_EQ(status->label, "OPENROUTER_API_KEY");
  EXPECT_EQ(status->env_var, "OPENROUTER_API_KEY");
  for (const std::string* field : {&status->label, &status->account_id, &status->storage_error}) {
    EXPECT_THAT(*field, ::testing::Not(HasSubstr("secret")));
  }
  status = manager_.GetStatus("deepseek");
  EXPECT_FALSE(status->configured);
  EXPECT_FALSE(status->source.has_value());
}

TEST_F(ProviderAuthManagerTest, ListHasEveryBuiltInThenCustomIds) {
  ASSERT_TRUE(manager_.SetApiKey("my-local-llm", "sk-local").ok());
  ASSERT_TRUE(manager_.SetRuntimeApiKey("zz-runtime", "sk-rt").ok());
  std::vector<ProviderListing> list = manager_.ListProviders();
  const auto& builtin = ProviderRegistry::BuiltIn().providers();
  ASSERT_EQ(list.size(), builtin.size() + 2);
  for (size_t i = 0; i < builtin.size(); ++i) {
    EXPECT_EQ(list[i].id, builtin[i].id);
    EXPECT_TRUE(list[i].builtin);
  }
  EXPECT_EQ(list[builtin.size()].id, "my-local-llm");
  EXPECT_FALSE(list[builtin.size()].builtin);
  EXPECT_TRUE(list[builtin.size()].status.configured);
  EXPECT_EQ(list[builtin.size() + 1].id, "zz-runtime");
  for (const char* id : {"openai", "anthropic", "google", "mistral", "groq", "openrouter", "xai",
                         "deepseek", "perplexity", "nvidia"}) {
    const ProviderDescriptor* d = ProviderRegistry::BuiltIn().Find(id);
    ASSERT_NE(d, nullptr) << id;
    EXPECT_EQ(d->kind, ProviderKind::kApiKey);
  }
  for (const char* id : {"anthropic-claude-code", "openai-codex", "github-copilot",
                         "google-antigravity", "google-gemini-cli"}) {
    const ProviderDescriptor* d = ProviderRegistry::BuiltIn().Find(id);
    ASSERT_NE(d, nullptr) << id;
    EXPECT_EQ(d->kind, ProviderKind::kOAuth);
  }
}

TEST_F(ProviderAuthManagerTest, SetApiKeyReportsReplacement) {
  EXPECT_FALSE(*manager_.SetApiKey("openai", "sk-1"));
  EXPECT_TRUE(*manager_.SetApiKey("openai", "sk-2"));
  EXPECT_EQ(manager_.GetApiKey("openai")->key.view(), "sk-2");
}


// The server keeps answers per KeyState generation (daemon/server/api_key_answers.h): every
// input of an answer must move it, and nothing else should.
TEST_F(ProviderAuthManagerTest, TheKeyStateGenerationMovesWithEveryInputOfAnAnswer) {
  ProviderAuthManager::KeyState first = manager_.CurrentKeyState();
  EXPECT_TRUE(first.settled);
  ProviderAuthManager::KeyState again = manager_.CurrentKeyState();
  EXPECT_EQ(again.generation, first.generation) << "nothing changed";
  EXPECT_EQ(again.snapshot, first.snapshot);

  uint64_t last = first.generation;
  auto moved = [&](const char* what) {
    ProviderAuthManager::KeyState state = manager_.CurrentKeyState();
    EXPECT_GT(state.generation, last) << what;
    EXPECT_TRUE(state.settled) << what;
    last = state.generation;
  };
  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-stored").ok());
  moved("a stored key");
  ASSERT_TRUE(manager_.SetRuntimeApiKey("openai", "sk-runtime").ok());
  moved("a runtime key set");
  ASSERT_TRUE(manager_.SetRuntimeApiKey("openai", "").ok());
  moved("a runtime key cleared");
  manager_.SetRegistry(ProviderRegistry::BuiltIn());
  moved("a registry replaced");
  ASSERT_TRUE(manager_.Logout("openai").ok());
  moved("a logout");
  // Refused changes change nothing.
  EXPECT_FALSE(manager_.SetRuntimeApiKey("Not/Valid", "sk-x").ok());
  EXPECT_EQ(manager_.CurrentKeyState().generation, last);
}

TEST_F(ProviderAuthManagerTest, KeyStateListenersHearEveryMoveUntilRemoved) {
  std::vector<uint64_t> heard;
  const uint64_t id =
      manager_.AddKeyStateListener([&] { heard.push_back(manager_.KeyGeneration()); });
  const uint64_t start = manager_.KeyGeneration();
  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-stored").ok());
  ASSERT_TRUE(manager_.SetRuntimeApiKey("openai", "sk-runtime").ok());
  manager_.SetRegistry(ProviderRegistry::BuiltIn());
  EXPECT_EQ(heard, (std::vector<uint64_t>{start + 1, start + 2, start + 3}));
  EXPECT_EQ(manager_.CurrentKeyState().generation, start + 3);
  manager_.RemoveKeyStateListener(id);
  ASSERT_TRUE(manager_.SetRuntimeApiKey("openai", "").ok());
  EXPECT_EQ(heard.size(), 3u);
}

TEST_F(ProviderAuthManagerTest, AnAnswerSaysHowLongItStaysTheAnswer) {
  env_["MISTRAL_API_KEY"] = "sk-env";
  absl::StatusOr<ResolvedKey> env = manager_.GetApiKey("mistral");
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->reusable_until, absl::InfinitePast()) << "the environment is read every time";

  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-stored").ok());
  EXPECT_EQ(manager_.GetApiKey("openai")->reusable_until, absl::InfiniteFuture());
  ASSERT_TRUE(manager_.SetRuntimeApiKey("groq", "gsk-runtime").ok());
  EXPECT_EQ(manager_.GetApiKey("groq")->reusable_until, absl::InfiniteFuture());

  // An OAuth token: until it starts to count as expired, and at that moment no longer served.
  const absl::Time expires = now_ + absl::Minutes(10);
  StoreOAuth("openai-codex", "access-1", expires);
  absl::StatusOr<ResolvedKey> token = manager_.GetApiKey("openai-codex");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->reusable_until, expires - kOAuthExpiryMargin);
  now_ = token->reusable_until - absl::Milliseconds(1);
  EXPECT_EQ(manager_.GetApiKey("openai-codex")->key.view(), "access-1");
  now_ = token->reusable_until;
  EXPECT_TRUE(absl::IsFailedPrecondition(manager_.GetApiKey("openai-codex").status()));
  EXPECT_EQ(manager_.Now(), now_);
}

TEST_F(ProviderAuthManagerTest, AStateTakenBeforeAChangeAnswersAsItWas) {
  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-old").ok());
  ProviderAuthManager::KeyState before = manager_.CurrentKeyState();
  ASSERT_TRUE(manager_.SetApiKey("openai", "sk-new").ok());
  std::optional<absl::StatusOr<ResolvedKey>> answer;
  manager_.GetApiKeyAsync("openai", before,
                          [&](absl::StatusOr<ResolvedKey> key) { answer = std::move(key); });
  ASSERT_TRUE(answer.has_value() && answer->ok());
  EXPECT_EQ((*answer)->key.view(), "sk-old");
  EXPECT_LT(before.generation, manager_.CurrentKeyState().generation)
      << "so an answer kept for `before` is never served again";
}

}  // namespace
}  // namespace operator_auth
