// Certificates for TLS tests, made with the openssl command-line tool (OpenSSL 3's `req -x509`,
// with -CA/-CAkey for the ones a CA signs): a fresh EC P-256 key without a passphrase and a
// certificate valid for a day, both written as PEM files of mode 0600 into a directory the caller
// owns (keep it 0700). Private keys only ever go to files, never to argv. Thread-compatible.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace operator_auth::testing {

struct CertificateFiles {
  std::string cert_file;  // DIRECTORY/NAME.pem
  std::string key_file;   // DIRECTORY/NAME.key (PKCS#8)
};

enum class CertificateUse {
  // CA:FALSE; serverAuth and clientAuth (etcd 3.4's gRPC gateway dials its own client URL with
  // the server certificate, so a member with --client-cert-auth needs both); subjectAltName
  // IP:127.0.0.1, which gRPC checks the address against.
  kServer,
  kClient,  // CA:FALSE; clientAuth
};

// A CA: a key and a self-signed certificate (CN=NAME, CA:TRUE, keyCertSign) that signs nothing
// until MakeSignedCertificate() uses it. INTERNAL, with openssl's stderr, when openssl fails.
absl::StatusOr<CertificateFiles> MakeTestCa(const std::string& directory, const std::string& name);

// A key and a certificate for `use`, signed by `ca`.
absl::StatusOr<CertificateFiles> MakeSignedCertificate(const CertificateFiles& ca,
                                                       const std::string& directory,
                                                       const std::string& name, CertificateUse use);

}  // namespace operator_auth::testing
