// Invariant checks shared by the fuzz targets. A broken invariant prints what broke and aborts,
// which libFuzzer and replay_main.cc both report as a crash on the input that caused it: a fuzz
// target proves its invariants, not only that nothing crashed. Pure functions, thread-safe.
#pragma once

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#define AUTHD_FUZZ_CHECK(condition)                                                  \
  do {                                                                               \
    if (!(condition)) ::operator_auth::fuzz::Broken(#condition, __FILE__, __LINE__); \
  } while (false)

namespace operator_auth::fuzz {

[[noreturn]] inline void Broken(const char* invariant, const char* file, int line) {
  std::fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n", file, line, invariant);
  std::abort();
}

// The fixed wording of a set of messages, with each number written as '#'.
using Templates = std::vector<absl::string_view>;

// `text` with every run of digits replaced by a single '#': the shape a template has.
inline std::string Shape(absl::string_view text) {
  std::string shape;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
      shape.push_back(c);
    } else if (shape.empty() || shape.back() != '#') {
      shape.push_back('#');
    }
  }
  return shape;
}

// True when `message` is one of `templates`: one of a fixed set, whatever the input was.
inline bool MatchesTemplate(absl::string_view message, const Templates& templates) {
  const std::string shape = Shape(message);
  for (absl::string_view t : templates) {
    if (shape == t) return true;
  }
  return false;
}

// Quoted strings no longer than this may be field names the messages use ("type", "key").
inline constexpr size_t kLongestHarmlessQuotedString = 8;

// True when `message` contains none of the strings `input` holds between two double quotes that
// are longer than kLongestHarmlessQuotedString, apart from the messages' own wording (the
// fuzzer learns it and writes it into its inputs): an error about a credentials file must not
// quote the file's values, which may be secrets.
inline bool QuotesNoInputString(absl::string_view message, absl::string_view input,
                                const Templates& templates) {
  size_t open = input.find('"');
  while (open != absl::string_view::npos) {
    const size_t close = input.find('"', open + 1);
    if (close == absl::string_view::npos) break;
    const absl::string_view quoted = input.substr(open + 1, close - open - 1);
    if (quoted.size() > kLongestHarmlessQuotedString &&
        message.find(quoted) != absl::string_view::npos) {
      bool wording = false;
      for (absl::string_view t : templates) {
        wording = wording || t.find(Shape(quoted)) != absl::string_view::npos;
      }
      if (!wording) return false;
    }
    open = input.find('"', close + 1);
  }
  return true;
}

// Every message ParseJsonObjectText (and so CredentialDocument / ChannelDocument::Parse) gives.
inline const Templates& JsonTextErrors() {
  static const auto* const templates = new Templates{
      "file is larger than # bytes",
      "file is empty (expected a JSON object)",
      "file starts with a byte order mark (expected a JSON object)",
      "JSON nested deeper than # levels",
      "not valid JSON (error at byte #)",
      "not valid JSON (a number is out of range)",
      "top level is not a JSON object",
  };
  return *templates;
}

// True when a ParseJsonObjectText error about `input` is one of its fixed messages and quotes
// none of the input's strings.
inline bool IsJsonTextError(absl::string_view message, absl::string_view input) {
  return MatchesTemplate(message, JsonTextErrors()) &&
         QuotesNoInputString(message, input, JsonTextErrors());
}

// Nesting depth of a JSON value: 0 for a scalar, 1 for an empty object or array.
template <typename Json>
int JsonDepth(const Json& value) {
  if (!value.is_structured()) return 0;
  int deepest = 0;
  for (const auto& child : value) {
    const int depth = JsonDepth(child);
    if (depth > deepest) deepest = depth;
  }
  return deepest + 1;
}

}  // namespace operator_auth::fuzz
