#include "daemon/vendor/vendor_sync.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "daemon/core/in_memory_auth_storage.h"
#include "daemon/vendor/vendor_format.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/fake_token_service.h"

namespace operator_auth {
namespace {

using testing::FakeRefresher;
using testing::FileMode;
using ::testing::HasSubstr;
using testing::PathExists;
using testing::ReadFileOrDie;
using testing::TempDir;
using testing::WriteFileOrDie;
using Json = nlohmann::ordered_json;

constexpr char kClaude[] = "anthropic-claude-code";

std::string RealPath(const std::string& path) {
  char real[PATH_MAX];
  if (realpath(path.c_str(), real) == nullptr) return path;
  return real;
}

int64_t MillisFromNow(absl::Duration d) { return absl::ToUnixMillis(absl::Now() + d); }

// Claude Code's ~/.claude/.credentials.json with fields the daemon does not own.
Json ClaudeFile(const std::string& access, const std::string& refresh, int64_t expires) {
  return Json{{"claudeAiOauth",
               {{"accessToken", access},
                {"refreshToken", refresh},
                {"expiresAt", expires},
                {"scopes", {"user:inference"}},
                {"subscriptionType", "max"}}},
              {"mcpOAuth", {{"server", {{"kept", true}}}}}};
}

class VendorSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = RealPath(dir_.path());
    auth_ = home_ + "/auth";
    claude_dir_ = home_ + "/.claude";
    ASSERT_EQ(mkdir(auth_.c_str(), 0700), 0);
    ASSERT_EQ(mkdir(claude_dir_.c_str(), 0700), 0);
    claude_path_ = claude_dir_ + "/.credentials.json";
    sync_ = MakeSync();
  }

  void TearDown() override { coordinator_.SetParticipant(nullptr); }

  std::shared_ptr<VendorSync> MakeSync(std::string keep_in_sync_refused = "") {
    VendorSync::Options options;
    options.lock_timeout = kLockTimeout;
    options.keep_in_sync_refused = std::move(keep_in_sync_refused);
    return std::make_shared<VendorSync>(storage_, coordinator_, auth_,
                                        TrustBoundary{geteuid(), home_}, std::move(options));
  }

  void WriteVendor(const Json& file) {
    WriteFileOrDie(claude_path_, file.dump(2));
    ASSERT_EQ(chmod(claude_path_.c_str(), 0600), 0);
  }
  Json Vendor() { return Json::parse(ReadFileOrDie(claude_path_)); }

  // Imports the Claude Code file holding `access` / `refresh` / `expires`, linked.
  void ImportClaude(const std::string& access, const std::string& refresh, int64_t expires) {
    WriteVendor(ClaudeFile(access, refresh, expires));
    absl::StatusOr<ImportResult> imported =
        sync_->Import(VendorSource::kClaudeCode, claude_path_, /*keep_in_sync=*/true);
    ASSERT_TRUE(imported.ok()) << imported.status();
  }

  std::optional<Credential> Ours(const std::string& provider) {
    std::shared_ptr<const CredentialSnapshot> snapshot = storage_.Snapshot();
    auto it = snapshot->credentials.find(provider);
    if (it == snapshot->credentials.end()) return std::nullopt;
    return it->second;
  }
  void PutOurs(const std::string& provider, const Credential& credential) {
    ASSERT_TRUE(storage_
                    .Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
                      document.Put(provider, credential);
                      return true;
                    })
                    .ok());
  }
  std::string LinksPath() const { return auth_ + "/vendor_links.json"; }

  static constexpr absl::Duration kLockTimeout = absl::Milliseconds(200);

  TempDir dir_;
  std::string home_, auth_, claude_dir_, claude_path_;
  InMemoryAuthStorage storage_;
  FakeRefresher refresher_;
  RefreshCoordinator coordinator_{storage_, refresher_, nullptr};
  std::shared_ptr<VendorSync> sync_;
};

