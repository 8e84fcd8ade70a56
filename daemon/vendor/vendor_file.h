// Reading and writing a vendor CLI's credential file (Claude Code's .credentials.json, Codex's
// auth.json, ...). It is read only if it can be trusted as the user's own: no symlink, a regular
// file of at most kMaxVendorFileBytes, owned by this uid (or root) and writable by nobody else,
// in directories nobody else can change (core/trusted_path.h). It is replaced atomically with
// mode 0600, so the vendor's CLI never reads a torn file from us. Thread-safe (no state).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/core/trusted_path.h"

namespace operator_auth {

inline constexpr size_t kMaxVendorFileBytes = 1024 * 1024;

// The file's top-level object; nullopt when the file does not exist. FAILED_PRECONDITION or
// PERMISSION_DENIED naming the path and the rule for an untrusted file, FAILED_PRECONDITION naming
// the position (never the content) for one that is not a JSON object.
absl::StatusOr<std::optional<nlohmann::ordered_json>> ReadVendorFile(const std::string& path,
                                                                     const TrustBoundary& boundary);

// Replaces the file with `contents` (temp file, fsync, rename; mode 0600).
absl::Status WriteVendorFile(const std::string& path, const nlohmann::ordered_json& contents);

}  // namespace operator_auth
