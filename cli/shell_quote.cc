#include "cli/shell_quote.h"

#include "absl/strings/str_join.h"

namespace operator_auth::cli {
namespace {

bool IsBareShellChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         absl::string_view("_./:@%+=,-").find(c) != absl::string_view::npos;
}

}  // namespace

std::string ShellQuote(absl::string_view word) {
  bool bare = !word.empty();
  for (char c : word) bare = bare && IsBareShellChar(c);
  if (bare) return std::string(word);
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  quoted += "'";
  return quoted;
}

std::string ShellCommandLine(const std::vector<std::string>& words) {
  return absl::StrJoin(
      words, " ", [](std::string* out, const std::string& word) { out->append(ShellQuote(word)); });
}

std::string FirstShellWord(absl::string_view command) {
  std::string word;
  size_t i = command.find_first_not_of(" \t");
  char quote = 0;  // ' or " while inside quotes
  for (; i < command.size(); ++i) {
    const char c = command[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else if (quote == '"' && c == '\\' && i + 1 < command.size()) {
        word += command[++i];
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\' && i + 1 < command.size()) {
      word += command[++i];
    } else if (c == ' ' || c == '\t') {
      break;
    } else {
      word += c;
    }
  }
  return word;
}

}  // namespace operator_auth::cli
