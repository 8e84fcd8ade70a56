// The fake OAuth server's grants: one-time authorization codes bound to a PKCE challenge,
// rotating refresh tokens (each works once), device codes that answer authorization_pending
// and slow_down before they succeed, and the GitHub tokens the Copilot exchange accepts.
// Thread-safe; every redemption is atomic, so of concurrent uses of one grant exactly one wins.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace operator_auth::testing {

struct TokenPolicy {
  int access_token_lifetime_s = 3600;
  int device_pending_polls = 2;
  int device_interval_s = 1;  // 0: no slow_down check
  std::string account_id;     // chatgpt_account_id claim of issued access tokens
};

struct IssuedTokens {
  std::string access_token;  // an unsigned JWT, also returned as the id_token
  std::string refresh_token;
  int expires_in = 0;
};

// A token endpoint's answer: tokens, or an RFC 6749 section 5.2 error code.
struct GrantResult {
  std::optional<IssuedTokens> tokens;
  std::string error;  // "invalid_grant", "authorization_pending", "slow_down", ...
  std::string error_description;
};

struct DeviceAuthorization {
  std::string device_code;
  std::string user_code;
  int interval_s = 0;
};

struct CopilotToken {
  std::string token;       // "tid=copilot-<serial>;exp=<unix seconds>"
  int64_t expires_at = 0;  // unix seconds
  int refresh_in = 0;      // seconds
};

class TokenStore {
 public:
  // RFC 8628 section 3.5: each slow_down adds this much to the code's polling interval.
  static constexpr int kSlowDownIncrementS = 5;

  explicit TokenStore(TokenPolicy policy);

  std::string IssueAuthorizationCode(const std::string& client_id, const std::string& redirect_uri,
                                     const std::string& code_challenge);
  // A code is spent by the first request that presents it, whether or not the rest matches.
  // An empty `client_id` is not checked.
  GrantResult RedeemAuthorizationCode(const std::string& code, const std::string& redirect_uri,
                                      const std::string& code_verifier,
                                      const std::string& client_id);

  void AddRefreshToken(const std::string& refresh_token);
  // Rotation: the token is spent and the answer carries a new one.
  GrantResult RedeemRefreshToken(const std::string& refresh_token);
  // Spends a currently valid refresh token; other tokens are ignored.
  void RevokeRefreshToken(const std::string& token);

  DeviceAuthorization StartDeviceAuthorization();
  GrantResult PollDeviceCode(const std::string& device_code);

  void AddGithubToken(const std::string& github_token);
  // Accepts seeded GitHub tokens and access tokens issued by the device flow.
  std::optional<CopilotToken> ExchangeGithubToken(const std::string& github_token);

 private:
  struct AuthorizationCode {
    std::string client_id;
    std::string redirect_uri;
    std::string code_challenge;
  };
  struct DeviceCode {
    int pending_polls_left = 0;
    int interval_s = 0;
    std::optional<absl::Time> last_poll;
  };

  IssuedTokens IssueLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TokenPolicy policy_;
  absl::Mutex mu_;
  int64_t serial_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, AuthorizationCode> authorization_codes_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> refresh_tokens_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, DeviceCode> device_codes_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> github_tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace operator_auth::testing
