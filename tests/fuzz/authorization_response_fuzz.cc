// Fuzzes the parser of what the user pastes (or the loopback callback receives) at the end of an
// authorization-code login, and the state check. Invariants:
//   - an error is INVALID_ARGUMENT with one of the fixed messages (never quoting the input);
//   - a result holds either a code of printable non-space ASCII or an error, never both; the
//     error fields are printable ASCII without quotes or backslashes, and capped in length;
//   - the result survives a round trip through a form-encoded query string;
//   - CheckState passes exactly when the state equals the expected one, or is missing and a
//     missing state is allowed; an empty expected state never matches on its own.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "daemon/oauth/authorization_response.h"
#include "daemon/oauth/http_client.h"
#include "tests/fuzz/fuzz_invariant.h"

namespace operator_auth {
namespace {

constexpr size_t kMaxErrorBytes = 64;
constexpr size_t kMaxErrorDescriptionBytes = 256;
constexpr char kExpectedState[] = "state-Zx81_q";

bool IsErrorMessage(absl::string_view message) {
  return fuzz::MatchesTemplate(
      message,
      {
          "the authorization response is longer than # bytes",
          "no authorization code was given",
          "no authorization code (code=) or error (error=) found in the authorization response",
          "the authorization response repeats a parameter",
          "the authorization code contains whitespace or control characters: paste it again as "
          "shown",
      });
}

bool IsPrintableErrorText(absl::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7E || c == '"' || c == '\\') return false;
  }
  return true;
}

bool IsCode(absl::string_view code) {
  if (code.empty()) return false;
  for (char c : code) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7F) return false;
  }
  return true;
}

// The response as a query string a redirect would carry.
std::string AsQuery(const AuthorizationResponse& response) {
  HttpFields fields;
  if (!response.code.empty()) fields.emplace_back("code", response.code);
  if (!response.error.empty()) fields.emplace_back("error", response.error);
  if (!response.error_description.empty()) {
    fields.emplace_back("error_description", response.error_description);
  }
  if (!response.state.empty()) fields.emplace_back("state", response.state);
  return "?" + FormEncode(fields);
}

void CheckStateRule(const AuthorizationResponse& response, absl::string_view expected) {
  for (const bool allow_missing : {false, true}) {
    const absl::Status checked = CheckState(response, expected, allow_missing);
    const bool should_pass = (response.state.empty() && allow_missing) ||
                             (!response.state.empty() && response.state == expected);
    AUTHD_FUZZ_CHECK(checked.ok() == should_pass);
    if (!checked.ok()) {
      AUTHD_FUZZ_CHECK(checked.code() == absl::StatusCode::kInvalidArgument);
      AUTHD_FUZZ_CHECK(checked.message() == "state does not match: start the login again");
    }
  }
}

void CheckAuthorizationInput(absl::string_view input) {
  const absl::StatusOr<AuthorizationResponse> parsed = ParseAuthorizationInput(input);
  if (!parsed.ok()) {
    AUTHD_FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    AUTHD_FUZZ_CHECK(IsErrorMessage(parsed.status().message()));
    return;
  }
  AUTHD_FUZZ_CHECK(input.size() <= kMaxAuthorizationInputBytes);
  const AuthorizationResponse& response = *parsed;
  if (response.error.empty()) {
    AUTHD_FUZZ_CHECK(IsCode(response.code));
    AUTHD_FUZZ_CHECK(response.error_description.empty());
  } else {
    AUTHD_FUZZ_CHECK(response.code.empty());
    AUTHD_FUZZ_CHECK(response.error.size() <= kMaxErrorBytes);
    AUTHD_FUZZ_CHECK(response.error_description.size() <= kMaxErrorDescriptionBytes);
    AUTHD_FUZZ_CHECK(IsPrintableErrorText(response.error));
    AUTHD_FUZZ_CHECK(IsPrintableErrorText(response.error_description));
  }

  const std::string query = AsQuery(response);
  if (query.size() <= kMaxAuthorizationInputBytes) {
    const absl::StatusOr<AuthorizationResponse> again = ParseAuthorizationInput(query);
    AUTHD_FUZZ_CHECK(again.ok());
    AUTHD_FUZZ_CHECK(again->code == response.code);
    AUTHD_FUZZ_CHECK(again->state == response.state);
    AUTHD_FUZZ_CHECK(again->error == response.error);
    AUTHD_FUZZ_CHECK(again->error_description == response.error_description);
  }

  const std::string& state = response.state;
  CheckStateRule(response, state);
  CheckStateRule(response, "");
  CheckStateRule(response, kExpectedState);
  CheckStateRule(response, state + "x");
  if (!state.empty()) {
    CheckStateRule(response, absl::string_view(state).substr(0, state.size() - 1));
    std::string flipped = state;
    flipped.back() = static_cast<char>(flipped.back() ^ 0x01);
    CheckStateRule(response, flipped);
  }
}

}  // namespace
}  // namespace operator_auth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  operator_auth::CheckAuthorizationInput(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
