// Claude Code's settings.json and the one key `operatorctl setup claude-code` owns in it,
// "apiKeyHelper": a command Claude Code runs with /bin/sh, whose output it sends as the X-Api-Key
// and "Authorization: Bearer" headers of model requests, re-running it after 5 minutes or on a
// 401 (https://code.claude.com/docs/en/settings, "Available settings"; docs/en/iam, "Credential
// management"). Every other key is kept, in its order. Pure functions of the file's text,
// thread-safe; errors never quote the file (it may hold secrets under "env").
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cli/tool_config_file.h"

namespace operator_auth::cli {

inline constexpr absl::string_view kApiKeyHelperKey = "apiKeyHelper";

// Whether `command` is an apiKeyHelper operatorctl wrote: `helper` itself, or any command whose
// program is an operatorctl and which ends with " auth token anthropic" (another path or socket).
bool IsOurApiKeyHelper(absl::string_view command, absl::string_view helper);

// `text` (nullopt: no file yet) with apiKeyHelper set to `helper`. kNotOurs, naming the existing
// command, when another helper is set and `force` is false. INVALID_ARGUMENT when the text is not
// a JSON object.
absl::StatusOr<ConfigEdit> SetApiKeyHelper(const std::optional<std::string>& text,
                                           absl::string_view helper, bool force);

// `text` without apiKeyHelper when it is ours; kUnchanged when there is none, kNotOurs when it is
// another one (kept).
absl::StatusOr<ConfigEdit> RemoveApiKeyHelper(const std::optional<std::string>& text,
                                              absl::string_view helper);

}  // namespace operator_auth::cli