TEST_F(VendorSyncTest, ImportStoresTheLoginsAndLinks) {
  const int64_t expires = MillisFromNow(absl::Hours(1));
  WriteVendor(ClaudeFile("at-vendor", "rt-vendor", expires));
  absl::StatusOr<ImportResult> imported =
      sync_->Import(VendorSource::kClaudeCode, claude_path_, /*keep_in_sync=*/true);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->path, claude_path_);
  EXPECT_TRUE(imported->linked);
  ASSERT_EQ(imported->logins.size(), 1u);
  EXPECT_EQ(imported->logins[0].provider, kClaude);
  EXPECT_EQ(imported->logins[0].type, CredentialType::kOAuth);
  EXPECT_EQ(imported->logins[0].expires_unix_ms, expires);
  EXPECT_FALSE(imported->logins[0].replaced);

  std::optional<Credential> ours = Ours(kClaude);
  ASSERT_TRUE(ours.has_value());
  EXPECT_EQ(ours->access.view(), "at-vendor");
  EXPECT_EQ(ours->refresh.view(), "rt-vendor");
  EXPECT_EQ(ours->expires_unix_ms, expires);

  absl::StatusOr<std::vector<VendorLink>> links = LoadVendorLinks(LinksPath());
  ASSERT_TRUE(links.ok()) << links.status();
  ASSERT_EQ(links->size(), 1u);
  EXPECT_EQ((*links)[0].source, VendorSource::kClaudeCode);
  EXPECT_EQ((*links)[0].path, claude_path_);
  EXPECT_EQ((*links)[0].synced.at(kClaude), LoginFingerprint(&*ours));
  EXPECT_THAT(ReadFileOrDie(LinksPath()), ::testing::Not(HasSubstr("at-vendor")));

  std::optional<VendorLinkStatus> status = sync_->LinkFor(kClaude);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->path, claude_path_);
  EXPECT_THAT(status->providers, ::testing::ElementsAre(kClaude));
  EXPECT_EQ(status->last_error, "");
  EXPECT_EQ(sync_->Links().size(), 1u);

  // Again, without keeping in sync: the login is replaced, the link stays as it was.
  imported = sync_->Import(VendorSource::kClaudeCode, claude_path_, /*keep_in_sync=*/false);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_FALSE(imported->linked);
  EXPECT_TRUE(imported->logins[0].replaced);
}

TEST_F(VendorSyncTest, ImportWithoutKeepInSyncDoesNotLink) {
  WriteVendor(ClaudeFile("at-vendor", "rt-vendor", MillisFromNow(absl::Hours(1))));
  absl::StatusOr<ImportResult> imported =
      sync_->Import(VendorSource::kClaudeCode, claude_path_, /*keep_in_sync=*/false);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_FALSE(imported->linked);
  EXPECT_TRUE(Ours(kClaude).has_value());
  EXPECT_FALSE(PathExists(LinksPath()));
  EXPECT_FALSE(sync_->LinkFor(kClaude).has_value());
}

// Fleet mode (issue #14): a vendor's lock covers one host, so nothing is kept in sync. A plain
// import still stores the logins; links made before stay in their file, unused.
TEST_F(VendorSyncTest, WhenKeepingInSyncIsRefusedOnlyPlainImportsWork) {
  const int64_t expires = MillisFromNow(absl::Hours(1));
  ImportClaude("at-vendor", "rt-vendor", expires);  // linked, before the refusal
  const std::string links_before = ReadFileOrDie(LinksPath());
  std::shared_ptr<VendorSync> fleet_sync = MakeSync("the fleet test's reason");
  absl::Status loaded = fleet_sync->Load();
  EXPECT_EQ(loaded.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(loaded.message()), HasSubstr("the fleet test's reason"));
  EXPECT_TRUE(fleet_sync->Links().empty());

  absl::StatusOr<ImportResult> linked =
      fleet_sync->Import(VendorSource::kClaudeCode, claude_path_, /*keep_in_sync=*/true);
  EXPECT_EQ(linked.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(linked.status().message()), HasSubstr("the fleet test's reason"));

  WriteVendor(ClaudeFile("at-vendor-2", "rt-vendor-2", expires));
  absl::StatusOr<ImportResult> plain =
      fleet_sync->Import(VendorSource::kClaudeCode, claude_path_, /*keep_in_sync=*/false);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->linked);
  ASSERT_TRUE(Ours(kClaude).has_value());
  EXPECT_EQ(Ours(kClaude)->access.view(), "at-vendor-2");
  EXPECT_EQ(ReadFileOrDie(LinksPath()), links_before);
}

