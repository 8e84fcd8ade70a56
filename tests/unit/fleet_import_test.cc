// ImportLocalDocument, a daemon bringing its providers.json into the fleet, on InMemoryKv (etcd's
// semantics in memory) and real FileAuthStorage files in temporary directories. The import must
// lose nothing: every local credential ends up in the fleet before the local file is emptied, and
// a file that does not load, a cluster without quorum or a fleet document that does not open
// leave the file byte for byte as it was. And it must never let a stale local copy overwrite the
// fleet's: a token the fleet has since rotated is the live one, and spending the old refresh
// token could get the login revoked by the provider's reuse detection. Running it again (as after
// a crash between the fleet write and the emptying) adds nothing and writes nothing.
// FleetLocalImport goes on doing the same after start, at every change another tool makes to the
// file, and tries again while the cluster cannot take the write.
#include "daemon/fleet/fleet_import.h"

#include <sys/stat.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/core/credential.h"
#include "daemon/core/credential_document.h"
#include "daemon/core/file_auth_storage.h"
#include "daemon/fleet/fleet_key.h"
#include "daemon/fleet/fleet_local_import.h"
#include "daemon/fleet/fleet_storage.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/in_memory_kv.h"

namespace operator_auth {
namespace {

using ::operator_auth::testing::Eventually;
using ::operator_auth::testing::FileMode;
using ::operator_auth::testing::InMemoryKv;
using ::operator_auth::testing::ReadFileOrDie;
using ::operator_auth::testing::TempDir;
using ::operator_auth::testing::WriteFileOrDie;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

constexpr int64_t kExpiresUnixMs = 4102444800000;  // 2100-01-01: never stale in these tests

absl::Status PutLocal(AuthStorage& storage, const std::string& id, const Credential& credential) {
  return storage.Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
    document.Put(id, credential);
    return true;
  });
}

AuthStorage::Mutation PutCredential(const std::string& id, const Credential& credential) {
  return [id, credential](CredentialDocument& document) -> absl::StatusOr<bool> {
    document.Put(id, credential);
    return true;
  };
}

// The emptied file: "{}" (plus the newline every write ends with), and it parses as a document
// without credentials. Never prints the text: a file that was not emptied holds secrets.
bool IsEmptiedText(const std::string& text) {
  if (absl::StripTrailingAsciiWhitespace(text) != "{}") return false;
  absl::StatusOr<CredentialDocument> document = CredentialDocument::Parse(text);
  return document.ok() && document->Credentials().empty();
}

class FleetImportTest : public ::testing::Test {
 protected:
  std::unique_ptr<FleetStorage> OpenFleet(const std::string& holder, FleetKey key) {
    FleetStorageOptions options;
    options.name = "unit";
    options.holder = holder;
    options.resync_pause = absl::Milliseconds(20);
    options.lock_timeout = absl::Seconds(2);
    return FleetStorage::Open(kv_, std::move(key), options);
  }
  std::unique_ptr<FleetStorage> OpenFleet(const std::string& holder) {
    return OpenFleet(holder, key_);
  }

  static std::unique_ptr<FileAuthStorage> OpenLocal(const std::string& auth_dir) {
    absl::StatusOr<std::unique_ptr<FileAuthStorage>> storage = FileAuthStorage::Open(auth_dir);
    EXPECT_TRUE(storage.ok()) << storage.status();
    return storage.ok() ? *std::move(storage) : nullptr;
  }

  // Writes `json` as providers.json (0600) into `auth`, a new 0700 directory.
  static void WriteLocalFile(const std::string& auth, const std::string& json) {
    ASSERT_EQ(mkdir(auth.c_str(), 0700), 0);
    WriteFileOrDie(auth + "/providers.json", json);
    ASSERT_EQ(chmod((auth + "/providers.json").c_str(), 0600), 0);
  }

