// The agent CLIs whose own credential files operatorctl imports and the daemon keeps in sync
// (`operatorctl auth import SOURCE [--keep-in-sync]`), and where each keeps its file by default.
// The CLI resolves the default path in its own environment (CLAUDE_CONFIG_DIR, CODEX_HOME,
// PI_CODING_AGENT_DIR are set in the user's shell, rarely in the daemon's) and hands the daemon
// an absolute path. Thread-safe (reads the environment only).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace operator_auth {

enum class VendorSource { kClaudeCode, kCodex, kGeminiCli, kPi };

// "claude-code", "codex", "gemini-cli", "pi".
absl::string_view VendorSourceName(VendorSource source);
// INVALID_ARGUMENT listing the known names when `name` is none of them.
absl::StatusOr<VendorSource> ParseVendorSource(absl::string_view name);
std::vector<VendorSource> AllVendorSources();

// The vendor's configuration directory in this process's environment: $CLAUDE_CONFIG_DIR else
// ~/.claude, $CODEX_HOME else ~/.codex, $GEMINI_CLI_HOME/.gemini else ~/.gemini,
// $PI_CODING_AGENT_DIR else ~/.pi/agent.
std::string VendorConfigDirectory(VendorSource source);

// The vendor's credential file in this process's environment:
//  claude-code: $CLAUDE_CONFIG_DIR/.credentials.json, else ~/.claude/.credentials.json
//  codex:       $CODEX_HOME/auth.json, else ~/.codex/auth.json
//  gemini-cli:  $GEMINI_CLI_HOME/.gemini/oauth_creds.json, else ~/.gemini/oauth_creds.json
//  pi:          $PI_CODING_AGENT_DIR/auth.json, else ~/.pi/agent/auth.json
std::string DefaultVendorCredentialPath(VendorSource source);

}  // namespace operator_auth
