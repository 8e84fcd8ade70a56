#include "daemon/core/json_object_text.h"

#include "absl/strings/str_cat.h"

namespace operator_auth {
namespace {

using Json = nlohmann::ordered_json;

struct TooDeep {};

}  // namespace

absl::StatusOr<Json> ParseJsonObjectText(absl::string_view text) {
  if (text.size() > kMaxCredentialsFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("file is larger than ", kMaxCredentialsFileBytes, " bytes"));
  }
  if (text.find_first_not_of(" \t\r\n") == absl::string_view::npos) {
    return absl::InvalidArgumentError("file is empty (expected a JSON object)");
  }
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") {
    return absl::InvalidArgumentError(
        "file starts with a byte order mark (expected a JSON object)");
  }
  Json root;
  try {
    root = Json::parse(text.begin(), text.end(), [](int depth, Json::parse_event_t, Json&) {
      if (depth > kMaxJsonDepth) throw TooDeep();
      return true;
    });
  } catch (const TooDeep&) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON nested deeper than ", kMaxJsonDepth, " levels"));
  } catch (const Json::parse_error& e) {
    // e.what() quotes the last token read, which may be a secret: report the position only.
    return absl::InvalidArgumentError(absl::StrCat("not valid JSON (error at byte ", e.byte, ")"));
  } catch (const Json::out_of_range&) {
    // A number too large for a double (1e400): nlohmann_json throws out_of_range 406, not a
    // parse_error, and its message quotes the number.
    return absl::InvalidArgumentError("not valid JSON (a number is out of range)");
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError("top level is not a JSON object");
  }
  return root;
}

std::string PrintJsonText(const Json& root) {
  // Parsed text is valid UTF-8 and callers validate what they set, so dump cannot throw here.
  return root.dump(2) + "\n";
}

}  // namespace operator_auth