  // The fleet's whole document, as `fleet` reads it from etcd.
  static CredentialDocument DocumentOf(FleetStorage& fleet) {
    CredentialDocument held;
    absl::Status read = fleet.Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
      held = document;
      return false;
    });
    EXPECT_TRUE(read.ok()) << read;
    return held;
  }

  // Whether etcd holds a providers document at all (the kv must be reachable).
  bool HasDocument(const FleetStorage& fleet) {
    absl::StatusOr<KvRead> read = kv_->Get(fleet.document_key());
    EXPECT_TRUE(read.ok()) << read.status();
    return read.ok() && read->entry.has_value();
  }

  std::shared_ptr<InMemoryKv> kv_ = std::make_shared<InMemoryKv>();
  const FleetKey key_ = FleetKey::Generate();
  TempDir dir_a_;
  TempDir dir_b_;
};

TEST_F(FleetImportTest, AnEmptyFleetTakesTheWholeLocalDocumentAndTheFileIsEmptied) {
  std::unique_ptr<FileAuthStorage> local = OpenLocal(dir_a_.Sub("auth"));
  ASSERT_NE(local, nullptr);
  ASSERT_TRUE(PutLocal(*local, "openai", Credential::ApiKey("sk-import-0001")).ok());
  Credential oauth = Credential::OAuth("at-import-0002", "rt-import-0003", kExpiresUnixMs);
  oauth.account_id = "acct-import";
  ASSERT_TRUE(PutLocal(*local, "anthropic", oauth).ok());
  ASSERT_TRUE(PutLocal(*local, "anthropic@work", Credential::ApiKey("sk-import-0004")).ok());
  std::unique_ptr<FleetStorage> fleet = OpenFleet("a");

  absl::StatusOr<FleetImportReport> report = ImportLocalDocument(*local, *fleet);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->seeded);
  EXPECT_THAT(report->added, UnorderedElementsAre("openai", "anthropic", "anthropic@work"));
  EXPECT_THAT(report->kept, IsEmpty());
  EXPECT_TRUE(report->local_problem.empty()) << report->local_problem;

  // In the fleet, as this daemon serves it and as a daemon opening now reads it from etcd.
  std::unique_ptr<FleetStorage> other = OpenFleet("b");
  for (FleetStorage* daemon : {fleet.get(), other.get()}) {
    std::shared_ptr<const CredentialSnapshot> held = daemon->Snapshot();
    EXPECT_TRUE(held->load_error.empty()) << held->load_error;
    ASSERT_EQ(held->credentials.size(), 3u);
    EXPECT_EQ(held->credentials.at("openai").key.view(), "sk-import-0001");
    const Credential& anthropic = held->credentials.at("anthropic");
    EXPECT_EQ(anthropic.type, CredentialType::kOAuth);
    EXPECT_EQ(anthropic.access.view(), "at-import-0002");
    EXPECT_EQ(anthropic.refresh.view(), "rt-import-0003");
    EXPECT_EQ(anthropic.expires_unix_ms, kExpiresUnixMs);
    EXPECT_EQ(anthropic.account_id, "acct-import");
    EXPECT_EQ(held->credentials.at("anthropic@work").key.view(), "sk-import-0004");
  }

  // No refresh token stays on this host.
  EXPECT_TRUE(IsEmptiedText(ReadFileOrDie(local->path()))) << local->path() << " was not emptied";
  std::shared_ptr<const CredentialSnapshot> left = local->Snapshot();
  EXPECT_TRUE(left->load_error.empty()) << left->load_error;
  EXPECT_TRUE(left->credentials.empty());
  EXPECT_EQ(FileMode(local->path()), 0600);
}

