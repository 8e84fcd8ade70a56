// Hostile neighbours against the real daemon: floods of idle connections under a low open-file
// limit, a hundred logins at once, and floods of the login's loopback callback port. Each test
// prints the figures it measured (and records them as test properties).
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/oauth/loopback_callback_server.h"
#include "tests/integration/login_fixture.h"

namespace operator_auth::testing {
namespace {

constexpr int kFloodConnections = 1000;
constexpr char kDaemonFileLimit[] = "--nofile=256:256";
constexpr char kKey[] = "sk-hostile-neighbours-0001";

void Report(const std::string& name, const std::string& value) {
  std::cout << "[ FIGURE   ] " << name << " = " << value << std::endl;
  ::testing::Test::RecordProperty(name, value);
}

// The test's own open-file limit, raised to its hard limit so that it can hold the flood.
void RaiseOwnFileLimit(rlim_t needed) {
  rlimit files{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &files), 0);
  if (files.rlim_cur >= needed) return;
  files.rlim_cur = std::min(files.rlim_max, needed);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &files), 0);
  ASSERT_GE(files.rlim_cur, needed) << "the hard open-file limit is too low for this test";
}

int ConnectUnix(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Starts a connection without waiting for it: a flood outruns the listener's backlog, and a
// blocking connect would sit in SYN retries for seconds.
int StartLoopbackConnection(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 &&
      errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

// True when the other side closed `fd` (EOF, hang-up or reset); never blocks.
bool ClosedByPeer(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (poll(&p, 1, 0) != 1) return false;
  if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) return true;
  char byte;
  return recv(fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK) == 0;
}

// True when a non-blocking connect on `fd` has completed.
bool Established(int fd) {
  pollfd p{fd, POLLOUT, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) != 0 &&
         (p.revents & (POLLERR | POLLHUP)) == 0;
}

// utime + stime of `pid`, in clock ticks.
long CpuTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close_paren + 2));
  std::string field;
  long utime = 0, stime = 0;
  // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

size_t OpenFds(pid_t pid) {
  size_t count = 0;
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++count;
  }
  return count;
}

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// The lines of `text` that contain any of `needles`, for failure messages.
std::string LinesWith(const std::string& text, const std::vector<std::string>& needles) {
  std::istringstream lines(text);
  std::string line, out;
  while (std::getline(lines, line)) {
    for (const std::string& needle : needles) {
      if (line.find(needle) != std::string::npos) {
        out += line + "\n";
        break;
      }
    }
  }
  return out;
}

// The daemon under RLIMIT_NOFILE 256 (prlimit execs it in place, so pid() is the daemon's).
class FileLimitedDaemonTest : public DaemonTest {
 protected:
  void SetUp() override {
    daemon_.SetLauncher({"/usr/bin/prlimit", kDaemonFileLimit, "--"});
    daemon_.SetEnv("OPENAI_API_KEY", kKey);
    daemon_.SetLogLevel("debug");
    Configure();
    DaemonTest::SetUp();
    RaiseOwnFileLimit(kFloodConnections + 256);
  }
  virtual void Configure() {}

  ~FileLimitedDaemonTest() override {
    for (int fd : flood_) close(fd);
  }

  // Opens `count` connections that never send a byte.
  void Flood(int count) {
    for (int i = 0; i < count; ++i) {
      const int fd = ConnectUnix(daemon_.socket_path());
      ASSERT_GE(fd, 0) << "connect " << i << ": " << std::strerror(errno);
      flood_.push_back(fd);
    }
  }

  size_t FloodClosedByDaemon() const {
    size_t closed = 0;
    for (int fd : flood_) closed += ClosedByPeer(fd) ? 1 : 0;
    return closed;
  }

  // A fresh client's GetApiKey: how long it took, and whether it was answered with the key.
  absl::Duration FreshGetApiKey(bool& answered) {
    const absl::Time start = absl::Now();
    absl::StatusOr<ApiKey> key = NewClient()->GetApiKey("openai");
    const absl::Duration took = absl::Now() - start;
    answered = key.ok() && key->key == kKey;
    EXPECT_TRUE(key.ok()) << key.status() << "\n" << daemon_.Log();
    return took;
  }

  std::vector<int> flood_;
};

