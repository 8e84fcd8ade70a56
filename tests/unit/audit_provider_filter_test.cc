#include "cli/audit_provider_filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"

namespace operator_auth::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

v1::ListProvidersResponse DaemonWithAlias(const std::string& id, const std::string& alias) {
  v1::ListProvidersResponse response;
  v1::ProviderInfo* openai = response.add_providers();
  openai->set_id("openai");
  v1::ProviderInfo* provider = response.add_providers();
  provider->set_id(id);
  provider->add_aliases("first-name");
  provider->add_aliases(alias);
  return response;
}

TEST(ResolveAuditProviderTest, BuiltInIdsAndAliasesResolveWithoutTheDaemon) {
  int asked = 0;
  auto ask = [&asked]() -> absl::StatusOr<v1::ListProvidersResponse> {
    ++asked;
    return absl::UnavailableError("not running");
  };
  AuditProviderFilter claude = ResolveAuditProvider("claude", ask);
  EXPECT_EQ(claude.id, "anthropic-claude-code");
  EXPECT_THAT(claude.note, IsEmpty());
  AuditProviderFilter openai = ResolveAuditProvider("openai", ask);
  EXPECT_EQ(openai.id, "openai");
  EXPECT_THAT(openai.note, IsEmpty());
  EXPECT_EQ(asked, 0);
}

TEST(ResolveAuditProviderTest, TheDaemonResolvesTheAliasesAndProvidersOfAuthdJson) {
  auto ask = []() -> absl::StatusOr<v1::ListProvidersResponse> {
    return DaemonWithAlias("my-idp", "work-llm");
  };
  AuditProviderFilter alias = ResolveAuditProvider("work-llm", ask);
  EXPECT_EQ(alias.id, "my-idp");
  EXPECT_THAT(alias.note, IsEmpty());
  AuditProviderFilter id = ResolveAuditProvider("my-idp", ask);
  EXPECT_EQ(id.id, "my-idp");
  EXPECT_THAT(id.note, IsEmpty());
}

TEST(ResolveAuditProviderTest, ANameNobodyKnowsIsTakenAsWrittenWithANote) {
  auto ask = []() -> absl::StatusOr<v1::ListProvidersResponse> {
    return DaemonWithAlias("my-idp", "work-llm");
  };
  AuditProviderFilter unknown = ResolveAuditProvider("gone-provider", ask);
  EXPECT_EQ(unknown.id, "gone-provider");
  EXPECT_THAT(unknown.note, HasSubstr("knows no provider or alias 'gone-provider'"));
}

TEST(ResolveAuditProviderTest, WithoutTheDaemonTheNameIsTakenAsWrittenAndTheNoteSaysWhy) {
  auto ask = []() -> absl::StatusOr<v1::ListProvidersResponse> {
    return absl::UnavailableError("cannot reach operator-authd at /run/x.sock");
  };
  AuditProviderFilter filter = ResolveAuditProvider("work-llm", ask);
  EXPECT_EQ(filter.id, "work-llm");
  EXPECT_THAT(filter.note, HasSubstr("cannot reach operator-authd at /run/x.sock"));
  EXPECT_THAT(filter.note, HasSubstr("taking 'work-llm' as a provider id"));
}

}  // namespace
}  // namespace operator_auth::cli
