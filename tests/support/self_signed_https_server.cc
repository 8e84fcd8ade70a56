#include "tests/support/self_signed_https_server.h"

#include <stdexcept>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace operator_auth::testing {

SelfSignedHttpsServer::SelfSignedHttpsServer() {
  const std::string key = dir_.Sub("key.pem");
  const std::string cert = dir_.Sub("cert.pem");
  ProcessResult made = RunProcess({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                                   "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                                   "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert});
  if (made.exit_code != 0) throw std::runtime_error("openssl req failed: " + made.err);
  ProcessOptions options;
  options.timeout = absl::Minutes(10);
  server_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:0", "-www",
                               "-cert", cert, "-key", key},
      options);
  // OpenSSL 3 prints "ACCEPT 127.0.0.1:PORT" once it listens.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    const std::string out = server_->PeekStdout();
    const size_t accept = out.find("ACCEPT 127.0.0.1:");
    const size_t end = out.find('\n', accept);
    if (accept != std::string::npos && end != std::string::npos) {
      const size_t start = accept + std::string("ACCEPT 127.0.0.1:").size();
      if (absl::SimpleAtoi(out.substr(start, end - start), &port_)) return;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  throw std::runtime_error("openssl s_server did not start: " + server_->PeekStderr());
}

SelfSignedHttpsServer::~SelfSignedHttpsServer() { server_.reset(); }

std::string SelfSignedHttpsServer::Url(const std::string& path) const {
  return absl::StrCat("https://127.0.0.1:", port_, path);
}

}  // namespace operator_auth::testing