// A merge copies each entry as it is: fields this daemon does not know (an "extra" object) reach
// the fleet, since the local file is emptied after.
TEST_F(FleetImportTest, AMergeCopiesEachEntryWithTheFieldsThisDaemonDoesNotKnow) {
  std::unique_ptr<FileAuthStorage> local_a = OpenLocal(dir_a_.Sub("auth"));
  ASSERT_NE(local_a, nullptr);
  ASSERT_TRUE(PutLocal(*local_a, "openai", Credential::ApiKey("sk-import-0031")).ok());
  const std::string b_auth = dir_b_.Sub("auth");
  WriteLocalFile(b_auth, R"({"groq": {"type": "api_key", "key": "sk-import-0032",
                                      "extra": {"org": "acme", "tier": 3}, "note": "kept"}})");
  std::unique_ptr<FileAuthStorage> local_b = OpenLocal(b_auth);
  ASSERT_NE(local_b, nullptr);
  std::unique_ptr<FleetStorage> fleet_a = OpenFleet("a");
  std::unique_ptr<FleetStorage> fleet_b = OpenFleet("b");
  ASSERT_TRUE(ImportLocalDocument(*local_a, *fleet_a).ok());
  absl::StatusOr<FleetImportReport> merged = ImportLocalDocument(*local_b, *fleet_b);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_THAT(merged->added, ElementsAre("groq"));

  const CredentialDocument held = DocumentOf(*fleet_b);
  absl::StatusOr<CredentialDocument> expected = CredentialDocument::Parse(
      R"({"groq": {"type": "api_key", "key": "sk-import-0032",
                   "extra": {"org": "acme", "tier": 3}, "note": "kept"}})");
  ASSERT_TRUE(expected.ok());
  EXPECT_TRUE(held.SameEntry(*expected, "groq")) << "the entry reached the fleet changed";
  EXPECT_TRUE(IsEmptiedText(ReadFileOrDie(local_b->path())));
}

// A multi-account host joining: the default account the fleet gains keeps the name callers use
// for it ("anthropic@personal" still resolves). A name is not copied where the fleet already
// holds that provider's default, or a named account of the same name.
TEST_F(FleetImportTest, ADefaultAccountTheFleetGainsKeepsTheNameItGoesBy) {
  WriteLocalFile(dir_a_.Sub("auth"), R"({
      "groq": {"type": "api_key", "key": "sk-import-0101"},
      "_accounts": {"mistral": {"named": {"home": {"type": "api_key", "key": "sk-import-0102"}}}}})");
  WriteLocalFile(dir_b_.Sub("auth"), R"({
      "anthropic": {"type": "api_key", "key": "sk-import-0103"},
      "groq": {"type": "api_key", "key": "sk-import-0104"},
      "mistral": {"type": "api_key", "key": "sk-import-0105"},
      "_accounts": {
        "anthropic": {"default": "personal",
                      "named": {"work": {"type": "api_key", "key": "sk-import-0106"}}},
        "groq": {"default": "team"},
        "mistral": {"default": "home"}}})");
  std::unique_ptr<FileAuthStorage> local_a = OpenLocal(dir_a_.Sub("auth"));
  std::unique_ptr<FileAuthStorage> local_b = OpenLocal(dir_b_.Sub("auth"));
  ASSERT_NE(local_a, nullptr);
  ASSERT_NE(local_b, nullptr);
  std::unique_ptr<FleetStorage> fleet_a = OpenFleet("a");
  std::unique_ptr<FleetStorage> fleet_b = OpenFleet("b");
  ASSERT_TRUE(ImportLocalDocument(*local_a, *fleet_a).ok());
  absl::StatusOr<FleetImportReport> merged = ImportLocalDocument(*local_b, *fleet_b);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_THAT(merged->added, UnorderedElementsAre("anthropic", "anthropic@work", "mistral"));
  EXPECT_THAT(merged->kept, ElementsAre("groq"));

  const CredentialDocument held = DocumentOf(*fleet_b);
  const std::map<std::string, std::string> names = held.DefaultAccountNames();
  EXPECT_EQ(names, (std::map<std::string, std::string>{{"anthropic", "personal"}}));
  EXPECT_EQ(held.Credentials().at("mistral@home").key.view(), "sk-import-0102");
  EXPECT_EQ(held.Credentials().at("groq").key.view(), "sk-import-0101");
}

