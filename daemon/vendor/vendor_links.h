// The vendor files the daemon keeps in sync (`operatorctl auth import SOURCE --keep-in-sync`),
// persisted in <home>/auth/vendor_links.json (0600, written only by the daemon):
//   {"links": [{"source": "claude-code", "path": "/home/me/.claude/.credentials.json",
//               "synced": {"anthropic-claude-code": "<fingerprint>"},
//               "linked_unix_ms": 1764800000000}]}
// "synced" is, per provider, the fingerprint of the login both sides held at the last sync: the
// common base of a three-way merge. A side whose login differs from the base has changed since.
// The fingerprint is a truncated SHA-256 of the tokens, never a token. Value types; the file
// functions are thread-safe (no state).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/vendor_source.h"
#include "daemon/core/credential.h"

namespace operator_auth {

struct VendorLink {
  VendorSource source = VendorSource::kClaudeCode;
  std::string path;                           // absolute, real path of the vendor's file
  std::map<std::string, std::string> synced;  // provider -> fingerprint at the last sync
  int64_t linked_unix_ms = 0;
};

// The fingerprint of a login: 32 hex digits of SHA-256 over its type and tokens; "" for none.
std::string LoginFingerprint(const Credential* credential);

// The links in `path`; empty when the file does not exist. An error names the file and the
// problem (the daemon then keeps no link and says so in status).
absl::StatusOr<std::vector<VendorLink>> LoadVendorLinks(const std::string& path);
absl::Status SaveVendorLinks(const std::string& path, const std::vector<VendorLink>& links);

}  // namespace operator_auth
