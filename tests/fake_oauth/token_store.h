// The fake OAuth server's grants: one-time authorization codes bound to a PKCE challenge,
// rotating refresh tokens (each works once), device codes that answer authorization_pending
// and slow_down before they succeed, the GitHub tokens the Copilot exchange accepts, and the
// access and Copilot tokens issued, which resource endpoints check until they expire or are
// revoked.
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
  // Shaped like GitHub's: "tid=copilot-<serial>;exp=<unix seconds>;sku=free_limited_copilot;
  // proxy-ep=proxy.individual.githubcopilot.com;8kp=1:<hex>", so clients derive the API base URL
  // from proxy-ep (pi-mono github-copilot.ts getBaseUrlFromToken).
  std::string token;
  int64_t expires_at = 0;  // unix seconds
  int refresh_in = 0;      // seconds
};

class TokenStore {
 public:
  // RFC 8628 section 3.5: each slow_down adds this much to the code's polling interval.
  static constexpr int kSlowDownIncrementS = 5;
  // GitHub's Copilot tokens live 30 minutes and say to refresh after 25: refresh_in is this,
  // or the lifetime less kCopilotRefreshMarginS when that is shorter.
  static constexpr int kCopilotRefreshInS = 1500;
  static constexpr int kCopilotRefreshMarginS = 300;
  static constexpr char kCopilotProxyEndpoint[] = "proxy.individual.githubcopilot.com";
  static constexpr char kCopilotSku[] = "free_limited_copilot";

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
  // Spends a currently valid refresh token or access token; other tokens are ignored.
  void RevokeToken(const std::string& token);

  // Seeds an access token that never expires (as if issued by an earlier login).
  void AddAccessToken(const std::string& access_token);
  // An access token this store issued or was seeded with, neither expired nor revoked.
  bool IsAccessTokenValid(const std::string& access_token);

  DeviceAuthorization StartDeviceAuthorization();
  GrantResult PollDeviceCode(const std::string& device_code);

  void AddGithubToken(const std::string& github_token);
  // Accepts seeded GitHub tokens and access tokens issued by the device flow.
  std::optional<CopilotToken> ExchangeGithubToken(const std::string& github_token);
  // A Copilot token ExchangeGithubToken issued that has not expired.
  bool IsCopilotTokenValid(const std::string& copilot_token);

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
  std::map<std::string, absl::Time> access_tokens_ ABSL_GUARDED_BY(mu_);   // -> expiry
  std::map<std::string, absl::Time> copilot_tokens_ ABSL_GUARDED_BY(mu_);  // -> expiry
};

}  // namespace operator_auth::testing