// The one case where the local copy wins: an OAuth login that expires later than the fleet's is a
// newer login made on this host (a rotated successor always expires after what it came from).
TEST_F(FleetImportTest, ANewerLocalOAuthLoginReplacesTheFleetsOlderOne) {
  std::unique_ptr<FileAuthStorage> local_a = OpenLocal(dir_a_.Sub("auth"));
  std::unique_ptr<FileAuthStorage> local_b = OpenLocal(dir_b_.Sub("auth"));
  ASSERT_NE(local_a, nullptr);
  ASSERT_NE(local_b, nullptr);
  ASSERT_TRUE(PutLocal(*local_a, "anthropic",
                       Credential::OAuth("at-import-old", "rt-import-old", kExpiresUnixMs - 1000))
                  .ok());
  ASSERT_TRUE(PutLocal(*local_b, "anthropic",
                       Credential::OAuth("at-import-new", "rt-import-new", kExpiresUnixMs))
                  .ok());
  std::unique_ptr<FleetStorage> fleet_a = OpenFleet("a");
  std::unique_ptr<FleetStorage> fleet_b = OpenFleet("b");
  ASSERT_TRUE(ImportLocalDocument(*local_a, *fleet_a).ok());
  absl::StatusOr<FleetImportReport> merged = ImportLocalDocument(*local_b, *fleet_b);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_THAT(merged->replaced, ElementsAre("anthropic"));
  EXPECT_THAT(merged->kept, IsEmpty());
  kv_->Drain();
  EXPECT_EQ(fleet_a->Snapshot()->credentials.at("anthropic").refresh.view(), "rt-import-new");
}

TEST_F(FleetImportTest, AJoiningDaemonAddsOnlyWhatTheFleetLacksAndNeverOverwritesItsCopy) {
  std::unique_ptr<FileAuthStorage> local_a = OpenLocal(dir_a_.Sub("auth"));
  std::unique_ptr<FileAuthStorage> local_b = OpenLocal(dir_b_.Sub("auth"));
  ASSERT_NE(local_a, nullptr);
  ASSERT_NE(local_b, nullptr);
  // A's anthropic token is the current one; B's copy of the same login is an old one.
  ASSERT_TRUE(PutLocal(*local_a, "anthropic",
                       Credential::OAuth("at-import-0011", "rt-import-0012", kExpiresUnixMs))
                  .ok());
  ASSERT_TRUE(PutLocal(*local_b, "anthropic",
                       Credential::OAuth("at-import-stale", "rt-import-stale", kExpiresUnixMs))
                  .ok());
  ASSERT_TRUE(PutLocal(*local_b, "openai", Credential::ApiKey("sk-import-0013")).ok());
  std::unique_ptr<FleetStorage> fleet_a = OpenFleet("a");
  std::unique_ptr<FleetStorage> fleet_b = OpenFleet("b");

  absl::StatusOr<FleetImportReport> first = ImportLocalDocument(*local_a, *fleet_a);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->seeded);

  absl::StatusOr<FleetImportReport> second = ImportLocalDocument(*local_b, *fleet_b);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->seeded);
  EXPECT_THAT(second->added, ElementsAre("openai"));
  EXPECT_THAT(second->kept, ElementsAre("anthropic"));
  EXPECT_TRUE(second->local_problem.empty()) << second->local_problem;

  kv_->Drain();
  for (FleetStorage* daemon : {fleet_a.get(), fleet_b.get()}) {
    std::shared_ptr<const CredentialSnapshot> held = daemon->Snapshot();
    ASSERT_EQ(held->credentials.size(), 2u);
    EXPECT_EQ(held->credentials.at("anthropic").access.view(), "at-import-0011");
    EXPECT_EQ(held->credentials.at("anthropic").refresh.view(), "rt-import-0012");
    EXPECT_EQ(held->credentials.at("openai").key.view(), "sk-import-0013");
  }
  EXPECT_TRUE(IsEmptiedText(ReadFileOrDie(local_b->path())))
      << local_b->path() << " was not emptied";
  EXPECT_TRUE(local_b->Snapshot()->credentials.empty());
}