TEST_F(FileLimitedDaemonTest, AThousandIdleConnectionsUnderA256FileLimitDoNotLockOutAFreshClient) {
  const pid_t pid = daemon_.pid();
  // A watcher connected before the flood: the oldest connection, but never idle, so the cap
  // must shed flood connections instead of it.
  auto watch_channel =
      grpc::CreateChannel("unix:" + daemon_.socket_path(), grpc::InsecureChannelCredentials());
  auto watch_stub = v1::AuthService::NewStub(watch_channel);
  grpc::ClientContext watch_context;
  watch_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::WatchApiKeyRequest watch_request;
  watch_request.set_provider("openai");
  auto watch = watch_stub->WatchApiKey(&watch_context, watch_request);
  v1::ApiKeyUpdate update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.key(), kKey);

  const absl::Time flood_start = absl::Now();
  Flood(kFloodConnections);
  absl::SleepFor(absl::Seconds(1));  // let the daemon work through its backlog
  Report("flood_connect_ms", absl::StrCat(Ms(absl::Now() - flood_start)));

  const long ticks_before = CpuTicks(pid);
  absl::SleepFor(absl::Seconds(3));
  const long ticks_after = CpuTicks(pid);
  const long tick_hz = sysconf(_SC_CLK_TCK);
  const double cpu_ms = 1000.0 * static_cast<double>(ticks_after - ticks_before) / tick_hz;
  Report("daemon_cpu_ms_over_3s_holding_the_flood", absl::StrCat(cpu_ms));

  bool answered = false;
  const absl::Duration took = FreshGetApiKey(answered);
  Report("fresh_client_get_api_key_ms", absl::StrCat(Ms(took)));
  EXPECT_TRUE(answered);
  EXPECT_LT(took, absl::Seconds(1));

  const size_t shed = FloodClosedByDaemon();
  const size_t fds = OpenFds(pid);
  const std::string log = daemon_.Log();
  const size_t accept_error_lines = CountOf(log, "accept on ");
  const size_t refusal_lines = CountOf(log, "closed a new connection");
  Report("flood_connections_shed_by_daemon", absl::StrCat(shed, " of ", kFloodConnections));
  Report("daemon_open_fds", absl::StrCat(fds, " (limit 256)"));
  Report("accept_error_log_lines", absl::StrCat(accept_error_lines));
  Report("refused_connection_log_lines", absl::StrCat(refusal_lines));

  // The watcher's stream survived the flood: it still gets updates.
  ASSERT_TRUE(NewClient()->SetRuntimeApiKey("openai", "sk-hostile-neighbours-0002").ok());
  // The table never chose the watcher (it logs every shed at debug level)...
  EXPECT_THAT(log, ::testing::Not(::testing::HasSubstr("(watching,")));
  // ...and its stream still gets updates.
  ASSERT_TRUE(watch->Read(&update)) << "the watcher's stream ended; the daemon's warnings:\n"
                                    << LinesWith(daemon_.Log(), {"warn", "error", "watching"});
  EXPECT_EQ(update.key(), "sk-hostile-neighbours-0002");
  watch_context.TryCancel();
  watch->Finish();

  EXPECT_EQ(kill(pid, 0), 0) << "the daemon died";
  EXPECT_THAT(log, ::testing::HasSubstr("at most 96 connections"));
  // The cap (96 under this limit) holds: all but the newest ~96 were shed.
  EXPECT_GE(shed, static_cast<size_t>(kFloodConnections - 96 - 1));
  EXPECT_LT(cpu_ms, 300.0) << "the daemon spins while holding idle connections";
  EXPECT_LE(accept_error_lines + refusal_lines, 40u);
}

class EmfileDaemonTest : public FileLimitedDaemonTest {
 protected:
  // A cap above what the descriptors allow: the daemon runs into EMFILE itself.
  void Configure() override { daemon_.AddArgs({"--max-connections", "2000"}); }
};

TEST_F(EmfileDaemonTest, AtEmfileTheAcceptLoopNeitherSpinsNorFloodsTheLog) {
  const pid_t pid = daemon_.pid();
  Flood(kFloodConnections);
  absl::SleepFor(absl::Seconds(1));
  const long tick_hz = sysconf(_SC_CLK_TCK);

  // Keep knocking while at the limit: 50 new connections a second for 3 s.
  const long ticks_before = CpuTicks(pid);
  for (int i = 0; i < 150; ++i) {
    const int fd = ConnectUnix(daemon_.socket_path());
    if (fd >= 0) flood_.push_back(fd);
    absl::SleepFor(absl::Milliseconds(20));
  }
  const long ticks_after = CpuTicks(pid);
  const double cpu_ms = 1000.0 * static_cast<double>(ticks_after - ticks_before) / tick_hz;
  Report("daemon_cpu_ms_over_3s_at_emfile", absl::StrCat(cpu_ms));

  const std::string log = daemon_.Log();
  const size_t accept_error_lines = CountOf(log, "accept on ");
  const size_t emfile_lines = CountOf(log, "Too many open files");
  Report("accept_error_log_lines", absl::StrCat(accept_error_lines));
  Report("emfile_log_lines", absl::StrCat(emfile_lines));
  Report("daemon_open_fds", absl::StrCat(OpenFds(pid), " (limit 256)"));
  Report("flood_connections_closed_by_daemon",
         absl::StrCat(FloodClosedByDaemon(), " of ", flood_.size()));

  bool answered = false;
  const absl::Duration took = FreshGetApiKey(answered);
  Report("fresh_client_get_api_key_ms", absl::StrCat(Ms(took)));
  EXPECT_TRUE(answered);

  EXPECT_EQ(kill(pid, 0), 0) << "the daemon died";
  EXPECT_GE(emfile_lines, 1u) << "the test did not drive the daemon into EMFILE:\n" << log;
  EXPECT_LT(cpu_ms, 1000.0) << "the accept loop spins at EMFILE";
  // At most 5 lines a second, over the ~5 s of this test, plus slack.
  EXPECT_LE(accept_error_lines, 40u);
}

