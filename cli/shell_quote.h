// Quoting words for /bin/sh, for the commands `operatorctl setup` writes into other tools'
// settings (Claude Code runs apiKeyHelper with /bin/sh). Pure functions, thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace operator_auth::cli {

// `word` as sh reads it back: bare when it holds only [A-Za-z0-9_./:@%+=,-] (and is not empty),
// else in single quotes, a ' inside written '\''.
std::string ShellQuote(absl::string_view word);

// The words, each quoted, joined by single spaces.
std::string ShellCommandLine(const std::vector<std::string>& words);

// The first word of `command` with sh's quoting removed (single quotes, double quotes without
// expansions, backslashes); enough to recognise a command ShellCommandLine wrote.
std::string FirstShellWord(absl::string_view command);

}  // namespace operator_auth::cli