TEST_F(FleetImportTest, ATokenRotatedDuringTheMergeIsKeptAndTheReportNamesEachKeyOnce) {
  std::unique_ptr<FileAuthStorage> local_a = OpenLocal(dir_a_.Sub("auth"));
  std::unique_ptr<FileAuthStorage> local_b = OpenLocal(dir_b_.Sub("auth"));
  ASSERT_NE(local_a, nullptr);
  ASSERT_NE(local_b, nullptr);
  ASSERT_TRUE(PutLocal(*local_a, "anthropic",
                       Credential::OAuth("at-import-0021", "rt-import-0022", kExpiresUnixMs))
                  .ok());
  ASSERT_TRUE(PutLocal(*local_b, "anthropic",
                       Credential::OAuth("at-import-stale", "rt-import-stale", kExpiresUnixMs))
                  .ok());
  ASSERT_TRUE(PutLocal(*local_b, "openai", Credential::ApiKey("sk-import-0023")).ok());
  std::unique_ptr<FleetStorage> fleet_a = OpenFleet("a");
  std::unique_ptr<FleetStorage> fleet_b = OpenFleet("b");
  absl::StatusOr<FleetImportReport> first = ImportLocalDocument(*local_a, *fleet_a);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->seeded);

  // B's first put is its create-if-absent, which finds A's document. Its second is the merge's
  // compare-and-swap: just before it, A rotates the token, so B's merge is computed again on
  // the rotated document.
  absl::Status rotated = absl::UnknownError("A's rotation did not run");
  kv_->BeforeNextPut([&] {
    kv_->BeforeNextPut([&] {
      rotated = fleet_a->Update(PutCredential(
          "anthropic", Credential::OAuth("at-import-0024", "rt-import-0025", kExpiresUnixMs)));
    });
  });
  absl::StatusOr<FleetImportReport> second = ImportLocalDocument(*local_b, *fleet_b);
  ASSERT_TRUE(rotated.ok()) << rotated;
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->seeded);
  EXPECT_THAT(second->added, ElementsAre("openai"));
  EXPECT_THAT(second->kept, ElementsAre("anthropic"));

  kv_->Drain();
  for (FleetStorage* daemon : {fleet_a.get(), fleet_b.get()}) {
    std::shared_ptr<const CredentialSnapshot> held = daemon->Snapshot();
    ASSERT_EQ(held->credentials.size(), 2u);
    EXPECT_EQ(held->credentials.at("anthropic").access.view(), "at-import-0024");
    EXPECT_EQ(held->credentials.at("anthropic").refresh.view(), "rt-import-0025");
    EXPECT_EQ(held->credentials.at("openai").key.view(), "sk-import-0023");
  }
  EXPECT_TRUE(IsEmptiedText(ReadFileOrDie(local_b->path())))
      << local_b->path() << " was not emptied";
}

TEST_F(FleetImportTest, ImportingTheEmptiedFileAgainWritesNothing) {
  std::unique_ptr<FileAuthStorage> local = OpenLocal(dir_a_.Sub("auth"));
  ASSERT_NE(local, nullptr);
  ASSERT_TRUE(PutLocal(*local, "openai", Credential::ApiKey("sk-import-0031")).ok());
  std::unique_ptr<FleetStorage> fleet = OpenFleet("a");
  absl::StatusOr<FleetImportReport> first = ImportLocalDocument(*local, *fleet);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->seeded);
  const int64_t kv_revision = kv_->revision();
  const int64_t fleet_revision = fleet->Status().revision;

  absl::StatusOr<FleetImportReport> again = ImportLocalDocument(*local, *fleet);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->seeded);
  EXPECT_THAT(again->added, IsEmpty());
  EXPECT_THAT(again->kept, IsEmpty());
  EXPECT_TRUE(again->local_problem.empty()) << again->local_problem;
  EXPECT_EQ(kv_->revision(), kv_revision);
  EXPECT_EQ(fleet->Status().revision, fleet_revision);
  EXPECT_EQ(fleet->Snapshot()->credentials.at("openai").key.view(), "sk-import-0031");
  EXPECT_TRUE(IsEmptiedText(ReadFileOrDie(local->path()))) << local->path() << " was refilled";
}

