#include "daemon/core/audit_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "tests/support/temp_dir.h"

namespace operator_auth {
namespace {

using ::operator_auth::testing::FileMode;
using ::operator_auth::testing::PathExists;
using ::operator_auth::testing::ReadFileOrDie;
using ::operator_auth::testing::TempDir;
using ::operator_auth::testing::WriteFileOrDie;
using ::testing::HasSubstr;
using Json = nlohmann::json;

AuditRecord MakeRecord(std::string account, PeerIdentityPtr peer = nullptr) {
  AuditRecord record;
  record.time = absl::FromUnixMillis(1'796'439'662'123);  // 2026-12-05T03:01:02.123Z
  record.peer = std::move(peer);
  record.method = "GetApiKey";
  record.provider = "openai";
  record.account = std::move(account);
  record.outcome = "ok";
  return record;
}

std::vector<Json> ReadLines(const std::string& path) {
  std::vector<Json> lines;
  if (!PathExists(path)) return lines;
  const std::string text = ReadFileOrDie(path);
  EXPECT_TRUE(text.empty() || text.back() == '\n') << "the last line is cut";
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    lines.push_back(Json::parse(line));  // throws (fails the test) on a split or bad line
  }
  return lines;
}

std::unique_ptr<AuditLog> OpenOrDie(const std::string& dir, AuditLog::Options options = {}) {
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(dir, std::move(options));
  EXPECT_TRUE(log.ok()) << log.status();
  return log.ok() ? *std::move(log) : nullptr;
}

// The writer reuses the time stamp's second and the connection's identity from line to line:
// its lines must be FormatLine's exactly, across seconds, peers and a peer that comes back.
TEST(AuditLog, TheWritersLinesAreFormatLinesAcrossSecondsAndPeers) {
  TempDir dir;
  auto a = std::make_shared<PeerIdentity>();
  a->pid = 1;
  a->exe = "/usr/bin/a";
  auto b = std::make_shared<PeerIdentity>();
  b->pid = 2;
  b->unit = "b.service";
  std::vector<AuditRecord> records;
  const int64_t base = 1'796'439'662'998;
  for (int i = 0; i < 8; ++i) {
    AuditRecord r = MakeRecord(i % 3 == 0 ? "work" : "", i % 4 == 3 ? nullptr : (i % 2 ? b : a));
    r.time = absl::FromUnixMillis(base + i);  // crosses a second after the second record
    records.push_back(std::move(r));
  }
  std::string expected;
  for (const AuditRecord& r : records) expected += AuditLog::FormatLine(r);
  {
    std::unique_ptr<AuditLog> log = OpenOrDie(dir.path());
    ASSERT_NE(log, nullptr);
    for (AuditRecord& r : records) log->Record(std::move(r));
  }
  EXPECT_EQ(ReadFileOrDie(dir.Sub("audit.jsonl")), expected);
}

TEST(AuditLog, WritesOneJsonLinePerRecordWithEveryField) {
  TempDir dir;
  auto peer = std::make_shared<PeerIdentity>();
  peer->pid = 4242;
  peer->uid = 1000;
  peer->exe = "/usr/bin/py\"thon\n3";
  peer->unit = "app-foo.scope";
  {
    std::unique_ptr<AuditLog> log = OpenOrDie(dir.path());
    ASSERT_NE(log, nullptr);
    AuditRecord with_peer = MakeRecord("work", peer);
    with_peer.rule = "agents";
    log->Record(std::move(with_peer));
    log->Record(MakeRecord(""));
  }
  const std::string path = dir.Sub("audit.jsonl");
  EXPECT_EQ(FileMode(path), 0600);
  std::vector<Json> lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["time"], "2026-12-05T03:01:02.123Z");
  EXPECT_EQ(lines[0]["pid"], 4242);
  EXPECT_EQ(lines[0]["uid"], 1000);
  EXPECT_EQ(lines[0]["exe"], "/usr/bin/py\"thon\n3");
  EXPECT_EQ(lines[0]["unit"], "app-foo.scope");
  EXPECT_EQ(lines[0]["rule"], "agents");
  EXPECT_EQ(lines[0]["method"], "GetApiKey");
  EXPECT_EQ(lines[0]["provider"], "openai");
  EXPECT_EQ(lines[0]["account"], "work");
  EXPECT_EQ(lines[0]["outcome"], "ok");
  // An unknown peer still has every field, saying it is unknown.
  for (const char* key :
       {"time", "pid", "uid", "exe", "unit", "rule", "method", "provider", "account", "outcome"}) {
    EXPECT_TRUE(lines[1].contains(key)) << key;
  }
  EXPECT_TRUE(lines[1]["pid"].is_null());
}

