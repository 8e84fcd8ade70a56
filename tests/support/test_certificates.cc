#include "tests/support/test_certificates.h"

#include <sys/stat.h>

#include <initializer_list>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tests/support/child_process.h"

namespace operator_auth::testing {
namespace {

constexpr char kOpenssl[] = "/usr/bin/openssl";

// `openssl req -x509` with a new P-256 key for subject CN=`common_name`, plus `extra` options
// (-CA/-CAkey, -addext). Both files end up 0600, whatever openssl and the umask made them.
absl::StatusOr<CertificateFiles> Req(const std::string& directory, const std::string& name,
                                     const std::string& common_name,
                                     const std::vector<std::string>& extra) {
  CertificateFiles files;
  files.cert_file = absl::StrCat(directory, "/", name, ".pem");
  files.key_file = absl::StrCat(directory, "/", name, ".key");
  std::vector<std::string> argv = {
      kOpenssl, "req",     "-x509", "-nodes",   "-days",
      "1",      "-newkey", "ec",    "-pkeyopt", "ec_paramgen_curve:prime256v1"};
  const std::string subject = "/CN=" + common_name;
  argv.insert(argv.end(), {"-subj", subject, "-keyout", files.key_file, "-out", files.cert_file});
  argv.insert(argv.end(), extra.begin(), extra.end());
  ProcessOptions options;
  options.timeout = absl::Seconds(30);
  const ProcessResult made = RunProcess(argv, options);
  if (made.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("openssl req for ", name, " failed (exit ", made.exit_code, "): ", made.err));
  }
  for (const std::string* path : {&files.key_file, &files.cert_file}) {
    if (chmod(path->c_str(), 0600) != 0) {
      return absl::InternalError(absl::StrCat("chmod 0600 ", *path, " failed"));
    }
  }
  return files;
}

}  // namespace

absl::StatusOr<CertificateFiles> MakeTestCa(const std::string& directory, const std::string& name) {
  return Req(directory, name, name,
             {"-addext", "basicConstraints=critical,CA:TRUE", "-addext",
              "keyUsage=critical,keyCertSign,cRLSign"});
}

absl::StatusOr<CertificateFiles> MakeSignedCertificate(const CertificateFiles& ca,
                                                       const std::string& directory,
                                                       const std::string& name,
                                                       CertificateUse use) {
  std::vector<std::string> extra = {"-CA",     ca.cert_file,
                                    "-CAkey",  ca.key_file,
                                    "-addext", "basicConstraints=critical,CA:FALSE",
                                    "-addext", "keyUsage=critical,digitalSignature"};
  std::string common_name = name;
  if (use == CertificateUse::kServer) {
    common_name = "127.0.0.1";
    extra.push_back("-addext");
    extra.push_back("extendedKeyUsage=serverAuth,clientAuth");
    extra.push_back("-addext");
    extra.push_back("subjectAltName=IP:127.0.0.1");
  } else {
    extra.push_back("-addext");
    extra.push_back("extendedKeyUsage=clientAuth");
  }
  return Req(directory, name, common_name, extra);
}

}  // namespace operator_auth::testing