// A crash after the fleet write and before the emptying leaves the file full: the next start
// finds every credential in the fleet already, writes nothing there, and empties the file.
TEST_F(FleetImportTest, ARerunAfterACrashBeforeTheEmptyingAddsNothingAndEmptiesTheFile) {
  std::unique_ptr<FileAuthStorage> local = OpenLocal(dir_a_.Sub("auth"));
  ASSERT_NE(local, nullptr);
  const Credential oauth = Credential::OAuth("at-import-0041", "rt-import-0042", kExpiresUnixMs);
  ASSERT_TRUE(PutLocal(*local, "openai", Credential::ApiKey("sk-import-0043")).ok());
  ASSERT_TRUE(PutLocal(*local, "anthropic", oauth).ok());
  std::unique_ptr<FleetStorage> fleet = OpenFleet("a");
  absl::StatusOr<FleetImportReport> first = ImportLocalDocument(*local, *fleet);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->seeded);
  // The file as the crash would have left it.
  ASSERT_TRUE(PutLocal(*local, "openai", Credential::ApiKey("sk-import-0043")).ok());
  ASSERT_TRUE(PutLocal(*local, "anthropic", oauth).ok());
  const int64_t kv_revision = kv_->revision();

  absl::StatusOr<FleetImportReport> rerun = ImportLocalDocument(*local, *fleet);
  ASSERT_TRUE(rerun.ok()) << rerun.status();
  EXPECT_FALSE(rerun->seeded);
  EXPECT_THAT(rerun->added, IsEmpty());
  EXPECT_THAT(rerun->kept, UnorderedElementsAre("openai", "anthropic"));
  EXPECT_TRUE(rerun->local_problem.empty()) << rerun->local_problem;
  EXPECT_EQ(kv_->revision(), kv_revision);
  EXPECT_TRUE(IsEmptiedText(ReadFileOrDie(local->path()))) << local->path() << " was not emptied";
}

TEST_F(FleetImportTest, ALocalFileThatDoesNotLoadImportsNothingAndIsLeftAsItWas) {
  const std::string auth = dir_a_.Sub("auth");
  ASSERT_EQ(mkdir(auth.c_str(), 0700), 0);
  const std::string path = auth + "/providers.json";
  // Torn mid-write, with a secret in it that no message may quote.
  const std::string broken = "{\"openai\": {\"type\": \"api_key\", \"key\": \"sk-import-torn";
  WriteFileOrDie(path, broken);
  std::unique_ptr<FileAuthStorage> local = OpenLocal(auth);
  ASSERT_NE(local, nullptr);
  ASSERT_FALSE(local->Snapshot()->load_error.empty());
  std::unique_ptr<FleetStorage> fleet = OpenFleet("a");
  const int64_t kv_revision = kv_->revision();

  absl::StatusOr<FleetImportReport> report = ImportLocalDocument(*local, *fleet);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string message(report.status().message());
  EXPECT_THAT(message, HasSubstr(local->path()));
  EXPECT_THAT(message, Not(HasSubstr("sk-import-torn")));
  EXPECT_EQ(kv_->revision(), kv_revision);
  EXPECT_FALSE(HasDocument(*fleet));
  EXPECT_TRUE(fleet->Snapshot()->credentials.empty());
  EXPECT_TRUE(ReadFileOrDie(path) == broken) << path << " was changed";
}

TEST_F(FleetImportTest, WithoutQuorumNothingIsImportedAndTheLocalFileIsKept) {
  std::unique_ptr<FileAuthStorage> local = OpenLocal(dir_a_.Sub("auth"));
  ASSERT_NE(local, nullptr);
  ASSERT_TRUE(PutLocal(*local, "openai", Credential::ApiKey("sk-import-0051")).ok());
  const std::string before = ReadFileOrDie(local->path());
  std::unique_ptr<FleetStorage> fleet = OpenFleet("a");
  kv_->SetAvailable(false);

  absl::StatusOr<FleetImportReport> report = ImportLocalDocument(*local, *fleet);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(ReadFileOrDie(local->path()) == before) << local->path() << " was changed";
  EXPECT_EQ(local->Snapshot()->credentials.at("openai").key.view(), "sk-import-0051");

  // Quorum back: nothing was half-written, and the next start imports the file.
  kv_->SetAvailable(true);
  EXPECT_FALSE(HasDocument(*fleet));
  absl::StatusOr<FleetImportReport> retry = ImportLocalDocument(*local, *fleet);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->seeded);
  EXPECT_THAT(retry->added, ElementsAre("openai"));
  EXPECT_EQ(fleet->Snapshot()->credentials.at("openai").key.view(), "sk-import-0051");
  EXPECT_TRUE(IsEmptiedText(ReadFileOrDie(local->path()))) << local->path() << " was not emptied";
}