TEST(AuditLog, InvalidUtf8IsReplacedNotFatal) {
  auto peer = std::make_shared<PeerIdentity>();
  peer->exe = "/opt/\xff\xfe/bin";
  const std::string line = AuditLog::FormatLine(MakeRecord("", peer));
  Json parsed = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(parsed.is_discarded());
  EXPECT_EQ(parsed["provider"], "openai");
  EXPECT_THAT(line, HasSubstr("/opt/"));
}

TEST(AuditLog, EveryStringIsEscapedAndValidUtf8StaysAsItIs) {
  const std::string tricky[] = {
      "plain",
      "quote\" and back\\slash",
      "new\nline\r\ttab",
      std::string("nul\0x", 5),
      "\x01\x1f\x7f",
      "caf\xc3\xa9",
      "\xf0\x9f\x98\x80 emoji",
      "",
  };
  for (const std::string& text : tricky) {
    auto peer = std::make_shared<PeerIdentity>();
    peer->exe = text;
    peer->unit = text;
    AuditRecord record = MakeRecord(text, peer);
    record.rule = text;
    const std::string line = AuditLog::FormatLine(record);
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
    Json parsed = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(parsed.is_discarded()) << line;
    for (const char* key : {"exe", "unit", "rule", "account"}) EXPECT_EQ(parsed[key], text) << key;
  }
}

TEST(AuditLog, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  // Invalid lead, truncated sequence, surrogate, overlong form, past U+10FFFF.
  for (const char* bad : {"\xff", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80"}) {
    auto peer = std::make_shared<PeerIdentity>();
    peer->exe = std::string("/a") + bad + "/b";
    Json parsed = Json::parse(AuditLog::FormatLine(MakeRecord("", peer)), nullptr, false);
    ASSERT_FALSE(parsed.is_discarded());
    const std::string exe = parsed["exe"];
    EXPECT_EQ(exe.substr(0, 2), "/a");
    EXPECT_EQ(exe.substr(exe.size() - 2), "/b");
    EXPECT_NE(exe.find("\xef\xbf\xbd"), std::string::npos);
  }
}

TEST(AuditLog, AppendsToAnExistingFile) {
  TempDir dir;
  WriteFileOrDie(dir.Sub("audit.jsonl"), "{\"earlier\":1}\n");
  chmod(dir.Sub("audit.jsonl").c_str(), 0644);
  { OpenOrDie(dir.path())->Record(MakeRecord("")); }
  EXPECT_EQ(ReadLines(dir.Sub("audit.jsonl")).size(), 2u);
  EXPECT_EQ(FileMode(dir.Sub("audit.jsonl")), 0600);  // others' read bit removed
}

TEST(AuditLog, DestructorWritesEverythingQueued) {
  TempDir dir;
  {
    std::unique_ptr<AuditLog> log = OpenOrDie(dir.path());
    for (int i = 0; i < 3000; ++i) log->Record(MakeRecord(absl::StrCat(i)));
    EXPECT_EQ(log->dropped(), 0u);
  }
  std::vector<Json> lines = ReadLines(dir.Sub("audit.jsonl"));
  ASSERT_EQ(lines.size(), 3000u);
  for (int i = 0; i < 3000; ++i) EXPECT_EQ(lines[i]["account"], absl::StrCat(i));
}

TEST(AuditLog, RotatesAtTheCapKeepingTwoFilesAndNoSplitOrLostLine) {
  TempDir dir;
  constexpr size_t kCap = 4096;
  constexpr int kRecords = 600;
  {
    AuditLog::Options options;
    options.max_bytes = kCap;
    std::unique_ptr<AuditLog> log = OpenOrDie(dir.path(), options);
    for (int i = 0; i < kRecords; ++i) {
      log->Record(MakeRecord(absl::StrCat(i)));
      if (i % 7 == 0) log->Flush();  // batches of several sizes
    }
  }
  struct stat st {};
  ASSERT_EQ(stat(dir.Sub("audit.jsonl").c_str(), &st), 0);
  EXPECT_LE(static_cast<size_t>(st.st_size), kCap);
  ASSERT_EQ(stat(dir.Sub("audit.jsonl.1").c_str(), &st), 0);
  EXPECT_LE(static_cast<size_t>(st.st_size), kCap);
  EXPECT_FALSE(PathExists(dir.Sub("audit.jsonl.2")));
  EXPECT_EQ(FileMode(dir.Sub("audit.jsonl")), 0600);
  // The two files hold the newest records, in order, without a gap at the rotation.
  std::vector<Json> lines = ReadLines(dir.Sub("audit.jsonl.1"));
  std::vector<Json> current = ReadLines(dir.Sub("audit.jsonl"));
  ASSERT_FALSE(current.empty());
  lines.insert(lines.end(), current.begin(), current.end());
  const int first = std::stoi(lines.front()["account"].get<std::string>());
  ASSERT_EQ(static_cast<int>(lines.size()), kRecords - first);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["account"], absl::StrCat(first + static_cast<int>(i)));
  }
}

