// Codex's config.toml and the block `operatorctl setup codex` owns in it: a model provider
// "operator-authd" whose bearer token comes from a command (`auth = { command, args }`, run with
// stdin closed, its trimmed stdout sent as "Authorization: Bearer", re-run after 5 minutes or on a
// 401; openai/codex codex-rs/protocol/src/config_types.rs ModelProviderAuthInfo,
// codex-rs/model-provider-info/src/lib.rs ModelProviderInfo, codex-rs/login/src/auth/
// external_bearer.rs), and a profile "operator-authd" that selects it, so `codex --profile
// operator-authd` uses it and the user's default provider stays as it was
// (codex-rs/config/src/profile_toml.rs). The block sits between marker comments; nothing outside
// them is touched. No TOML library: the text is scanned line by line for the tables the block
// would define. Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cli/tool_config_file.h"

namespace operator_auth::cli {

inline constexpr absl::string_view kCodexProviderName = "operator-authd";
inline constexpr absl::string_view kCodexBlockBegin =
    "# BEGIN operator-authd (operatorctl setup codex)";
inline constexpr absl::string_view kCodexBlockEnd =
    "# END operator-authd (operatorctl setup codex)";

// The block, markers included, for `token_command` (program, then its arguments): the OpenAI
// API's Responses endpoint with the key that command prints.
std::string CodexProviderBlock(const std::vector<std::string>& token_command);

// `text` (nullopt: no file yet) with the block added, or replaced when ours differs. kNotOurs,
// naming it, when a table or key of the block's names exists outside the block (Codex refuses a
// file that defines a table twice, so --force cannot help). FAILED_PRECONDITION when a marker is
// unmatched.
absl::StatusOr<ConfigEdit> AddCodexProvider(const std::optional<std::string>& text,
                                            const std::vector<std::string>& token_command);

// `text` without the block (and the blank line AddCodexProvider put before it); kUnchanged when
// there is none.
absl::StatusOr<ConfigEdit> RemoveCodexProvider(const std::optional<std::string>& text);

}  // namespace operator_auth::cli