TEST_F(FleetImportTest, AFleetDocumentUnderAnotherKeyIsNeitherMergedNorOverwritten) {
  std::unique_ptr<FleetStorage> foreign = OpenFleet("foreign", FleetKey::Generate());
  CredentialDocument theirs;
  theirs.Put("google", Credential::ApiKey("sk-import-foreign"));
  absl::StatusOr<bool> seeded = foreign->SeedIfEmpty(theirs);
  ASSERT_TRUE(seeded.ok()) << seeded.status();
  ASSERT_TRUE(*seeded);
  std::unique_ptr<FileAuthStorage> local = OpenLocal(dir_a_.Sub("auth"));
  ASSERT_NE(local, nullptr);
  ASSERT_TRUE(PutLocal(*local, "openai", Credential::ApiKey("sk-import-0061")).ok());
  const std::string before = ReadFileOrDie(local->path());
  std::unique_ptr<FleetStorage> fleet = OpenFleet("a");
  const int64_t kv_revision = kv_->revision();

  absl::StatusOr<FleetImportReport> report = ImportLocalDocument(*local, *fleet);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(report.status().message()), HasSubstr("does not open"));
  EXPECT_EQ(kv_->revision(), kv_revision);
  EXPECT_TRUE(ReadFileOrDie(local->path()) == before) << local->path() << " was changed";
  // The other key's document is still what it was.
  std::shared_ptr<const CredentialSnapshot> held = foreign->Snapshot();
  ASSERT_EQ(held->credentials.size(), 1u);
  EXPECT_EQ(held->credentials.at("google").key.view(), "sk-import-foreign");
}

TEST_F(FleetImportTest, ALocalFileWithoutCredentialsWritesNothingToTheFleet) {
  // One daemon with no providers.json at all, one with an empty document.
  const std::string auth_b = dir_b_.Sub("auth");
  ASSERT_EQ(mkdir(auth_b.c_str(), 0700), 0);
  WriteFileOrDie(auth_b + "/providers.json", "{}\n");
  std::unique_ptr<FileAuthStorage> absent = OpenLocal(dir_a_.Sub("auth"));
  std::unique_ptr<FileAuthStorage> empty = OpenLocal(auth_b);
  ASSERT_NE(absent, nullptr);
  ASSERT_NE(empty, nullptr);
  std::unique_ptr<FleetStorage> fleet = OpenFleet("a");
  const int64_t kv_revision = kv_->revision();

  for (FileAuthStorage* local : {absent.get(), empty.get()}) {
    absl::StatusOr<FleetImportReport> report = ImportLocalDocument(*local, *fleet);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_FALSE(report->seeded) << local->path();
    EXPECT_THAT(report->added, IsEmpty());
    EXPECT_THAT(report->kept, IsEmpty());
    EXPECT_TRUE(report->local_problem.empty()) << report->local_problem;
  }
  EXPECT_EQ(kv_->revision(), kv_revision);
  EXPECT_FALSE(HasDocument(*fleet));
  EXPECT_EQ(ReadFileOrDie(auth_b + "/providers.json"), "{}\n");
}

// The importer a daemon runs after start, on the local file of dir_a_, and a second FileAuthStorage
// on the same file standing for another tool (it takes providers.lock as a py-filelock writer
// does, and its writes reach the importer as external edits).
class FleetLocalImportTest : public FleetImportTest {
 protected:
  void SetUp() override {
    path_ = dir_a_.Sub("auth") + "/providers.json";
    std::unique_ptr<FileAuthStorage> local = OpenLocal(dir_a_.Sub("auth"));
    ASSERT_NE(local, nullptr);
    fleet_ = OpenFleet("a");
    FleetLocalImport::Options options;
    options.fleet_name = "unit";
    options.retry = absl::Milliseconds(50);
    options.stat_poll = absl::Milliseconds(50);
    import_ = std::make_unique<FleetLocalImport>(std::move(local), *fleet_, "", options);
    import_->Start();
    tool_ = OpenLocal(dir_a_.Sub("auth"));
    ASSERT_NE(tool_, nullptr);
  }
  void TearDown() override { import_.reset(); }

  std::string KeyInFleet(const std::string& id) {
    std::shared_ptr<const CredentialSnapshot> held = fleet_->Snapshot();
    auto it = held->credentials.find(id);
    return it == held->credentials.end() ? "<none>" : std::string(it->second.key.view());
  }
  bool Emptied() { return IsEmptiedText(ReadFileOrDie(path_)); }

