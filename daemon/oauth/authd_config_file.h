// The daemon's config file ($OPERATOR_HOME/authd.json, or --config PATH):
//   {"oauth_providers": {"openai-codex": {"token_url": "http://127.0.0.1:8080/token"},
//                        "my-idp": {"flow": "authorization_code", "authorize_url": ..., ...},
//                        "google-antigravity": {"disabled": true}},
//    "aliases": {"work-claude": "anthropic-claude-code"},
//    "audit": {"enabled": true, "max_bytes": 4194304},
//    "clients": [{"name": "sandboxed-agent", "exe": "/usr/bin/node", "unit": "agent-*.scope",
//                 "allow": ["openai", "anthropic@work", "channel:telegram"]}],
//    "clients_default": "allow",
//    "fleet": {"etcd_endpoints": ["https://etcd1:2379"], "name": "home",
//              "key_file": "/home/u/.operator/fleet.key", "tls": {"ca_file": "/etc/etcd/ca.pem"}}}
// "oauth_providers" overrides fields of built-in OAuth providers, removes one ("disabled": true)
// or defines new ones. Keys: name, flow ("authorization_code" | "device_code"), authorize_url,
// token_url, device_authorization_url, revocation_url, client_id, client_secret, scopes (array of
// strings), redirect_uri, token_request_format ("form" | "json"), request_timeout_ms, user_agent,
// disabled; for Google providers code_assist_url and project_id; for GitHub Copilot-style
// providers copilot_token_url, copilot_api_url and default_domain. "aliases" adds names to the
// built-in ones (claude, codex, copilot, gemini-cli, antigravity). URLs must be https://, or
// http:// to a loopback host (endpoint_url.h). "audit" configures the audit trail (audit_log.h):
// on by default; max_bytes is the size at which auth/audit.jsonl is rotated. "clients" and
// "clients_default" ("allow", the default, or "deny") are the client rules (core/client_rules.h):
// each rule's keys are name, exe, unit and allow. "fleet" (issue #14) keeps the credentials in an
// etcd cluster several daemons share instead of providers.json: endpoints, the fleet's name, its
// key file (operatorctl fleet keygen) and TLS files. Errors name the file and the key (a rule by
// its index and name). Thread-safe (pure).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/core/client_rules.h"
#include "daemon/core/provider_registry.h"
#include "daemon/core/trusted_path.h"
#include "daemon/oauth/oauth_provider_config.h"

namespace operator_auth {

// "audit" in authd.json. Read at start only: a SIGHUP does not change it.
struct AuditConfig {
  static constexpr int64_t kMinMaxBytes = 4096;
  static constexpr int64_t kMaxMaxBytes = int64_t{1} << 30;
  bool enabled = true;
  int64_t max_bytes = 4 * 1024 * 1024;
};

// "fleet" in authd.json (issue #14): share one credential set with other daemons through etcd
// (daemon/fleet/fleet_storage.h). Absent: the local providers.json, as always. Read at start
// only: a SIGHUP does not change it.
struct FleetTlsConfig {
  std::string ca_file;    // PEM roots that sign the members' certificates
  std::string cert_file;  // client certificate and its key, for clusters that ask for one
  std::string key_file;
  bool operator==(const FleetTlsConfig&) const = default;
};

struct FleetConfig {
  static constexpr size_t kMaxEndpoints = 16;
  // "http://HOST:PORT" (loopback hosts only) or "https://HOST:PORT", as written in the file.
  std::vector<std::string> etcd_endpoints;
  std::string name;      // the keys live under /operator-authd/<name>/
  std::string key_file;  // absolute; base64 of the 32-byte fleet key (daemon/fleet/fleet_key.h)
  FleetTlsConfig tls;    // all empty: plain http:// endpoints
  bool operator==(const FleetConfig&) const = default;
};

struct DaemonConfig {
  // The built-in OAuth providers (less the disabled ones) with their overrides, then new ones.
  std::vector<OAuthProviderConfig> oauth_providers;
  // The configured OAuth providers, the built-in API-key providers, and every alias (built-in
  // and configured), checked: an alias that shadows a provider or another alias is an error.
  ProviderRegistry registry{{}};
  AuditConfig audit;
  // "clients" / "clients_default"; none (everything to everyone) when absent.
  ClientRules client_rules;
  // "fleet"; none (the local providers.json) when absent.
  std::optional<FleetConfig> fleet;
};

// `source` names the file in messages.
absl::StatusOr<DaemonConfig> ParseDaemonConfig(const std::string& text, const std::string& source);

// Reads and parses `path`, which must be trusted (trusted_path.h: no symlink, a regular file of
// at most 1 MiB, owned by the user or root, neither it nor a directory above it up to the home
// writable by group or others). A missing file means "built-ins only" unless `required` (a path
// the user named with --config).
absl::StatusOr<DaemonConfig> LoadDaemonConfig(
    const std::string& path, bool required,
    const TrustBoundary& boundary = TrustBoundary::ForThisProcess());

}  // namespace operator_auth
