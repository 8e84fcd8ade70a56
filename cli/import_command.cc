#include "cli/import_command.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli/absolute_path.h"
#include "cli/exit_status.h"
#include "cli/output.h"
#include "common/vendor_source.h"

namespace operator_auth::cli {
namespace {

// Import may wait for the vendor's own lock while its CLI refreshes (up to 10 s in the daemon).
constexpr std::chrono::seconds kImportDeadline{20};

const char* KindName(v1::StoredCredentialType type) {
  return type == v1::STORED_CREDENTIAL_TYPE_API_KEY ? "API key" : "OAuth login";
}

}  // namespace

int ImportLogins(const GlobalOptions& options, const ImportArguments& arguments) {
  absl::StatusOr<VendorSource> source = ParseVendorSource(arguments.source);
  if (!source.ok()) return ReportUsageError(std::string(source.status().message()));
  const std::string path =
      AbsolutePath(arguments.from.empty() ? DefaultVendorCredentialPath(*source) : arguments.from);
  AuthClientOptions client_options = ClientOptionsFor(options);
  client_options.deadline = kImportDeadline;
  AuthClient client(client_options);
  absl::StatusOr<v1::ImportLoginsResponse> response =
      client.ImportLogins(arguments.source, path, arguments.keep_in_sync);
  if (!response.ok()) {
    int code = ReportFailure(response.status(), client.socket_path());
    return absl::IsNotFound(response.status()) ? kExitNotConfigured : code;
  }
  if (options.json) {
    nlohmann::ordered_json logins = nlohmann::ordered_json::array();
    for (const v1::ImportedLogin& login : response->logins()) {
      logins.push_back(
          {{"provider", login.provider()},
           {"type", login.type() == v1::STORED_CREDENTIAL_TYPE_API_KEY ? "api_key" : "oauth"},
           {"expires_unix_ms", login.expires_unix_ms()},
           {"replaced", login.replaced()}});
    }
    PrintJson({{"source", arguments.source},
               {"path", response->path()},
               {"linked", response->linked()},
               {"logins", std::move(logins)}},
              std::cout);
    return kExitOk;
  }
  bool any_oauth = false;
  for (const v1::ImportedLogin& login : response->logins()) {
    any_oauth |= login.type() == v1::STORED_CREDENTIAL_TYPE_OAUTH;
    std::cout << "Imported the " << login.provider() << " " << KindName(login.type());
    if (login.expires_unix_ms() != 0) {
      std::cout << " (valid until " << FormatUnixMillisUtc(login.expires_unix_ms()) << ")";
    }
    std::cout << (login.replaced() ? ", replacing the one stored before" : "") << ".\n";
  }
  if (response->linked()) {
    std::cout << "Keeping " << response->path() << " in sync: operator-authd now refreshes "
              << "these logins and writes every refresh back into it.\n";
  } else if (any_oauth) {
    // The same refresh token now lives in two places, and each refresh spends it.
    std::cerr << "operatorctl: warning: " << arguments.source << " still holds the same login; "
              << "the first refresh by either side signs the other out. Use --keep-in-sync to "
              << "let the daemon refresh for both.\n";
  }
  return kExitOk;
}

int UnlinkVendor(const GlobalOptions& options, const std::string& source) {
  if (absl::Status valid = ParseVendorSource(source).status(); !valid.ok()) {
    return ReportUsageError(std::string(valid.message()));
  }
  AuthClient client(ClientOptionsFor(options));
  absl::StatusOr<v1::UnlinkVendorResponse> response = client.UnlinkVendor(source);
  if (!response.ok()) return ReportFailure(response.status(), client.socket_path());
  std::cout << (response->removed() ? "No longer keeping " : "Was not keeping ") << source
            << "'s credential file in sync.\n";
  return kExitOk;
}

}  // namespace operator_auth::cli