TEST(AuditLog, AFullQueueDropsCountsAndWritesHowMany) {
  TempDir dir;
  absl::Notification writer_stalled;
  absl::Notification release;
  bool first_batch = true;
  {
    AuditLog::Options options;
    options.max_queued = 4;
    options.before_write = [&] {
      if (!first_batch) return;
      first_batch = false;
      writer_stalled.Notify();
      release.WaitForNotification();
    };
    std::unique_ptr<AuditLog> log = OpenOrDie(dir.path(), options);
    log->Record(MakeRecord("stalled"));
    writer_stalled.WaitForNotification();
    for (int i = 0; i < 10; ++i) log->Record(MakeRecord(absl::StrCat(i)));
    EXPECT_EQ(log->dropped(), 6u);
    release.Notify();
    log->Flush();
    // Room again: the next record is written.
    log->Record(MakeRecord("after"));
  }
  std::vector<Json> lines = ReadLines(dir.Sub("audit.jsonl"));
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0]["account"], "stalled");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(lines[1 + i]["account"], absl::StrCat(i));
  EXPECT_EQ(lines[5]["dropped"], 6);
  EXPECT_EQ(lines[5]["reason"], "queue full");
  EXPECT_EQ(lines[6]["account"], "after");
}

TEST(AuditLog, RefusesASymlinkedFile) {
  TempDir dir;
  WriteFileOrDie(dir.Sub("elsewhere"), "");
  ASSERT_EQ(symlink(dir.Sub("elsewhere").c_str(), dir.Sub("audit.jsonl").c_str()), 0);
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(dir.path(), {});
  ASSERT_FALSE(log.ok());
  EXPECT_THAT(log.status().message(), HasSubstr("symlink"));
  EXPECT_EQ(ReadFileOrDie(dir.Sub("elsewhere")), "");
}

TEST(AuditLog, RefusesAGroupWritableFile) {
  TempDir dir;
  WriteFileOrDie(dir.Sub("audit.jsonl"), "");
  ASSERT_EQ(chmod(dir.Sub("audit.jsonl").c_str(), 0620), 0);
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(dir.path(), {});
  ASSERT_FALSE(log.ok());
  EXPECT_THAT(log.status().message(), HasSubstr("chmod go-w"));
  EXPECT_EQ(FileMode(dir.Sub("audit.jsonl")), 0620);  // refused, not silently changed
}

TEST(AuditLog, RefusesAFileOfAnotherUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give the file away (CI runs as root)";
  TempDir dir;
  WriteFileOrDie(dir.Sub("audit.jsonl"), "");
  ASSERT_EQ(chown(dir.Sub("audit.jsonl").c_str(), 4242, 4242), 0);
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(dir.path(), {});
  ASSERT_FALSE(log.ok());
  EXPECT_THAT(log.status().message(), HasSubstr("owned by uid 4242"));
}

TEST(AuditLog, RefusesADirectoryUnderTheName) {
  TempDir dir;
  ASSERT_EQ(mkdir(dir.Sub("audit.jsonl").c_str(), 0700), 0);
  EXPECT_FALSE(AuditLog::Open(dir.path(), {}).ok());
}

TEST(AuditLog, AFileThatCannotBeOpenedYetCostsRecordsNotTheLog) {
  TempDir dir;
  const std::string later = dir.Sub("later");  // missing for now: open fails with ENOENT
  {
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(later, {});
    ASSERT_TRUE(log.ok()) << log.status();
    (*log)->Record(MakeRecord("lost"));
    (*log)->Flush();
    ASSERT_EQ(mkdir(later.c_str(), 0700), 0);
    (*log)->Record(MakeRecord("kept"));
  }
  std::vector<Json> lines = ReadLines(later + "/audit.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["dropped"], 1);
  EXPECT_EQ(lines[0]["reason"], "write failed");
  EXPECT_EQ(lines[1]["account"], "kept");
}

TEST(AuditLog, AFileRemovedUnderneathIsCreatedAgain) {
  TempDir dir;
  {
    std::unique_ptr<AuditLog> log = OpenOrDie(dir.path());
    log->Record(MakeRecord("before"));
    log->Flush();
    ASSERT_EQ(unlink(dir.Sub("audit.jsonl").c_str()), 0);
    log->Record(MakeRecord("after"));
  }
  std::vector<Json> lines = ReadLines(dir.Sub("audit.jsonl"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["account"], "after");
  EXPECT_EQ(FileMode(dir.Sub("audit.jsonl")), 0600);
}

}  // namespace
}  // namespace operator_auth
