#include "cli/audit_line.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/time.h"

namespace operator_auth::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kRecord[] =
    R"({"time":"2026-12-05T03:01:02.123Z","pid":123,"uid":1000,"exe":"/usr/bin/python3.11",)"
    R"("unit":"app-foo.scope","rule":"","method":"GetApiKey","provider":"openai",)"
    R"("account":"work","outcome":"ok"})";
constexpr char kDropNotice[] =
    R"({"time":"2026-12-05T03:01:03.000Z","dropped":7,"reason":"queue full"})";

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error)) << error;
  return t;
}

TEST(AuditLine, ARecordParses) {
  absl::StatusOr<nlohmann::json> line = ParseAuditLine(kRecord);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ((*line)["provider"], "openai");
}

TEST(AuditLine, MalformedLinesAreRefusedWithoutQuotingThem) {
  for (const char* text : {"{\"time\":\"2026-12-05T03:01:02Z\",\"pid\":", "[1,2]", "{}",
                           "{\"time\":\"yesterday\",\"secretish\":\"sk-abc\"}"}) {
    absl::StatusOr<nlohmann::json> line = ParseAuditLine(text);
    ASSERT_FALSE(line.ok()) << text;
    EXPECT_THAT(std::string(line.status().message()), ::testing::Not(HasSubstr("sk-abc")));
  }
}

TEST(AuditLine, FiltersByProviderAndTime) {
  const nlohmann::json record = *ParseAuditLine(kRecord);
  EXPECT_TRUE(AuditLineMatches(record, {}));
  EXPECT_TRUE(AuditLineMatches(record, {"openai", absl::InfinitePast()}));
  EXPECT_FALSE(AuditLineMatches(record, {"anthropic", absl::InfinitePast()}));
  EXPECT_TRUE(AuditLineMatches(record, {"", At("2026-12-05T03:01:02Z")}));
  EXPECT_FALSE(AuditLineMatches(record, {"", At("2026-12-05T03:01:03Z")}));
  // A drop notice may be about any provider's records.
  const nlohmann::json notice = *ParseAuditLine(kDropNotice);
  EXPECT_TRUE(AuditLineMatches(notice, {"anthropic", absl::InfinitePast()}));
  EXPECT_FALSE(AuditLineMatches(notice, {"", At("2026-12-05T04:00:00Z")}));
}

TEST(AuditLine, SinceAcceptsSecondsMinutesHoursAndDays) {
  EXPECT_EQ(*ParseSinceDuration("30s"), absl::Seconds(30));
  EXPECT_EQ(*ParseSinceDuration("15m"), absl::Minutes(15));
  EXPECT_EQ(*ParseSinceDuration("2h"), absl::Hours(2));
  EXPECT_EQ(*ParseSinceDuration("7d"), absl::Hours(24 * 7));
  EXPECT_EQ(*ParseSinceDuration("1h30m"), absl::Minutes(90));
  for (const char* bad : {"", "d", "7", "-5m", "0s", "abc", "7dd", "inf", "1e9d"}) {
    EXPECT_FALSE(ParseSinceDuration(bad).ok()) << bad;
  }
}

TEST(AuditLine, TheTableShowsTheFieldsAndTheExeBaseName) {
  const std::string row = AuditTableRow(*ParseAuditLine(kRecord), absl::UTCTimeZone());
  EXPECT_THAT(row, StartsWith("2026-12-05 03:01:02 "));
  EXPECT_THAT(row, HasSubstr(" 123 python3.11 "));
  EXPECT_THAT(row, HasSubstr("app-foo.scope"));
  EXPECT_THAT(row, HasSubstr("GetApiKey"));
  EXPECT_THAT(row, HasSubstr("openai@work"));
  EXPECT_THAT(row, HasSubstr(" ok"));
  EXPECT_THAT(AuditTableRow(*ParseAuditLine(kDropNotice), absl::UTCTimeZone()),
              HasSubstr("7 record(s) not written: queue full"));
  EXPECT_THAT(AuditTableHeader(), StartsWith("TIME"));
}

TEST(AuditLine, TheTableShowsNoControlCharacters) {
  nlohmann::json line = *ParseAuditLine(kRecord);
  line["exe"] = "/tmp/evil\x1b]0;owned\x07\nname";
  line["unit"] = "u\rnit";
  const std::string row = AuditTableRow(line, absl::UTCTimeZone());
  for (char c : row) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20) << row;
  EXPECT_THAT(row, HasSubstr("evil?]0;owned??name"));
}

}  // namespace
}  // namespace operator_auth::cli
