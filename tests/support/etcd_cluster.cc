#include "tests/support/etcd_cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "tests/support/child_process.h"

namespace operator_auth::testing {
namespace {

constexpr char kEtcd[] = "/usr/bin/etcd";
constexpr char kEtcdctl[] = "/usr/bin/etcdctl";

// A port on 127.0.0.1 the kernel had free a moment ago.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

// `tls`: --cacert/--cert/--key for a cluster with client_tls, else empty.
ProcessResult Etcdctl(const std::vector<std::string>& tls,
                      const std::vector<std::string>& arguments) {
  std::vector<std::string> argv = {kEtcdctl, "--dial-timeout=1s", "--command-timeout=2s"};
  argv.insert(argv.end(), tls.begin(), tls.end());
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  ProcessOptions options;
  options.env["ETCDCTL_API"] = "3";
  options.timeout = absl::Seconds(10);
  return RunProcess(argv, options);
}

}  // namespace

EtcdCluster::EtcdCluster(int members, absl::Duration timeout)
    : EtcdCluster(EtcdClusterOptions{members, timeout, /*client_tls=*/false}) {}

EtcdCluster::EtcdCluster(const EtcdClusterOptions& options) : options_(options) {
  const int members = options.members;
  const absl::Duration timeout = options.timeout;
  if (options.client_tls && !MakeCertificates()) return;
  std::vector<std::string> peers;
  for (int i = 0; i < members; ++i) {
    Member member;
    member.name = absl::StrCat("m", i);
    member.client_port = FreePort();
    member.peer_port = FreePort();
    peers.push_back(absl::StrCat(member.name, "=http://127.0.0.1:", member.peer_port));
    members_.push_back(member);
  }
  initial_cluster_ = absl::StrJoin(peers, ",");
  for (int i = 0; i < members; ++i) Start(i, /*existing=*/false);

  const absl::Time deadline = absl::Now() + timeout;
  ProcessResult last;
  while (absl::Now() < deadline) {
    // A linearizable read: answered only once the cluster has a leader.
    last = Etcdctl(etcdctl_tls_,
                   {"--endpoints=" + absl::StrJoin(client_urls(), ","), "get", "readiness-probe"});
    if (last.exit_code == 0) return;
    absl::SleepFor(absl::Milliseconds(100));
  }
  status_ = absl::DeadlineExceededError(
      absl::StrCat("etcd cluster of ", members, " not ready within ", absl::FormatDuration(timeout),
                   "; etcdctl: ", last.err, "\n", Logs()));
}

bool EtcdCluster::MakeCertificates() {
  const std::string tls = dir_.Sub("tls");
  if (mkdir(tls.c_str(), 0700) != 0 || chmod(tls.c_str(), 0700) != 0) {
    status_ = absl::InternalError(absl::StrCat("cannot make ", tls, ": errno ", errno));
    return false;
  }
  absl::StatusOr<CertificateFiles> ca = MakeTestCa(tls, "ca");
  if (!ca.ok()) {
    status_ = ca.status();
    return false;
  }
  absl::StatusOr<CertificateFiles> server =
      MakeSignedCertificate(*ca, tls, "server", CertificateUse::kServer);
  if (!server.ok()) {
    status_ = server.status();
    return false;
  }
  absl::StatusOr<CertificateFiles> client =
      MakeSignedCertificate(*ca, tls, "client", CertificateUse::kClient);
  if (!client.ok()) {
    status_ = client.status();
    return false;
  }
  ca_ = *std::move(ca);
  server_ = *std::move(server);
  client_ = *std::move(client);
  etcdctl_tls_ = {"--cacert=" + ca_.cert_file, "--cert=" + client_.cert_file,
                  "--key=" + client_.key_file};
  return true;
}

EtcdCluster::~EtcdCluster() {
  for (int i = 0; i < size(); ++i) {
    Continue(i);
    Kill(i);
  }
}

void EtcdCluster::Start(int index, bool existing) {
  Member& member = members_[static_cast<size_t>(index)];
  const std::string client = client_url(index);
  const std::string peer = absl::StrCat("http://127.0.0.1:", member.peer_port);
  std::vector<std::string> argv = {
      kEtcd,
      "--name=" + member.name,
      "--data-dir=" + dir_.Sub(member.name),
      "--listen-client-urls=" + client,
      "--advertise-client-urls=" + client,
      "--listen-peer-urls=" + peer,
      "--initial-advertise-peer-urls=" + peer,
      "--initial-cluster=" + initial_cluster_,
      std::string("--initial-cluster-state=") + (existing ? "existing" : "new"),
      "--initial-cluster-token=authd-test",
      // Fast elections, so a killed leader is replaced within a second.
      "--heartbeat-interval=50",
      "--election-timeout=500",
      "--logger=zap",
      "--log-level=warn",
  };
  if (options_.client_tls) {
    // Clients must show a certificate the CA signed; the members' own certificate serves.
    argv.push_back("--cert-file=" + server_.cert_file);
    argv.push_back("--key-file=" + server_.key_file);
    argv.push_back("--trusted-ca-file=" + ca_.cert_file);
    argv.push_back("--client-cert-auth");
  }
  const std::string log = dir_.Sub(member.name + ".log");
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execv(kEtcd, args.data());
    _exit(127);
  }
  member.pid = pid;
}