// ---- logins ----

class HostileLoginTest : public LoginTest {};

TEST_F(HostileLoginTest, AHundredConcurrentLoginsAreBoundedAndALaterLoginWorks) {
  constexpr int kLogins = 100;
  const std::vector<std::string> providers = {"openai-codex", "anthropic-claude-code",
                                              "github-copilot", "google-gemini-cli",
                                              "google-antigravity"};
  std::atomic<int> started{0}, already_exists{0}, exhausted{0}, other{0};
  std::atomic<int> attempted{0};
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kLogins; ++i) {
    threads.emplace_back([&, i] {
      auto channel =
          grpc::CreateChannel("unix:" + daemon_.socket_path(), grpc::InsecureChannelCredentials());
      auto stub = v1::AuthService::NewStub(channel);
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      auto stream = stub->Login(&context);
      v1::LoginRequest request;
      request.mutable_start()->set_provider(providers[i % providers.size()]);
      stream->Write(request);
      v1::LoginEvent event;
      bool running = false;
      while (stream->Read(&event)) {
        if (event.has_auth_url() || event.has_device_code() || event.has_prompt()) {
          running = true;
          break;
        }
      }
      ++attempted;
      if (running) {
        ++started;
        // Hold the login until every client has tried, then cancel it.
        const absl::Time until = absl::Now() + absl::Seconds(20);
        while (attempted.load() < kLogins && absl::Now() < until) {
          absl::SleepFor(absl::Milliseconds(10));
        }
        v1::LoginRequest cancel;
        cancel.mutable_cancel();
        stream->Write(cancel);
        while (stream->Read(&event)) {
        }
        stream->Finish();
        return;
      }
      const grpc::Status status = stream->Finish();
      if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
        ++already_exists;
      } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        ++exhausted;
      } else {
        ++other;
        ADD_FAILURE() << "unexpected: " << status.error_code() << " " << status.error_message();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  Report("logins_attempted", absl::StrCat(kLogins));
  Report("logins_started", absl::StrCat(started.load()));
  Report("logins_already_exists", absl::StrCat(already_exists.load()));
  Report("logins_resource_exhausted", absl::StrCat(exhausted.load()));
  Report("logins_other_status", absl::StrCat(other.load()));
  Report("hundred_logins_wall_ms", absl::StrCat(Ms(absl::Now() - start)));

  EXPECT_GE(started.load(), 1);
  EXPECT_LE(started.load(), 4) << "the global cap";
  EXPECT_EQ(started + already_exists + exhausted, kLogins);
  EXPECT_GE(already_exists.load(), 1);
  EXPECT_GE(exhausted.load(), 1) << "five providers, four places";
  EXPECT_TRUE(daemon_.running());

  // A normal login afterwards goes through.
  grpc::ClientContext context;
  auto stream = StartLogin(context, "openai-codex");
  v1::LoginEvent event;
  ASSERT_TRUE(stream->Read(&event));
  ASSERT_TRUE(event.has_auth_url()) << event.DebugString();
  FollowRedirect(Authorize(event.auth_url().url()));
  bool complete = false;
  while (stream->Read(&event)) complete = complete || event.has_complete();
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(complete);
}

// The login's loopback port under a flood: a few hundred connections, some sending half a
// request and then nothing.
class CallbackFloodTest : public LoginTest {
 protected:
  ~CallbackFloodTest() override {
    for (int fd : flood_) close(fd);
  }

  std::string StartCodexLogin(grpc::ClientContext& context, std::unique_ptr<Stream>& stream) {
    stream = StartLogin(context, "openai-codex");
    v1::LoginEvent event;
    EXPECT_TRUE(stream->Read(&event));
    EXPECT_TRUE(event.has_auth_url()) << event.DebugString();
    return event.auth_url().url();
  }

  void FloodCallbackPort() {
    RaiseOwnFileLimit(1024);
    for (int i = 0; i < kFlood; ++i) {
      const int fd = StartLoopbackConnection(callback_port_);
      if (fd < 0) continue;
      ++connected_;
      flood_.push_back(fd);
    }
    absl::SleepFor(absl::Milliseconds(100));
    // Every other one sends half a request and then nothing (slow-loris).
    const std::string half = "GET /auth/callback?code=slow&state=";
    for (size_t i = 0; i < flood_.size(); i += 2) {
      send(flood_[i], half.data(), half.size(), MSG_NOSIGNAL);
    }
    absl::SleepFor(absl::Milliseconds(300));
    // Connections still in the kernel's SYN retries (the backlog overflowed) are neither.
    size_t closed = 0, held_open = 0;
    for (int fd : flood_) {
      if (ClosedByPeer(fd)) {
        ++closed;
      } else if (Established(fd)) {
        ++held_open;
      }
    }
    Report("callback_flood_started", absl::StrCat(connected_, " of ", kFlood));
    Report("callback_flood_closed_by_server", absl::StrCat(closed));
    Report("callback_flood_held_open_by_server", absl::StrCat(held_open));
    EXPECT_GE(closed, 1u) << "no flood connection was refused";
    EXPECT_LE(held_open, LoopbackCallbackServer::kMaxConnections) << "the cap did not hold";
  }

  // Waits until every flood connection is closed or refused (a connect still retrying its SYN
  // learns within a second or so that the port is gone); how many were.
  size_t WaitForFloodClosed(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    size_t closed = 0;
    do {
      closed = 0;
      for (int fd : flood_) closed += ClosedByPeer(fd) ? 1 : 0;
      if (closed == flood_.size()) break;
      absl::SleepFor(absl::Milliseconds(50));
    } while (absl::Now() < deadline);
    return closed;
  }

  static constexpr int kFlood = 300;
  int connected_ = 0;
  std::vector<int> flood_;
};

TEST_F(CallbackFloodTest, TheBrowserStillCompletesTheLoginThroughAFlood) {
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream;
  const std::string url = StartCodexLogin(context, stream);
  ASSERT_FALSE(url.empty());
  FloodCallbackPort();

  // The browser retries as a browser would (the user reloads); slow clients lose their places
  // at the 2 s request deadline.
  const std::string location = Authorize(url);
  auto [origin, rest] = SplitUrl(location);
  origin.replace(origin.find("localhost"), 9, "127.0.0.1");
  const absl::Time start = absl::Now();
  int attempts = 0;
  bool delivered = false;
  while (!delivered && absl::Now() - start < absl::Seconds(10)) {
    ++attempts;
    httplib::Client browser(origin);
    browser.set_connection_timeout(1);
    browser.set_read_timeout(1);
    auto reply = browser.Get(rest);
    delivered = reply && reply->status == 200;
    if (!delivered) absl::SleepFor(absl::Milliseconds(100));
  }
  Report("browser_callback_attempts", absl::StrCat(attempts));
  Report("browser_callback_delivered_after_ms", absl::StrCat(Ms(absl::Now() - start)));
  ASSERT_TRUE(delivered);

  v1::LoginEvent event;
  bool complete = false;
  while (stream->Read(&event)) complete = complete || event.has_complete();
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(complete);
  EXPECT_TRUE(PortIsFree(callback_port_));
  EXPECT_TRUE(daemon_.running());
}

TEST_F(CallbackFloodTest, CancelThroughAFloodIsPromptAndFreesThePort) {
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream;
  ASSERT_FALSE(StartCodexLogin(context, stream).empty());
  FloodCallbackPort();

  const absl::Time start = absl::Now();
  v1::LoginRequest cancel;
  cancel.mutable_cancel();
  ASSERT_TRUE(stream->Write(cancel));
  v1::LoginEvent event;
  while (stream->Read(&event)) {
  }
  const grpc::Status status = stream->Finish();
  const absl::Duration took = absl::Now() - start;
  Report("cancel_through_flood_ms", absl::StrCat(Ms(took)));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();
  EXPECT_LT(took, absl::Seconds(1));
  EXPECT_TRUE(PortIsFree(callback_port_));
  const size_t closed = WaitForFloodClosed(absl::Seconds(5));
  Report("callback_flood_closed_after_cancel", absl::StrCat(closed, " of ", flood_.size()));
  EXPECT_EQ(closed, flood_.size()) << "every flood connection is closed once the login ends";
  EXPECT_TRUE(daemon_.running());
}

}  // namespace
}  // namespace operator_auth::testing
