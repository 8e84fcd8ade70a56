#include "cli/codex_config_file.h"

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace operator_auth::cli {
namespace {

using Outcome = ConfigEdit::Outcome;

// A TOML basic string.
std::string TomlString(absl::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned char>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Where the block is: [begin, end) in the text, end past its END line's newline.
struct BlockSpan {
  size_t begin = std::string::npos;
  size_t end = std::string::npos;
};

absl::StatusOr<BlockSpan> FindBlock(absl::string_view text) {
  BlockSpan span;
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    const size_t next = line_end == absl::string_view::npos ? text.size() : line_end + 1;
    const absl::string_view line =
        absl::StripAsciiWhitespace(text.substr(line_start, next - line_start));
    if (line == kCodexBlockBegin) {
      if (span.begin != std::string::npos) {
        return absl::FailedPreconditionError(
            "holds two operator-authd blocks; remove one by hand (its lines between \"# BEGIN "
            "operator-authd\" and \"# END operator-authd\")");
      }
      span.begin = line_start;
    } else if (line == kCodexBlockEnd) {
      if (span.begin == std::string::npos || span.end != std::string::npos) {
        return absl::FailedPreconditionError(
            "has an \"# END operator-authd\" line without its \"# BEGIN\"; fix it by hand");
      }
      span.end = next;
    }
    line_start = next;
  }
  if (span.begin != std::string::npos && span.end == std::string::npos) {
    return absl::FailedPreconditionError(
        "has a \"# BEGIN operator-authd\" line without its \"# END\"; fix it by hand");
  }
  return span;
}

// A table header's or key's dotted name with the quotes and blanks TOML allows around its parts
// removed: [ model_providers."operator-authd" ] -> model_providers.operator-authd.
std::string NormalizedName(absl::string_view name) {
  std::string out;
  for (char c : name) {
    if (c != ' ' && c != '\t' && c != '"' && c != '\'') out += c;
  }
  return out;
}

bool NamesOurs(absl::string_view full_name) {
  for (absl::string_view table : {"model_providers.", "profiles."}) {
    const std::string ours = absl::StrCat(table, kCodexProviderName);
    if (full_name == ours || absl::StartsWith(full_name, ours + ".")) return true;
  }
  return false;
}

// The first line outside the block that defines one of the block's names: a table header, a
// dotted key at the top level, or a key of [model_providers] / [profiles].
std::optional<std::string> ForeignDefinition(absl::string_view text, const BlockSpan& block) {
  std::string table;  // the current table's normalized name
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    const size_t next = line_end == absl::string_view::npos ? text.size() : line_end + 1;
    const bool inside =
        block.begin != std::string::npos && line_start >= block.begin && line_start < block.end;
    const absl::string_view line =
        absl::StripAsciiWhitespace(text.substr(line_start, next - line_start));
    line_start = next;
    if (inside || line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      const size_t close = line.find(']');
      table = NormalizedName(line.substr(0, close).substr(line[1] == '[' ? 2 : 1));
      if (NamesOurs(table)) return std::string(line);
      continue;
    }
    const size_t equals = line.find('=');
    if (equals == absl::string_view::npos) continue;
    const std::string key = NormalizedName(line.substr(0, equals));
    if (NamesOurs(table.empty() ? key : absl::StrCat(table, ".", key))) {
      return table.empty() ? std::string(line.substr(0, equals))
                           : absl::StrCat("[", table, "] ", line.substr(0, equals));
    }
  }
  return std::nullopt;
}

}  // namespace

std::string CodexProviderBlock(const std::vector<std::string>& token_command) {
  std::vector<std::string> args(token_command.begin() + (token_command.empty() ? 0 : 1),
                                token_command.end());
  const std::string name(kCodexProviderName);
  return absl::StrCat(
      kCodexBlockBegin, "\n", "# The OpenAI API key from operator-authd: `codex --profile ", name,
      "`.\n", "# `operatorctl setup codex --remove` deletes this block.\n", "[model_providers.",
      name, "]\n", "name = \"OpenAI (operator-authd)\"\n",
      "base_url = \"https://api.openai.com/v1\"\n", "wire_api = \"responses\"\n",
      "auth = { command = ", TomlString(token_command.empty() ? "" : token_command.front()),
      ", args = [",
      absl::StrJoin(args, ", ",
                    [](std::string* out, const std::string& arg) { out->append(TomlString(arg)); }),
      "] }\n\n", "[profiles.", name, "]\n", "model_provider = \"", name, "\"\n", kCodexBlockEnd,
      "\n");
}

absl::StatusOr<ConfigEdit> AddCodexProvider(const std::optional<std::string>& text,
                                            const std::vector<std::string>& token_command) {
  const std::string current = text.value_or("");
  absl::StatusOr<BlockSpan> block = FindBlock(current);
  if (!block.ok()) return block.status();
  ConfigEdit edit;
  if (std::optional<std::string> foreign = ForeignDefinition(current, *block)) {
    edit.outcome = Outcome::kNotOurs;
    edit.existing = *std::move(foreign);
    return edit;
  }
  const std::string wanted = CodexProviderBlock(token_command);
  if (block->begin != std::string::npos) {
    if (current.compare(block->begin, block->end - block->begin, wanted) == 0) return edit;
    edit.text = current;
    edit.text.replace(block->begin, block->end - block->begin, wanted);
  } else {
    edit.text = current;
    if (!edit.text.empty() && edit.text.back() != '\n') edit.text += '\n';
    if (!edit.text.empty()) edit.text += '\n';
    edit.text += wanted;
  }
  edit.outcome = Outcome::kWritten;
  return edit;
}

absl::StatusOr<ConfigEdit> RemoveCodexProvider(const std::optional<std::string>& text) {
  const std::string current = text.value_or("");
  absl::StatusOr<BlockSpan> block = FindBlock(current);
  if (!block.ok()) return block.status();
  ConfigEdit edit;
  if (block->begin == std::string::npos) return edit;
  size_t begin = block->begin;
  // The blank line AddCodexProvider put between the user's text and the block.
  if (begin >= 2 && current[begin - 1] == '\n' && current[begin - 2] == '\n') --begin;
  edit.text = current;
  edit.text.erase(begin, block->end - begin);
  edit.outcome = Outcome::kWritten;
  return edit;
}

}  // namespace operator_auth::cli