  std::string path_;
  std::unique_ptr<FleetStorage> fleet_;
  std::unique_ptr<FleetLocalImport> import_;
  std::unique_ptr<FileAuthStorage> tool_;
};

TEST_F(FleetLocalImportTest, EveryWriteAfterStartReachesTheFleetAndTheFileIsEmptiedAgain) {
  ASSERT_TRUE(PutLocal(*tool_, "openai", Credential::ApiKey("sk-import-0071")).ok());
  ASSERT_TRUE(Eventually([&] { return KeyInFleet("openai") == "sk-import-0071" && Emptied(); }));
  // A second tool write: a key the fleet lacks and a stale copy of one it holds.
  ASSERT_TRUE(fleet_->Update(PutCredential("groq", Credential::ApiKey("sk-import-0072"))).ok());
  ASSERT_TRUE(tool_
                  ->Update([](CredentialDocument& document) -> absl::StatusOr<bool> {
                    document.Put("mistral", Credential::ApiKey("sk-import-0073"));
                    document.Put("groq", Credential::ApiKey("sk-import-stale"));
                    return true;
                  })
                  .ok());
  ASSERT_TRUE(Eventually([&] { return KeyInFleet("mistral") == "sk-import-0073" && Emptied(); }));
  EXPECT_EQ(KeyInFleet("groq"), "sk-import-0072") << "the fleet's copy is kept";
  EXPECT_EQ(KeyInFleet("openai"), "sk-import-0071");
  EXPECT_EQ(import_->problem(), "");
  // Idle, it writes nothing: neither to the cluster nor to the file.
  const int64_t revision = kv_->revision();
  const std::string text = ReadFileOrDie(path_);
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(kv_->revision(), revision);
  EXPECT_EQ(ReadFileOrDie(path_), text);
}

TEST_F(FleetLocalImportTest, WithoutQuorumTheFileIsKeptAndTheImportTriedAgain) {
  kv_->SetAvailable(false);
  ASSERT_TRUE(PutLocal(*tool_, "openai", Credential::ApiKey("sk-import-0081")).ok());
  ASSERT_TRUE(Eventually([&] { return !import_->problem().empty(); }));
  EXPECT_THAT(import_->problem(), HasSubstr("cannot bring " + path_ + " into fleet 'unit'"));
  EXPECT_EQ(tool_->Snapshot()->credentials.at("openai").key.view(), "sk-import-0081");
  // Tried again every 50 ms, not in a loop: each import closes providers.lock, and that event
  // must not count as the retry's time.
  const int64_t refused = kv_->refused();
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_LT(kv_->refused() - refused, 200) << "the importer presses a cluster that is down";
  // No other write to the file is needed: the retry brings it in once quorum is back.
  kv_->SetAvailable(true);
  ASSERT_TRUE(Eventually([&] { return KeyInFleet("openai") == "sk-import-0081" && Emptied(); }));
  EXPECT_TRUE(Eventually([&] { return import_->problem().empty(); })) << import_->problem();
}

TEST_F(FleetLocalImportTest, AFileThatDoesNotLoadIsKeptAndSaidUntilItIsFixed) {
  const std::string broken = "{\"openai\": {\"type\": \"api_key\", \"key\": \"sk-import-torn";
  WriteFileOrDie(path_, broken);
  ASSERT_TRUE(Eventually([&] {
    return absl::StrContains(import_->problem(), "was not brought into fleet 'unit'");
  })) << import_->problem();
  EXPECT_THAT(import_->problem(), Not(HasSubstr("sk-import-torn")));
  EXPECT_THAT(import_->problem(), HasSubstr("not valid JSON"));
  EXPECT_THAT(import_->problem(), HasSubstr("fix or remove it"));
  EXPECT_TRUE(ReadFileOrDie(path_) == broken) << path_ << " was changed";
  EXPECT_EQ(KeyInFleet("openai"), "<none>");
  WriteFileOrDie(path_, R"({"openai": {"type": "api_key", "key": "sk-import-0091"}})");
  ASSERT_TRUE(Eventually([&] { return KeyInFleet("openai") == "sk-import-0091" && Emptied(); }));
  EXPECT_TRUE(Eventually([&] { return import_->problem().empty(); })) << import_->problem();
}

}  // namespace
}  // namespace operator_auth
