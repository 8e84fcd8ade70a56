// OpenAI's device-code login, which Codex offers for machines without a browser. It is not RFC
// 8628; codex-rs (openai/codex codex-rs/login/src/device_code_auth.rs) speaks it as:
//  1. POST {issuer}/api/accounts/deviceauth/usercode {"client_id"} ->
//     {"device_auth_id", "user_code" (or "usercode"), "interval" (a string, or a number)};
//     the user enters the code at {issuer}/codex/device within 15 minutes.
//  2. POST {issuer}/api/accounts/deviceauth/token {"device_auth_id", "user_code"} every interval:
//     HTTP 403 or 404 while the user has not approved, then
//     {"authorization_code", "code_challenge", "code_verifier"} (the server made the PKCE pair).
//  3. The authorization code is exchanged at the token endpoint like a browser login's, with
//     redirect_uri {issuer}/deviceauth/callback and that code_verifier.
// The issuer is the device authorization URL less "/api/accounts/deviceauth/usercode".
// Thread-safe (no state).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/oauth/http_client.h"

namespace operator_auth {

// codex-rs waits 15 minutes for the user; the server's reply names no lifetime.
inline constexpr absl::Duration kOpenAIDeviceCodeLifetime = absl::Minutes(15);

struct OpenAIDeviceCode {
  std::string device_auth_id;
  std::string user_code;
  std::string verification_uri;
  absl::Duration interval = absl::Seconds(5);
};

struct OpenAIDeviceGrant {
  std::string authorization_code;  // secret
  std::string code_verifier;       // secret
  std::string redirect_uri;
};

using OpenAISender =
    std::function<absl::StatusOr<HttpResponse>(HttpRequest request, absl::string_view what)>;

// INVALID_ARGUMENT when `usercode_url` does not end in the known path.
absl::StatusOr<std::string> OpenAIIssuerOf(const std::string& usercode_url);

absl::StatusOr<OpenAIDeviceCode> StartOpenAIDeviceLogin(const std::string& usercode_url,
                                                        const std::string& client_id,
                                                        const OpenAISender& send);

// nullopt while the user has not approved yet.
absl::StatusOr<std::optional<OpenAIDeviceGrant>> PollOpenAIDeviceLogin(
    const std::string& usercode_url, const OpenAIDeviceCode& code, const OpenAISender& send);

}  // namespace operator_auth
