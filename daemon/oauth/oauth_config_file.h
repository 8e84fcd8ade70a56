// The daemon's config file ($OPERATOR_HOME/authd.json, or --config PATH): its "oauth_providers"
// object overrides fields of built-in OAuth providers and defines new ones:
//   {"oauth_providers": {"openai-codex": {"token_url": "http://127.0.0.1:8080/token"},
//                        "my-idp": {"flow": "authorization_code", "authorize_url": ..., ...}}}
// Keys: name, flow ("authorization_code" | "device_code"), authorize_url, token_url,
// device_authorization_url, revocation_url, client_id, client_secret, scopes (array of strings),
// redirect_uri, token_request_format ("form" | "json"), request_timeout_ms, and for GitHub
// Copilot-style providers copilot_token_url and default_domain. Errors name the file and the key. Thread-safe (pure).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/oauth/oauth_provider_config.h"

namespace operator_auth {

// The built-in providers with `text`'s overrides applied, then the new ones. `source` names
// the file in messages.
absl::StatusOr<std::vector<OAuthProviderConfig>> ParseOAuthConfig(const std::string& text,
                                                                  const std::string& source);

// Reads and parses `path`. A missing file means "built-ins only" unless `required` (a path the
// user named with --config).
absl::StatusOr<std::vector<OAuthProviderConfig>> LoadOAuthConfig(const std::string& path,
                                                                 bool required);

}  // namespace operator_auth
