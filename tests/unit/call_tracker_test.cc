#include "daemon/server/call_tracker.h"

#include <gtest/gtest.h>

namespace operator_auth {
namespace {

// gRPC names a connection the listener handed over "fd:N" (grpc::AddInsecureChannelFromFd).
TEST(PeerFdTest, ReadsOnlyAWholeNonNegativeFdNumber) {
  EXPECT_EQ(PeerFd("fd:0"), 0);
  EXPECT_EQ(PeerFd("fd:12"), 12);
  EXPECT_EQ(PeerFd("fd:2147483647"), 2147483647);
  for (const char* peer : {"fd:", "fd:-1", "fd:+3", "fd: 3", "fd:3 ", "fd:12x", "fd:2147483648",
                           "fd:99999999999999999999", "unix:/run/user/1000/operator.sock",
                           "ipv4:127.0.0.1:5000", "", "FD:3"}) {
    EXPECT_EQ(PeerFd(peer), std::nullopt) << peer;
  }
}

}  // namespace
}  // namespace operator_auth
