// What the core needs from OAuth: turn a stored credential whose access token is (nearly)
// expired into a fresh one, and revoke a credential at logout. Implementations live in daemon/oauth
// (one per provider dialect); the core only sees this interface, so it stays free of HTTP.
// Implementations are thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "daemon/core/credential.h"

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
};

}  // namespace operator_auth
