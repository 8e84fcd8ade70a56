// The built binaries carry the hardening the top-level CMakeLists.txt asks for: position-
// independent executables, full RELRO (BIND_NOW), stack canaries and, in optimizing builds
// without sanitizers, _FORTIFY_SOURCE's checked functions. Read with readelf, as a packager would.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/child_process.h"

namespace operator_auth::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;

std::string Readelf(const std::string& option, const std::string& binary) {
  ProcessResult result = RunProcess({"/usr/bin/readelf", "--wide", option, binary});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.out;
}

class HardeningTest : public ::testing::TestWithParam<std::string> {};

TEST_P(HardeningTest, IsAPieWithFullRelroAndStackCanaries) {
  const std::string binary = GetParam();
  EXPECT_THAT(Readelf("--file-header", binary), ContainsRegex("Type: +DYN "));
  const std::string dynamic = Readelf("--dynamic", binary);
  EXPECT_THAT(dynamic, ContainsRegex("\\(FLAGS\\) +BIND_NOW"));
  EXPECT_THAT(dynamic, ContainsRegex("\\(FLAGS_1\\).*NOW.*PIE"));
  EXPECT_THAT(Readelf("--program-headers", binary), HasSubstr("GNU_RELRO"));
  const std::string symbols = Readelf("--dyn-syms", binary);
  EXPECT_THAT(symbols, HasSubstr("__stack_chk_fail"));
  if (AUTHD_FORTIFY_EXPECTED) {
    EXPECT_THAT(symbols, ContainsRegex("__[a-z_]+_chk@"));
  }
}

INSTANTIATE_TEST_SUITE_P(Binaries, HardeningTest,
                         ::testing::Values(std::string(AUTHD_DAEMON_PATH),
                                           std::string(AUTHD_CTL_PATH)),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           return param.index == 0 ? std::string("Daemon")
                                                   : std::string("Operatorctl");
                         });

}  // namespace
}  // namespace operator_auth::testing