TEST_F(VendorSyncTest, ImportOfAMissingEmptyOrMalformedFileWritesNothing) {
  absl::StatusOr<ImportResult> imported =
      sync_->Import(VendorSource::kClaudeCode, claude_path_, true);
  EXPECT_EQ(imported.status().code(), absl::StatusCode::kNotFound);

  WriteVendor(Json::object());
  imported = sync_->Import(VendorSource::kClaudeCode, claude_path_, true);
  EXPECT_EQ(imported.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(imported.status().message(), HasSubstr("no login"));

  WriteFileOrDie(claude_path_, R"({"claudeAiOauth": {"accessToken": "sk-SECRET-xyz",)");
  imported = sync_->Import(VendorSource::kClaudeCode, claude_path_, true);
  EXPECT_EQ(imported.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(imported.status().message(), ::testing::Not(HasSubstr("SECRET")));

  WriteVendor(Json{{"claudeAiOauth", {{"accessToken", "sk-SECRET-xyz"}, {"expiresAt", "soon"}}}});
  imported = sync_->Import(VendorSource::kClaudeCode, claude_path_, true);
  EXPECT_EQ(imported.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(imported.status().message(), HasSubstr("expiresAt"));
  EXPECT_THAT(imported.status().message(), ::testing::Not(HasSubstr("SECRET")));

  EXPECT_TRUE(storage_.Snapshot()->credentials.empty());
  EXPECT_FALSE(PathExists(LinksPath()));
  EXPECT_TRUE(sync_->Links().empty());
}

TEST_F(VendorSyncTest, SyncAdoptsTheVendorsChangeAndPushesOurs) {
  ImportClaude("at-1", "rt-1", MillisFromNow(absl::Hours(1)));

  // A new login made with Claude Code.
  const int64_t vendor_expires = MillisFromNow(absl::Hours(2));
  WriteVendor(ClaudeFile("at-vendor", "rt-vendor", vendor_expires));
  sync_->SyncAll(/*force=*/true);
  std::optional<Credential> ours = Ours(kClaude);
  ASSERT_TRUE(ours.has_value());
  EXPECT_EQ(ours->access.view(), "at-vendor");
  EXPECT_EQ(ours->refresh.view(), "rt-vendor");
  EXPECT_EQ(ours->expires_unix_ms, vendor_expires);

  // A login made through the daemon.
  const int64_t our_expires = MillisFromNow(absl::Hours(3));
  PutOurs(kClaude, Credential::OAuth("at-ours", "rt-ours", our_expires));
  sync_->SyncAll(/*force=*/true);
  EXPECT_EQ(Vendor(), ClaudeFile("at-ours", "rt-ours", our_expires));  // other fields kept
  EXPECT_EQ(FileMode(claude_path_), 0600);
  absl::StatusOr<std::vector<VendorLink>> links = LoadVendorLinks(LinksPath());
  ASSERT_TRUE(links.ok()) << links.status();
  ours = Ours(kClaude);
  EXPECT_EQ((*links)[0].synced.at(kClaude), LoginFingerprint(&*ours));
  EXPECT_EQ(sync_->LinkFor(kClaude)->last_error, "");
  EXPECT_FALSE(PathExists(claude_dir_ + "/.oauth_refresh.lock"));
  EXPECT_FALSE(PathExists(claude_dir_ + ".lock"));

  // Nothing changed: nothing is written.
  const std::string before = ReadFileOrDie(claude_path_);
  sync_->SyncAll(/*force=*/true);
  EXPECT_EQ(ReadFileOrDie(claude_path_), before);
}

TEST_F(VendorSyncTest, WhenBothSidesChangedTheVendorsLoginWins) {
  ImportClaude("at-1", "rt-1", MillisFromNow(absl::Hours(1)));
  PutOurs(kClaude, Credential::OAuth("at-ours", "rt-ours", MillisFromNow(absl::Hours(3))));
  const int64_t vendor_expires = MillisFromNow(absl::Hours(2));
  WriteVendor(ClaudeFile("at-vendor", "rt-vendor", vendor_expires));
  sync_->SyncAll(/*force=*/true);
  EXPECT_EQ(Ours(kClaude)->access.view(), "at-vendor");
  EXPECT_EQ(Ours(kClaude)->refresh.view(), "rt-vendor");
  EXPECT_EQ(Vendor(), ClaudeFile("at-vendor", "rt-vendor", vendor_expires));
}

// `claude /logout` removes the login from Claude Code's file. The daemon keeps its own copy, but
// its refreshes of it must not log Claude Code in again.
TEST_F(VendorSyncTest, ALogoutInTheVendorsCliIsNotUndone) {
  ImportClaude("at-old", "rt-old", MillisFromNow(-absl::Minutes(1)));
  Json logged_out = ClaudeFile("at-old", "rt-old", 0);
  logged_out.erase("claudeAiOauth");
  WriteVendor(logged_out);
  coordinator_.SetParticipant(sync_);
  absl::StatusOr<Credential> fresh =
      coordinator_.RefreshAndWait(kClaude, absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(refresher_.calls.load(), 1);
  EXPECT_EQ(Vendor(), logged_out);

  PutOurs(kClaude, Credential::OAuth("at-ours", "rt-ours", MillisFromNow(absl::Hours(3))));
  sync_->SyncAll(/*force=*/true);
  EXPECT_EQ(Vendor(), logged_out);

  // A new login there is still adopted.
  const int64_t expires = MillisFromNow(absl::Hours(2));
  WriteVendor(ClaudeFile("at-again", "rt-again", expires));
  sync_->SyncAll(/*force=*/true);
  EXPECT_EQ(Ours(kClaude)->access.view(), "at-again");
  EXPECT_EQ(Vendor(), ClaudeFile("at-again", "rt-again", expires));
}

TEST_F(VendorSyncTest, ARefreshOfALinkedTokenIsWrittenIntoTheVendorsFile) {
  ImportClaude("at-old", "rt-old", MillisFromNow(-absl::Minutes(1)));
  coordinator_.SetParticipant(sync_);
  absl::StatusOr<Credential> fresh =
      coordinator_.RefreshAndWait(kClaude, absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->access.view(), "at-1");
  EXPECT_EQ(refresher_.calls.load(), 1);
  EXPECT_EQ(Vendor(), ClaudeFile("at-1", "rt-1", fresh->expires_unix_ms));
  EXPECT_FALSE(PathExists(claude_dir_ + "/.oauth_refresh.lock"));
  EXPECT_FALSE(PathExists(claude_dir_ + ".lock"));
  EXPECT_EQ(sync_->LinkFor(kClaude)->last_error, "");

  // Valid now on both sides: no second refresh.
  fresh = coordinator_.RefreshAndWait(kClaude, absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(refresher_.calls.load(), 1);
}

TEST_F(VendorSyncTest, ATokenTheVendorRefreshedIsAdoptedNotRefreshedAgain) {
  ImportClaude("at-old", "rt-old", MillisFromNow(-absl::Minutes(1)));
  coordinator_.SetParticipant(sync_);
  const int64_t vendor_expires = MillisFromNow(absl::Hours(8));
  WriteVendor(ClaudeFile("at-vendor", "rt-vendor", vendor_expires));
  absl::StatusOr<Credential> fresh =
      coordinator_.RefreshAndWait(kClaude, absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->access.view(), "at-vendor");
  EXPECT_EQ(fresh->expires_unix_ms, vendor_expires);
  EXPECT_EQ(refresher_.calls.load(), 0);
  EXPECT_EQ(Ours(kClaude)->refresh.view(), "rt-vendor");
}

TEST_F(VendorSyncTest, WhileClaudeCodeHoldsItsLockARefreshIsUnavailable) {
  ImportClaude("at-old", "rt-old", MillisFromNow(-absl::Minutes(1)));
  const std::string lock = claude_dir_ + "/.oauth_refresh.lock";
  ASSERT_EQ(mkdir(lock.c_str(), 0700), 0);  // fresh: Claude Code is refreshing
  const absl::Time start = absl::Now();
  absl::StatusOr<RefreshParticipant::Hold> hold = sync_->BeforeRefresh(kClaude);
  EXPECT_EQ(hold.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_THAT(sync_->LinkFor(kClaude)->last_error, HasSubstr(".oauth_refresh.lock"));
  EXPECT_FALSE(PathExists(claude_dir_ + ".lock"));

  coordinator_.SetParticipant(sync_);
  absl::StatusOr<Credential> fresh =
      coordinator_.RefreshAndWait(kClaude, absl::Now() + absl::Seconds(30));
  EXPECT_EQ(fresh.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refresher_.calls.load(), 0);
  EXPECT_TRUE(PathExists(lock));  // Claude Code's, left alone

  ASSERT_EQ(rmdir(lock.c_str()), 0);
  fresh = coordinator_.RefreshAndWait(kClaude, absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(refresher_.calls.load(), 1);
}

TEST_F(VendorSyncTest, AMalformedVendorFileDoesNotStopTheRefresh) {
  ImportClaude("at-old", "rt-old", MillisFromNow(-absl::Minutes(1)));
  const std::string torn = R"({"claudeAiOauth": {"accessToken": "at-)";
  WriteFileOrDie(claude_path_, torn);
  coordinator_.SetParticipant(sync_);
  absl::StatusOr<Credential> fresh =
      coordinator_.RefreshAndWait(kClaude, absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(refresher_.calls.load(), 1);
  EXPECT_EQ(Ours(kClaude)->access.view(), "at-1");
  EXPECT_NE(sync_->LinkFor(kClaude)->last_error, "");
  EXPECT_EQ(ReadFileOrDie(claude_path_), torn);  // not overwritten
}

TEST_F(VendorSyncTest, UnlinkEndsTheLink) {
  ImportClaude("at-1", "rt-1", MillisFromNow(absl::Hours(1)));
  absl::StatusOr<bool> unlinked = sync_->Unlink(VendorSource::kClaudeCode);
  ASSERT_TRUE(unlinked.ok()) << unlinked.status();
  EXPECT_TRUE(*unlinked);
  EXPECT_FALSE(sync_->LinkFor(kClaude).has_value());
  EXPECT_TRUE(sync_->Links().empty());
  EXPECT_EQ(sync_->RenewLead(kClaude), absl::ZeroDuration());
  absl::StatusOr<std::vector<VendorLink>> links = LoadVendorLinks(LinksPath());
  ASSERT_TRUE(links.ok()) << links.status();
  EXPECT_TRUE(links->empty());
  unlinked = sync_->Unlink(VendorSource::kClaudeCode);
  ASSERT_TRUE(unlinked.ok());
  EXPECT_FALSE(*unlinked);

  // Unlinked, a change on either side stays there.
  PutOurs(kClaude, Credential::OAuth("at-ours", "rt-ours", MillisFromNow(absl::Hours(3))));
  sync_->SyncAll(/*force=*/true);
  EXPECT_EQ(Vendor()["claudeAiOauth"]["accessToken"], "at-1");
  EXPECT_TRUE(Ours(kClaude).has_value());
}

TEST_F(VendorSyncTest, LoadRestoresTheSavedLinks) {
  ImportClaude("at-1", "rt-1", MillisFromNow(absl::Hours(1)));
  std::shared_ptr<VendorSync> restarted = MakeSync();
  EXPECT_FALSE(restarted->LinkFor(kClaude).has_value());
  ASSERT_TRUE(restarted->Load().ok());
  EXPECT_EQ(restarted->load_error(), "");
  std::optional<VendorLinkStatus> status = restarted->LinkFor(kClaude);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->source, VendorSource::kClaudeCode);
  EXPECT_EQ(status->path, claude_path_);
  ASSERT_EQ(restarted->Links().size(), 1u);

  // The restored link carries the next change.
  const int64_t expires = MillisFromNow(absl::Hours(3));
  PutOurs(kClaude, Credential::OAuth("at-ours", "rt-ours", expires));
  restarted->SyncAll(/*force=*/true);
  EXPECT_EQ(Vendor(), ClaudeFile("at-ours", "rt-ours", expires));
}

// pi's "anthropic" OAuth login is the same provider as Claude Code's: both links are listed.
TEST_F(VendorSyncTest, LinksListsEveryLink) {
  ImportClaude("at-1", "rt-1", MillisFromNow(absl::Hours(1)));
  const std::string pi_dir = home_ + "/.pi";
  ASSERT_EQ(mkdir(pi_dir.c_str(), 0700), 0);
  const std::string pi_path = pi_dir + "/auth.json";
  WriteFileOrDie(pi_path, Json{{"openai", {{"type", "api_key"}, {"key", "sk-pi"}}}}.dump());
  ASSERT_TRUE(sync_->Import(VendorSource::kPi, pi_path, /*keep_in_sync=*/true).ok());
  std::vector<VendorSource> sources;
  for (const VendorLinkStatus& link : sync_->Links()) sources.push_back(link.source);
  EXPECT_THAT(sources,
              ::testing::UnorderedElementsAre(VendorSource::kClaudeCode, VendorSource::kPi));
}

// A refresh holds one vendor's lock: a second file holding the same login is not linked.
TEST_F(VendorSyncTest, ALoginAlreadyLinkedToAnotherVendorIsNotLinkedTwice) {
  ImportClaude("at-1", "rt-1", MillisFromNow(absl::Hours(1)));
  const std::string pi_dir = home_ + "/.pi";
  ASSERT_EQ(mkdir(pi_dir.c_str(), 0700), 0);
  const std::string pi_path = pi_dir + "/auth.json";
  WriteFileOrDie(pi_path, Json{{"anthropic",
                                {{"type", "oauth"},
                                 {"access", "at-pi"},
                                 {"refresh", "rt-pi"},
                                 {"expires", MillisFromNow(absl::Hours(1))}}}}
                              .dump());
  absl::StatusOr<ImportResult> second = sync_->Import(VendorSource::kPi, pi_path, true);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("auth unlink claude-code"));
  EXPECT_EQ(Ours("anthropic-claude-code")->access.str(), "at-1") << "nothing written";
  ASSERT_EQ(sync_->Links().size(), 1u);
  // A one-off copy is still allowed; linking the same source again replaces its link.
  EXPECT_TRUE(sync_->Import(VendorSource::kPi, pi_path, false).ok());
  ImportClaude("at-2", "rt-2", MillisFromNow(absl::Hours(1)));
  EXPECT_EQ(sync_->Links().size(), 1u);
}

TEST_F(VendorSyncTest, AnUnreadableLinksFileLeavesNoLink) {
  WriteFileOrDie(LinksPath(), "{broken");
  EXPECT_EQ(sync_->Load().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(sync_->load_error(), HasSubstr("vendor_links.json"));
  EXPECT_TRUE(sync_->Links().empty());
}

TEST_F(VendorSyncTest, RenewLeadIsTheVendorsLeadPlusTheMarginForALinkedProvider) {
  EXPECT_EQ(sync_->RenewLead(kClaude), absl::ZeroDuration());
  ImportClaude("at-1", "rt-1", MillisFromNow(absl::Hours(1)));
  EXPECT_EQ(sync_->RenewLead(kClaude),
            ClaudeCodeCredentialsFormat().RefreshLead() + VendorSync::Options().lead_margin);
  EXPECT_EQ(sync_->RenewLead("openai-codex"), absl::ZeroDuration());
  absl::StatusOr<RefreshParticipant::Hold> hold = sync_->BeforeRefresh("openai-codex");
  ASSERT_TRUE(hold.ok());
  EXPECT_EQ(*hold, nullptr);  // not taking part
}

}  // namespace
}  // namespace operator_auth
