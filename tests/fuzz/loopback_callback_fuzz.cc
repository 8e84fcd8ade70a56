// Fuzzes the loopback callback server's request handling (DecideCallbackRequest) with an HTTP
// request line, "METHOD TARGET [VERSION]", whose path is percent-decoded as httplib does.
// Invariants:
//   - another path is 404 and a method other than GET is 405, whatever the query;
//   - on GET <path>, the decision agrees with ParseAuthorizationInput and CheckState: malformed
//     when the query does not parse, stale when its state is not exactly the expected one;
//   - only a request carrying the expected state ends the login, and then with a valid code or
//     a PERMISSION_DENIED whose message is printable ASCII and quotes nothing else;
//   - the decision is a pure function of the request.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "daemon/oauth/authorization_response.h"
#include "daemon/oauth/loopback_callback_server.h"
#include "tests/fuzz/fuzz_invariant.h"

namespace operator_auth {
namespace {

constexpr char kPath[] = "/auth/callback";
constexpr char kState[] = "state-Zx81_q";
constexpr absl::string_view kRefusedPrefix = "the provider refused the login: ";

using Kind = CallbackDecision::Kind;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoding of a URL path ('+' stays '+'), as httplib gives Request::path.
std::string DecodePath(absl::string_view path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && HexValue(path[i + 1]) >= 0 &&
        HexValue(path[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(path[i + 1]) * 16 + HexValue(path[i + 2])));
      i += 2;
    } else {
      out.push_back(path[i]);
    }
  }
  return out;
}

bool IsPrintableAscii(absl::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7E) return false;
  }
  return true;
}

bool SameDecision(const CallbackDecision& a, const CallbackDecision& b) {
  if (a.kind != b.kind || a.outcome.status() != b.outcome.status()) return false;
  if (!a.outcome.ok()) return true;
  return a.outcome->code == b.outcome->code && a.outcome->state == b.outcome->state;
}

void CheckRequestLine(absl::string_view line) {
  const size_t method_end = std::min(line.find(' '), line.size());
  const absl::string_view method = line.substr(0, method_end);
  absl::string_view target = line.substr(std::min(method_end + 1, line.size()));
  target = target.substr(0, std::min(target.find(' '), target.size()));
  const size_t question = std::min(target.find('?'), target.size());
  const std::string path = DecodePath(target.substr(0, question));

  const CallbackDecision decision = DecideCallbackRequest(kPath, kState, method, path, target);
  AUTHD_FUZZ_CHECK(
      SameDecision(decision, DecideCallbackRequest(kPath, kState, method, path, target)));
  if (decision.kind != Kind::kEndsLogin) {
    AUTHD_FUZZ_CHECK(decision.outcome.status().code() == absl::StatusCode::kUnknown);
  }
  if (path != kPath) {
    AUTHD_FUZZ_CHECK(decision.kind == Kind::kNotFound);
    return;
  }
  if (method != "GET") {
    AUTHD_FUZZ_CHECK(decision.kind == Kind::kMethodNotAllowed);
    return;
  }

  const absl::string_view query = question < target.size() ? target.substr(question) : "?";
  const absl::StatusOr<AuthorizationResponse> parsed = ParseAuthorizationInput(query);
  if (!parsed.ok()) {
    AUTHD_FUZZ_CHECK(decision.kind == Kind::kMalformed);
    return;
  }
  if (parsed->state != kState) {
    AUTHD_FUZZ_CHECK(decision.kind == Kind::kStaleState);
    return;
  }
  AUTHD_FUZZ_CHECK(decision.kind == Kind::kEndsLogin);
  if (parsed->error.empty()) {
    AUTHD_FUZZ_CHECK(decision.outcome.ok());
    AUTHD_FUZZ_CHECK(decision.outcome->code == parsed->code);
    AUTHD_FUZZ_CHECK(!decision.outcome->code.empty());
    AUTHD_FUZZ_CHECK(decision.outcome->state == kState);
    AUTHD_FUZZ_CHECK(decision.outcome->error.empty());
  } else {
    const absl::Status& refused = decision.outcome.status();
    AUTHD_FUZZ_CHECK(refused.code() == absl::StatusCode::kPermissionDenied);
    AUTHD_FUZZ_CHECK(absl::StartsWith(refused.message(), kRefusedPrefix));
    AUTHD_FUZZ_CHECK(IsPrintableAscii(refused.message()));
    // The message says what the provider said, and nothing else from the request.
    std::string expected = absl::StrCat(kRefusedPrefix, parsed->error);
    if (!parsed->error_description.empty()) {
      absl::StrAppend(&expected, " (", parsed->error_description, ")");
    }
    AUTHD_FUZZ_CHECK(refused.message() == expected);
  }
}

}  // namespace
}  // namespace operator_auth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  operator_auth::CheckRequestLine(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
