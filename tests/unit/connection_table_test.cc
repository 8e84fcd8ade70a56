#include "daemon/core/connection_table.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

namespace operator_auth {
namespace {

class FakeClock {
 public:
  ConnectionTable::Clock AsClock() {
    return [this] { return now_; };
  }
  void Advance() { now_ += absl::Seconds(1); }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
};

// One accepted connection: `server` is what the daemon would hand to gRPC, `client` the peer.
struct Connection {
  Connection() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    server = fds[0];
    client = fds[1];
  }
  ~Connection() {
    if (server >= 0) close(server);
    if (client >= 0) close(client);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // True when the client end sees the connection shut (EOF), i.e. the table shed it.
  bool ShedSeenByClient() const {
    pollfd p{client, POLLIN | POLLRDHUP, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP)) != 0;
  }

  int server = -1;
  int client = -1;
};

TEST(ConnectionTable, WhenFullShedsTheLongestIdleConnection) {
  FakeClock clock;
  ConnectionTable table(3, clock.AsClock());
  Connection a, b, c, d;
  for (Connection* conn : {&a, &b, &c}) {
    ASSERT_TRUE(table.Admit(conn->server).ok());
    clock.Advance();
  }
  // `a` is the oldest, but a finished call makes it the most recently active.
  { ConnectionTable::Call call = table.BeginCall(a.server, ConnectionTable::CallKind::kUnary); }
  clock.Advance();
  ASSERT_TRUE(table.Admit(d.server).ok());
  EXPECT_TRUE(b.ShedSeenByClient());
  EXPECT_FALSE(a.ShedSeenByClient());
  EXPECT_FALSE(c.ShedSeenByClient());
  EXPECT_FALSE(d.ShedSeenByClient());
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.shed_count(), 1u);
}

TEST(ConnectionTable, NeverShedsAConnectionWithACallInFlightWhileAnIdleOneExists) {
  FakeClock clock;
  ConnectionTable table(2, clock.AsClock());
  Connection busy, idle, fresh;
  ASSERT_TRUE(table.Admit(busy.server).ok());
  ConnectionTable::Call call = table.BeginCall(busy.server, ConnectionTable::CallKind::kUnary);
  clock.Advance();
  ASSERT_TRUE(table.Admit(idle.server).ok());
  clock.Advance();
  clock.Advance();
  ASSERT_TRUE(table.Admit(fresh.server).ok());
  EXPECT_FALSE(busy.ShedSeenByClient()) << "older, but a call is in flight";
  EXPECT_TRUE(idle.ShedSeenByClient());
}

// Out of descriptors (ShedOne) only an idle connection is given back: a watcher's stream stays.
TEST(ConnectionTable, AtEmfileOnlyAnIdleConnectionIsShed) {
  FakeClock clock;
  ConnectionTable table(8, clock.AsClock());
  Connection watcher, idle;
  ASSERT_TRUE(table.Admit(watcher.server).ok());
  ConnectionTable::Call stream =
      table.BeginCall(watcher.server, ConnectionTable::CallKind::kStream);
  clock.Advance();
  ASSERT_TRUE(table.Admit(idle.server).ok());
  EXPECT_TRUE(table.ShedOne());
  EXPECT_TRUE(idle.ShedSeenByClient());
  EXPECT_FALSE(table.ShedOne());  // only the watcher is left
  EXPECT_FALSE(watcher.ShedSeenByClient());
}

TEST(ConnectionTable, WithNothingIdleShedsTheLeastRecentlyActiveWatcher) {
  FakeClock clock;
  ConnectionTable table(3, clock.AsClock());
  Connection unary, old_watcher, new_watcher, fresh;
  std::vector<ConnectionTable::Call> calls;
  ASSERT_TRUE(table.Admit(unary.server).ok());
  calls.push_back(table.BeginCall(unary.server, ConnectionTable::CallKind::kUnary));
  clock.Advance();
  ASSERT_TRUE(table.Admit(old_watcher.server).ok());
  calls.push_back(table.BeginCall(old_watcher.server, ConnectionTable::CallKind::kStream));
  clock.Advance();
  ASSERT_TRUE(table.Admit(new_watcher.server).ok());
  calls.push_back(table.BeginCall(new_watcher.server, ConnectionTable::CallKind::kStream));
  clock.Advance();
  ASSERT_TRUE(table.Admit(fresh.server).ok());
  EXPECT_FALSE(unary.ShedSeenByClient());
  EXPECT_TRUE(old_watcher.ShedSeenByClient());
  EXPECT_FALSE(new_watcher.ShedSeenByClient());
}

TEST(ConnectionTable, RefusesANewConnectionWhenEveryOneHasAUnaryCallInFlight) {
  FakeClock clock;
  ConnectionTable table(2, clock.AsClock());
  Connection a, b, c;
  ASSERT_TRUE(table.Admit(a.server).ok());
  ASSERT_TRUE(table.Admit(b.server).ok());
  ConnectionTable::Call ca = table.BeginCall(a.server, ConnectionTable::CallKind::kUnary);
  ConnectionTable::Call cb = table.BeginCall(b.server, ConnectionTable::CallKind::kUnary);
  absl::Status s = table.Admit(c.server);
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_FALSE(a.ShedSeenByClient());
  EXPECT_FALSE(b.ShedSeenByClient());
  EXPECT_FALSE(table.ShedOne());
}

