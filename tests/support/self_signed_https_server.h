// An HTTPS server on 127.0.0.1 with a self-signed certificate made at test time: `openssl req`
// writes a fresh key and certificate (CN and SAN 127.0.0.1) into a temp dir and `openssl s_server
// -www` serves them on a port the kernel picks. Proves the daemon's HTTP client refuses a
// certificate no CA vouches for. Not thread-safe; one per test.
#pragma once

#include <memory>
#include <string>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::testing {

class SelfSignedHttpsServer {
 public:
  // Starts the server and waits (bounded) until it has printed its port; throws on failure.
  SelfSignedHttpsServer();
  ~SelfSignedHttpsServer();  // kills the server

  int port() const { return port_; }
  // "https://127.0.0.1:PORT" + path
  std::string Url(const std::string& path) const;

 private:
  TempDir dir_;
  std::unique_ptr<ChildProcess> server_;
  int port_ = 0;
};

}  // namespace operator_auth::testing
