// A real etcd cluster for the fleet tests: N members of Debian's etcd-server on 127.0.0.1, each a
// child process with its own data directory under a TempDir, on ports the kernel picked. Members
// can be killed (SIGKILL), stopped (SIGSTOP) and started again with their data, to take a member
// or the quorum away. Destroying the cluster kills every member. Not thread-safe.
//
// With client_tls the members serve clients on https:// only and ask each for a certificate
// (etcd's --cert-file, --key-file, --trusted-ca-file, --client-cert-auth); peers stay on http.
// The CA, the members' certificate (subjectAltName IP:127.0.0.1) and a client certificate are
// made with the openssl command-line tool (test_certificates.h) into a 0700 directory of the
// TempDir, every file 0600; the fixture's own etcdctl calls pass --cacert/--cert/--key.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certificates.h"

namespace operator_auth::testing {

struct EtcdClusterOptions {
  int members = 3;
  absl::Duration timeout = absl::Seconds(30);  // until the cluster answers a linearizable read
  bool client_tls = false;                     // https:// client URLs with client certificates
};

class EtcdCluster {
 public:
  // Starts `members` members and waits until the cluster has a leader and answers a
  // linearizable read (at most `timeout`). Check ok() before use.
  explicit EtcdCluster(int members = 3, absl::Duration timeout = absl::Seconds(30));
  explicit EtcdCluster(const EtcdClusterOptions& options);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  const absl::Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

  // "http://127.0.0.1:PORT" (client_tls: "https://") of every member, in member order.
  std::vector<std::string> client_urls() const;
  std::string client_url(int member) const;
  const std::string& data_dir() const { return dir_.path(); }
  // With client_tls: the CA that signed the members' and the client's certificates, and the
  // client's certificate and key (PEM, 0600). Empty without.
  const std::string& ca_file() const { return ca_.cert_file; }
  const std::string& client_cert_file() const { return client_.cert_file; }
  const std::string& client_key_file() const { return client_.key_file; }
  int size() const { return static_cast<int>(members_.size()); }

  pid_t pid(int member) const;
  void Kill(int member);  // SIGKILL and reap; its data stays
  // Starts a killed member again on the same ports and data, and waits (20 s at most) until it
  // answers a serializable read.
  void Restart(int member);
  void Stop(int member);      // SIGSTOP
  void Continue(int member);  // SIGCONT

  // The member that leads now (asked of each running member with etcdctl), or -1.
  int Leader() const;
  // etcdctl's stderr/stdout of the last failed start, and each member's log file, for failures.
  std::string Logs() const;

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    pid_t pid = -1;
  };
  void Start(int member, bool existing);
  // Makes the CA and the certificates into dir_/tls; false (with status_ set) on failure.
  bool MakeCertificates();

  TempDir dir_;
  EtcdClusterOptions options_;
  CertificateFiles ca_;
  CertificateFiles server_;
  CertificateFiles client_;
  // --cacert/--cert/--key for etcdctl with client_tls, else empty.
  std::vector<std::string> etcdctl_tls_;
  std::vector<Member> members_;
  std::string initial_cluster_;
  absl::Status status_;
};

}  // namespace operator_auth::testing