TEST(ConnectionTable, ALateCallEndDoesNotCountAgainstANewConnectionThatReusedTheNumber) {
  FakeClock clock;
  ConnectionTable table(2, clock.AsClock());
  Connection old_conn;
  ASSERT_TRUE(table.Admit(old_conn.server).ok());
  std::optional<ConnectionTable::Call> old_call =
      table.BeginCall(old_conn.server, ConnectionTable::CallKind::kUnary);
  // The server closes the old connection and the kernel hands its number to a new one.
  Connection reused;
  const int number = old_conn.server;
  ASSERT_EQ(dup2(reused.server, number), number);
  close(reused.server);
  reused.server = number;
  old_conn.server = -1;
  ASSERT_TRUE(table.Admit(number).ok());
  ConnectionTable::Call new_call = table.BeginCall(number, ConnectionTable::CallKind::kUnary);
  old_call.reset();  // the old call's end arrives late

  clock.Advance();
  Connection idle, fresh;
  ASSERT_TRUE(table.Admit(idle.server).ok());
  clock.Advance();
  ASSERT_TRUE(table.Admit(fresh.server).ok());
  EXPECT_FALSE(reused.ShedSeenByClient()) << "its call is still in flight";
  EXPECT_TRUE(idle.ShedSeenByClient());
}

TEST(ConnectionTable, HungUpConnectionsMakeRoomWithoutShedding) {
  FakeClock clock;
  ConnectionTable table(2, clock.AsClock());
  Connection gone, alive, fresh;
  ASSERT_TRUE(table.Admit(gone.server).ok());
  clock.Advance();
  ASSERT_TRUE(table.Admit(alive.server).ok());
  close(gone.client);  // the client went away; the table still holds its dup
  gone.client = -1;
  ASSERT_TRUE(table.Admit(fresh.server).ok());
  EXPECT_EQ(table.shed_count(), 0u);
  EXPECT_FALSE(alive.ShedSeenByClient());
  EXPECT_EQ(table.size(), 2u);
}

TEST(ConnectionTable, ACallOnAnUnknownConnectionCountsNothing) {
  ConnectionTable table(1);
  Connection a, b;
  { ConnectionTable::Call call = table.BeginCall(a.server, ConnectionTable::CallKind::kUnary); }
  ASSERT_TRUE(table.Admit(a.server).ok());
  ASSERT_TRUE(table.Admit(b.server).ok()) << "`a` is idle and may be shed";
  EXPECT_TRUE(a.ShedSeenByClient());
}

TEST(ConnectionTable, EveryCallCarriesTheIdentityReadWhenItsConnectionWasAdmitted) {
  ConnectionTable table(4);
  Connection own, given;
  ASSERT_TRUE(table.Admit(own.server).ok());
  auto stand_in = std::make_shared<PeerIdentity>();
  stand_in->pid = 4242;
  stand_in->exe = "/opt/agent/bin/agent";
  ASSERT_TRUE(table.Admit(given.server, stand_in).ok());

  ConnectionTable::Call first = table.BeginCall(own.server, ConnectionTable::CallKind::kUnary);
  ConnectionTable::Call second = table.BeginCall(own.server, ConnectionTable::CallKind::kStream);
  ASSERT_NE(first.identity(), nullptr);
  EXPECT_EQ(first.identity()->pid, getpid());
  EXPECT_EQ(first.identity(), second.identity()) << "read once per connection, shared by calls";
  ConnectionTable::Call other = table.BeginCall(given.server, ConnectionTable::CallKind::kUnary);
  EXPECT_EQ(other.identity(), stand_in);
  ConnectionTable::Call moved(std::move(other));
  EXPECT_EQ(moved.identity(), stand_in);
  EXPECT_EQ(table.BeginCall(12345, ConnectionTable::CallKind::kUnary).identity(), nullptr);
}

TEST(ConnectionTable, AReusedNumberGetsTheNewConnectionsIdentity) {
  ConnectionTable table(4);
  Connection conn;
  auto old_peer = std::make_shared<PeerIdentity>();
  old_peer->pid = 1;
  auto new_peer = std::make_shared<PeerIdentity>();
  new_peer->pid = 2;
  ASSERT_TRUE(table.Admit(conn.server, old_peer).ok());
  ConnectionTable::Call late = table.BeginCall(conn.server, ConnectionTable::CallKind::kUnary);
  ASSERT_TRUE(table.Admit(conn.server, new_peer).ok());
  EXPECT_EQ(table.BeginCall(conn.server, ConnectionTable::CallKind::kUnary).identity(), new_peer);
  EXPECT_EQ(late.identity(), old_peer) << "a call keeps the identity it began with";
}

TEST(ConnectionTable, CapacityLeavesDescriptorsForEverythingElse) {
  EXPECT_EQ(ConnectionTable::CapacityFor(RLIM_INFINITY), 256u);
  EXPECT_EQ(ConnectionTable::CapacityFor(1024 * 1024), 256u);
  EXPECT_EQ(ConnectionTable::CapacityFor(1024), 256u);
  EXPECT_EQ(ConnectionTable::CapacityFor(256), 96u);
  EXPECT_EQ(ConnectionTable::CapacityFor(64), 16u);
  EXPECT_EQ(ConnectionTable::CapacityFor(0), 16u);
}

}  // namespace
}  // namespace operator_auth
