#include "cli/claude_settings_file.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/shell_quote.h"
#include "daemon/core/json_object_text.h"

namespace operator_auth::cli {
namespace {

using Json = nlohmann::ordered_json;
using Outcome = ConfigEdit::Outcome;

constexpr absl::string_view kOurArguments = " auth token anthropic";
constexpr absl::string_view kProgramName = "operatorctl";

// An empty (or blank) file is what a user gets from `touch settings.json`: no settings yet.
absl::StatusOr<Json> ParseSettings(const std::optional<std::string>& text) {
  if (!text.has_value() || absl::StripAsciiWhitespace(*text).empty()) return Json::object();
  absl::StatusOr<Json> settings = ParseJsonObjectText(*text);
  if (!settings.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("is not valid settings JSON (", settings.status().message(), ")"));
  }
  return settings;
}

// The helper's command for a message: the value when it is a string, else a description.
std::string Describe(const Json& value) {
  return value.is_string() ? value.get<std::string>() : "a value that is not a command";
}

}  // namespace

bool IsOurApiKeyHelper(absl::string_view command, absl::string_view helper) {
  if (command == helper) return true;
  const std::string program = FirstShellWord(command);
  const size_t slash = program.rfind('/');
  const absl::string_view name = slash == std::string::npos
                                     ? absl::string_view(program)
                                     : absl::string_view(program).substr(slash + 1);
  return name == kProgramName &&
         absl::EndsWith(absl::StripTrailingAsciiWhitespace(command), kOurArguments);
}

absl::StatusOr<ConfigEdit> SetApiKeyHelper(const std::optional<std::string>& text,
                                           absl::string_view helper, bool force) {
  absl::StatusOr<Json> settings = ParseSettings(text);
  if (!settings.ok()) return settings.status();
  ConfigEdit edit;
  if (auto it = settings->find(std::string(kApiKeyHelperKey)); it != settings->end()) {
    if (it->is_string() && it->get<std::string>() == helper) return edit;  // kUnchanged
    const bool ours = it->is_string() && IsOurApiKeyHelper(it->get<std::string>(), helper);
    if (!ours && !force) {
      edit.outcome = Outcome::kNotOurs;
      edit.existing = Describe(*it);
      return edit;
    }
    edit.existing = Describe(*it);
  }
  (*settings)[std::string(kApiKeyHelperKey)] = std::string(helper);
  edit.outcome = Outcome::kWritten;
  edit.text = PrintJsonText(*settings);
  return edit;
}

absl::StatusOr<ConfigEdit> RemoveApiKeyHelper(const std::optional<std::string>& text,
                                              absl::string_view helper) {
  absl::StatusOr<Json> settings = ParseSettings(text);
  if (!settings.ok()) return settings.status();
  ConfigEdit edit;
  auto it = settings->find(std::string(kApiKeyHelperKey));
  if (it == settings->end()) return edit;  // kUnchanged
  if (!it->is_string() || !IsOurApiKeyHelper(it->get<std::string>(), helper)) {
    edit.outcome = Outcome::kNotOurs;
    edit.existing = Describe(*it);
    return edit;
  }
  settings->erase(it);
  edit.outcome = Outcome::kWritten;
  edit.text = PrintJsonText(*settings);
  return edit;
}

}  // namespace operator_auth::cli
