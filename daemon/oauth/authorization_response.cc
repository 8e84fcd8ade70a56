#include "daemon/oauth/authorization_response.h"

#include <openssl/crypto.h>

#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "daemon/oauth/http_client.h"
#include "daemon/oauth/printable_text.h"

namespace operator_auth {
namespace {

constexpr size_t kMaxErrorBytes = 64;
constexpr size_t kMaxErrorDescriptionBytes = 256;

constexpr absl::string_view kNoCodeMessage =
    "no authorization code (code=) or error (error=) found in the authorization response";

// RFC 6749 codes are VSCHAR (%x20-7E); no provider puts a space in one, and a space or control
// character inside means the paste picked up something else.
bool IsCodeCharacter(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte > 0x20 && byte < 0x7F;
}

bool IsResponseParameter(absl::string_view name) {
  return name == "code" || name == "state" || name == "error" || name == "error_description";
}

// The response in form-encoded parameters (a query string or a URL fragment); nullopt when they
// carry neither a code nor an error, so the caller can look elsewhere.
absl::StatusOr<std::optional<AuthorizationResponse>> FromParameters(absl::string_view text) {
  AuthorizationResponse response;
  bool seen_code = false;
  bool seen_state = false;
  bool seen_error = false;
  bool seen_description = false;
  for (auto& [name, value] : FormDecode(text)) {
    std::string* field = nullptr;
    bool* seen = nullptr;
    if (name == "code") {
      field = &response.code;
      seen = &seen_code;
    } else if (name == "state") {
      field = &response.state;
      seen = &seen_state;
    } else if (name == "error") {
      field = &response.error;
      seen = &seen_error;
    } else if (name == "error_description") {
      field = &response.error_description;
      seen = &seen_description;
    } else {
      continue;  // iss, scope, session_state and the like
    }
    // RFC 6749 3.1: parameters MUST NOT repeat; two codes or states mean a tampered URL.
    if (*seen) return absl::InvalidArgumentError("the authorization response repeats a parameter");
    *seen = true;
    *field = std::move(value);
  }
  if (response.code.empty() && response.error.empty()) return std::nullopt;
  return response;
}

absl::StatusOr<AuthorizationResponse> Validated(AuthorizationResponse response) {
  if (!response.error.empty()) {
    response.code.clear();  // an error response has no code (RFC 6749 4.1.2.1)
    response.error = PrintableErrorText(response.error, kMaxErrorBytes);
    response.error_description =
        PrintableErrorText(response.error_description, kMaxErrorDescriptionBytes);
    return response;
  }
  if (response.code.empty()) return absl::InvalidArgumentError(kNoCodeMessage);
  for (char c : response.code) {
    if (!IsCodeCharacter(c)) {
      return absl::InvalidArgumentError(
          "the authorization code contains whitespace or control characters: paste it again "
          "as shown");
    }
  }
  response.error_description.clear();
  return response;
}

// Parameters in `query`, else in `fragment` (providers using response_mode=fragment).
absl::StatusOr<AuthorizationResponse> FromQueryOrFragment(absl::string_view query,
                                                          absl::string_view fragment) {
  for (absl::string_view text : {query, fragment}) {
    absl::StatusOr<std::optional<AuthorizationResponse>> response = FromParameters(text);
    if (!response.ok()) return response.status();
    if (response->has_value()) return Validated(std::move(**response));
  }
  return absl::InvalidArgumentError(kNoCodeMessage);
}

// Splits "before#after"; `after` is empty when there is no '#'.
std::pair<absl::string_view, absl::string_view> SplitAtHash(absl::string_view text) {
  const size_t hash = text.find('#');
  if (hash == absl::string_view::npos) return {text, absl::string_view()};
  return {text.substr(0, hash), text.substr(hash + 1)};
}

absl::StatusOr<AuthorizationResponse> FromUrl(absl::string_view url) {
  const auto [before_fragment, fragment] = SplitAtHash(url);
  const size_t question = before_fragment.find('?');
  const absl::string_view query = question == absl::string_view::npos
                                      ? absl::string_view()
                                      : before_fragment.substr(question + 1);
  return FromQueryOrFragment(query, fragment);
}

// "?..." always reads as parameters; otherwise only when a response parameter is named, so a
// bare code that happens to contain '=' (base64 padding) stays a bare code.
bool LooksLikeParameters(absl::string_view text) {
  if (absl::StartsWith(text, "?")) return true;
  for (const auto& field : FormDecode(SplitAtHash(text).first)) {
    if (IsResponseParameter(field.first)) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<AuthorizationResponse> ParseAuthorizationInput(absl::string_view input) {
  if (input.size() > kMaxAuthorizationInputBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the authorization response is longer than ",
                                                   kMaxAuthorizationInputBytes, " bytes"));
  }
  const absl::string_view text = absl::StripAsciiWhitespace(input);
  if (text.empty()) return absl::InvalidArgumentError("no authorization code was given");

  if (absl::StartsWithIgnoreCase(text, "http://") || absl::StartsWithIgnoreCase(text, "https://")) {
    return FromUrl(text);
  }
  if (LooksLikeParameters(text)) {
    const auto [query, fragment] = SplitAtHash(absl::StripPrefix(text, "?"));
    return FromQueryOrFragment(query, fragment);
  }
  // "code#state" or a bare code. Neither is percent-encoded: it is what the provider's page shows.
  const auto [code, state] = SplitAtHash(text);
  AuthorizationResponse response;
  response.code = std::string(code);
  response.state = std::string(state);
  return Validated(std::move(response));
}

absl::Status CheckState(const AuthorizationResponse& response, absl::string_view expected_state,
                        bool allow_missing_state) {
  if (response.state.empty() && allow_missing_state) return absl::OkStatus();
  // The lengths are not secret (every state we make has the same one); the bytes are.
  if (!response.state.empty() && response.state.size() == expected_state.size() &&
      CRYPTO_memcmp(response.state.data(), expected_state.data(), expected_state.size()) == 0) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError("state does not match: start the login again");
}

}  // namespace operator_auth
