// Fuzzes the providers.json codec (CredentialDocument). Invariants:
//   - a parse error is one of the fixed messages and quotes none of the input's strings;
//   - a parsed document serializes to text that parses to the same credentials and serializes
//     to the same text again (round-trip stability);
//   - Put and Remove keep the document serializable, change only the entry they name, and a Put
//     reads back as written (an OAuth refresh keeps its new token and expiry).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "daemon/core/credential.h"
#include "daemon/core/credential_document.h"
#include "tests/fuzz/fuzz_invariant.h"

namespace operator_auth {
namespace {

// Entries the fuzzer's document gets Put and Remove on at most: enough to mix edits.
constexpr size_t kMaxEditedEntries = 4;
constexpr int64_t kRefreshedExpiresMs = 1893456000000;  // 2030-01-01

bool SameCredential(const Credential& a, const Credential& b) {
  return a.type == b.type && a.type_name == b.type_name && a.key == b.key && a.access == b.access &&
         a.refresh == b.refresh && a.expires_unix_ms == b.expires_unix_ms &&
         a.account_id == b.account_id && a.attributes == b.attributes && a.problem == b.problem;
}

bool SameCredentials(const std::map<std::string, Credential>& a,
                     const std::map<std::string, Credential>& b) {
  if (a.size() != b.size()) return false;
  for (auto ai = a.begin(), bi = b.begin(); ai != a.end(); ++ai, ++bi) {
    if (ai->first != bi->first || !SameCredential(ai->second, bi->second)) return false;
  }
  return true;
}

// Serializes `document`, parses the text back, and returns the re-parsed document's credentials
// after checking that they and the text are stable.
std::map<std::string, Credential> RoundTrip(const CredentialDocument& document) {
  const std::string text = document.Serialize();
  const absl::StatusOr<CredentialDocument> again = CredentialDocument::Parse(text);
  AUTHD_FUZZ_CHECK(again.ok());
  AUTHD_FUZZ_CHECK(again->Serialize() == text);
  const std::map<std::string, Credential> credentials = again->Credentials();
  AUTHD_FUZZ_CHECK(SameCredentials(credentials, document.Credentials()));
  return credentials;
}

// Every entry but `id` is what it was in `before`.
bool OthersUnchanged(const std::map<std::string, Credential>& before,
                     const std::map<std::string, Credential>& after, const std::string& id) {
  std::map<std::string, Credential> a = before;
  std::map<std::string, Credential> b = after;
  a.erase(id);
  b.erase(id);
  return SameCredentials(a, b);
}

// What the refresh path stores: the current credential with a new token pair and expiry.
Credential Refreshed(const Credential& current) {
  Credential fresh = current;
  fresh.type = CredentialType::kOAuth;
  fresh.type_name = "oauth";
  fresh.problem.clear();
  fresh.access = SecretString("fuzz-access-token");
  fresh.refresh = SecretString("fuzz-refresh-token");
  fresh.expires_unix_ms = kRefreshedExpiresMs;
  return fresh;
}

void CheckPut(CredentialDocument document, const std::string& id, const Credential& credential) {
  const std::map<std::string, Credential> before = document.Credentials();
  const bool existed = document.Contains(id);
  AUTHD_FUZZ_CHECK(document.Put(id, credential) == existed);
  AUTHD_FUZZ_CHECK(document.Contains(id));
  const std::map<std::string, Credential> after = RoundTrip(document);
  AUTHD_FUZZ_CHECK(OthersUnchanged(before, after, id));
  const Credential& stored = after.at(id);
  AUTHD_FUZZ_CHECK(stored.type == credential.type);
  AUTHD_FUZZ_CHECK(stored.type_name == credential.type_name);
  if (credential.type == CredentialType::kApiKey) {
    AUTHD_FUZZ_CHECK(stored.key == credential.key);
    AUTHD_FUZZ_CHECK(stored.usable());
  } else {
    AUTHD_FUZZ_CHECK(stored.access == credential.access);
    AUTHD_FUZZ_CHECK(stored.refresh == credential.refresh);
    AUTHD_FUZZ_CHECK(stored.expires_unix_ms == credential.expires_unix_ms);
    if (!credential.account_id.empty())
      AUTHD_FUZZ_CHECK(stored.account_id == credential.account_id);
    for (const auto& [name, value] : credential.attributes) {
      auto it = stored.attributes.find(name);
      AUTHD_FUZZ_CHECK(it != stored.attributes.end() && it->second == value);
    }
  }
}

void CheckRemove(CredentialDocument document, const std::string& id) {
  const std::map<std::string, Credential> before = document.Credentials();
  AUTHD_FUZZ_CHECK(document.Remove(id) == (before.count(id) == 1));
  AUTHD_FUZZ_CHECK(!document.Contains(id));
  AUTHD_FUZZ_CHECK(!document.Remove(id));
  const std::map<std::string, Credential> after = RoundTrip(document);
  AUTHD_FUZZ_CHECK(after.count(id) == 0);
  AUTHD_FUZZ_CHECK(OthersUnchanged(before, after, id));
}

// The whole check for one input: the parse, the round trip, then edits of a few entries.
void CheckProvidersText(absl::string_view input) {
  const absl::StatusOr<CredentialDocument> document = CredentialDocument::Parse(input);
  if (!document.ok()) {
    const absl::string_view message = document.status().message();
    AUTHD_FUZZ_CHECK(document.status().code() == absl::StatusCode::kInvalidArgument);
    AUTHD_FUZZ_CHECK(fuzz::IsJsonTextError(message, input));
    return;
  }
  const std::map<std::string, Credential> credentials = RoundTrip(*document);

  size_t edited = 0;
  for (const auto& [id, credential] : credentials) {
    if (edited++ == kMaxEditedEntries) break;
    if (credential.type == CredentialType::kOAuth) {
      CheckPut(*document, id, Refreshed(credential));
    } else {
      CheckPut(*document, id, Credential::ApiKey("fuzz-api-key"));
    }
    CheckRemove(*document, id);
  }
  CheckPut(*document, "fuzz-new-provider", Credential::ApiKey("fuzz-api-key"));
  CheckPut(*document, "fuzz-new-oauth", Refreshed(Credential()));
  CheckRemove(*document, "fuzz-absent-provider");
}

}  // namespace
}  // namespace operator_auth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  operator_auth::CheckProvidersText(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
