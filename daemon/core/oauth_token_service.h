// What the core needs from OAuth: turn a stored credential whose access token is (nearly)
// expired into a fresh one, and revoke a credential at logout. Implementations live in daemon/oauth
// (one per provider dialect); the core only sees this interface, so it stays free of HTTP.
// Implementations are thread-safe.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "daemon/core/credential.h"
#include "daemon/core/key_usage.h"

namespace operator_auth {

class OAuthTokenService {
 public:
  virtual ~OAuthTokenService() = default;

  // True when `provider` has an OAuth dialect that can refresh its tokens.
  virtual bool CanRefresh(const std::string& provider) const = 0;

  // Exchanges `current` (its refresh token) for new tokens. The result keeps the rotated refresh
  // token (or the old one when the provider does not rotate) and every attribute it needs later.
  // Errors:
  //   UNAUTHENTICATED: the refresh token is dead (invalid_grant, 400/401/403): a new login is
  //                    needed; retrying will not help.
  //   UNAVAILABLE / DEADLINE_EXCEEDED: transient (5xx, timeout, unreadable reply); retry later.
  // Messages never contain a token.
  virtual absl::StatusOr<Credential> Refresh(const std::string& provider,
                                             const Credential& current) = 0;

  // RFC 7009 revocation at the provider's revocation endpoint. OK when the provider has none.
  // Errors are for reporting only: local removal proceeds regardless.
  virtual absl::Status Revoke(const std::string& provider, const Credential& current) = 0;

  // What a caller needs besides `current`'s access token (KeyUsage). Cheap: no I/O, no lock
  // beyond a lookup; called on the hot path.
  virtual KeyUsage UsageFor(const std::string& provider, const Credential& current) const {
    (void)provider;
    KeyUsage usage;
    usage.kind = KeyKind::kOAuthAccessToken;
    usage.account_id = current.account_id;
    return usage;
  }

  // True when `current` lacks something only the provider can tell and callers need (Google:
  // the Code Assist project); Complete() fetches it. Cheap, like UsageFor.
  virtual bool NeedsCompletion(const std::string& provider, const Credential& current) const {
    (void)provider;
    (void)current;
    return false;
  }

  // Asks the provider for what NeedsCompletion found missing, using `current`'s valid access
  // token, and returns the attributes to add to the stored entry. May block on the network.
  // Errors: FAILED_PRECONDITION / PERMISSION_DENIED when the account cannot be completed until
  // the user acts (the message says how); UNAVAILABLE / DEADLINE_EXCEEDED when transient.
  virtual absl::StatusOr<std::map<std::string, std::string>> Complete(const std::string& provider,
                                                                      const Credential& current) {
    (void)provider;
    (void)current;
    return std::map<std::string, std::string>();
  }
};

}  // namespace operator_auth