std::vector<std::string> EtcdCluster::client_urls() const {
  std::vector<std::string> urls;
  for (int i = 0; i < size(); ++i) urls.push_back(client_url(i));
  return urls;
}

std::string EtcdCluster::client_url(int member) const {
  return absl::StrCat(options_.client_tls ? "https" : "http",
                      "://127.0.0.1:", members_[static_cast<size_t>(member)].client_port);
}

pid_t EtcdCluster::pid(int member) const { return members_[static_cast<size_t>(member)].pid; }

void EtcdCluster::Kill(int index) {
  Member& member = members_[static_cast<size_t>(index)];
  if (member.pid <= 0) return;
  kill(member.pid, SIGKILL);
  while (waitpid(member.pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  member.pid = -1;
}

void EtcdCluster::Restart(int index) {
  if (members_[static_cast<size_t>(index)].pid > 0) return;
  Start(index, /*existing=*/true);
  // Until it answers on its own (a serializable read needs no quorum). Bounded by a deadline, not
  // a count: one etcdctl call against a member that is not up yet can take its whole timeout
  // (3 s), so 200 tries could outlast the test's own 120 s.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    if (Etcdctl(etcdctl_tls_,
                {"--endpoints=" + client_url(index), "get", "--consistency=s", "restart-probe"})
            .exit_code == 0) {
      return;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

void EtcdCluster::Stop(int index) {
  if (pid(index) > 0) kill(pid(index), SIGSTOP);
}

void EtcdCluster::Continue(int index) {
  if (pid(index) > 0) kill(pid(index), SIGCONT);
}

int EtcdCluster::Leader() const {
  for (int i = 0; i < size(); ++i) {
    if (pid(i) <= 0) continue;
    ProcessResult status =
        Etcdctl(etcdctl_tls_, {"--endpoints=" + client_url(i), "endpoint", "status", "-w", "json"});
    if (status.exit_code != 0) continue;
    nlohmann::json parsed = nlohmann::json::parse(status.out, nullptr, false);
    if (!parsed.is_array() || parsed.empty()) continue;
    const nlohmann::json& s = parsed[0]["Status"];
    if (s.is_object() && s["header"]["member_id"] == s["leader"]) return i;
  }
  return -1;
}

std::string EtcdCluster::Logs() const {
  std::string out;
  for (const Member& member : members_) {
    const std::string log = dir_.Sub(member.name + ".log");
    if (PathExists(log)) absl::StrAppend(&out, "--- ", member.name, " ---\n", ReadFileOrDie(log));
  }
  return out;
}

}  // namespace operator_auth::testing
