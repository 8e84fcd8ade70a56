// Fuzzes the checks every request's input goes through, each against an independent statement
// of its rule:
//   - ValidateProviderId passes exactly the ids of ^[a-z0-9][a-z0-9._-]{0,63}$, and a valid id's
//     ApiKeyEnvVarName is [A-Z0-9_]+ ending in _API_KEY;
//   - ValidateApiKey / ValidateSecretValue pass exactly the non-empty values of at most
//     kMaxApiKeyBytes that are valid UTF-8 without control characters, and a value that passes
//     is stored and read back unchanged by both credential files;
//   - FindChannel finds exactly the catalog's names; IsPlausibleChannelName is 1-32 of [a-z_],
//     and an implausible name is never echoed;
//   - ParseJsonObjectText gives an object nested no deeper than kMaxJsonDepth below the top that
//     prints and parses back equal, or one of its fixed messages.
// Every error message comes from a fixed set: none echoes the input.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/provider_id.h"
#include "daemon/core/api_key_rules.h"
#include "daemon/core/channel_catalog.h"
#include "daemon/core/channel_document.h"
#include "daemon/core/credential.h"
#include "daemon/core/credential_document.h"
#include "daemon/core/json_object_text.h"
#include "tests/fuzz/fuzz_invariant.h"

namespace operator_auth {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

void CheckProviderId(absl::string_view id) {
  bool matches = !id.empty() && id.size() <= 64 && IsLowerAlnum(id.front());
  for (char c : id) matches = matches && (IsLowerAlnum(c) || c == '.' || c == '_' || c == '-');

  const absl::Status valid = ValidateProviderId(id);
  AUTHD_FUZZ_CHECK(valid.ok() == matches);
  if (!valid.ok()) {
    AUTHD_FUZZ_CHECK(valid.code() == absl::StatusCode::kInvalidArgument);
    AUTHD_FUZZ_CHECK(fuzz::MatchesTemplate(
        valid.message(),
        {"provider id is empty", "provider id is longer than # characters",
         "provider id must start with a lowercase letter or a digit (^[a-z#-#][a-z#-#._-]{#,#}$)",
         "provider id may contain only lowercase letters, digits, '.', '_' and '-' "
         "(^[a-z#-#][a-z#-#._-]{#,#}$)"}));
    return;
  }
  const std::string env_var = ApiKeyEnvVarName(id);
  AUTHD_FUZZ_CHECK(env_var.size() == id.size() + 8);
  AUTHD_FUZZ_CHECK(absl::EndsWith(env_var, "_API_KEY"));
  for (size_t i = 0; i < env_var.size(); ++i) {
    const char c = env_var[i];
    AUTHD_FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
    if (i < id.size()) {
      const char from = id[i];
      AUTHD_FUZZ_CHECK(from == '-' || from == '.' || from == '_' ? c == '_'
                                                                 : c == absl::ascii_toupper(from));
    }
  }
}

// True when `value` is valid UTF-8, by nlohmann_json's (strict) validation rather than ours.
bool IsUtf8ByJsonLibrary(absl::string_view value) {
  try {
    (void)nlohmann::json(std::string(value)).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

// Code points of valid UTF-8 `value`.
std::u32string CodePoints(absl::string_view value) {
  std::u32string out;
  for (size_t i = 0; i < value.size();) {
    const auto lead = static_cast<unsigned char>(value[i]);
    const size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    const unsigned lead_bits = len == 1 ? 0x7F : len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07;
    char32_t cp = lead & lead_bits;
    for (size_t k = 1; k < len; ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(value[i + k]) & 0x3F);
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

bool IsSecretMessage(absl::string_view message, absl::string_view what) {
  const std::string w(what);
  return message == absl::StrCat(w, " is empty") ||
         message == absl::StrCat(w, " is longer than ", kMaxApiKeyBytes, " bytes") ||
         message == absl::StrCat(w, " is not valid UTF-8") ||
         message == absl::StrCat(w, " contains a control character (newline, tab, NUL, ...)");
}

void CheckSecretValue(absl::string_view value) {
  bool acceptable = !value.empty() && value.size() <= kMaxApiKeyBytes && IsUtf8ByJsonLibrary(value);
  if (acceptable) {
    for (char32_t cp : CodePoints(value)) {
      acceptable = acceptable && cp >= 0x20 && !(cp >= 0x7F && cp < 0xA0);
    }
  }

  const absl::Status key = ValidateApiKey(value);
  AUTHD_FUZZ_CHECK(key.ok() == acceptable);
  const absl::Status token = ValidateSecretValue(value, "telegram bot_token");
  AUTHD_FUZZ_CHECK(token.ok() == acceptable);
  if (!acceptable) {
    AUTHD_FUZZ_CHECK(key.code() == absl::StatusCode::kInvalidArgument);
    AUTHD_FUZZ_CHECK(IsSecretMessage(key.message(), "API key"));
    AUTHD_FUZZ_CHECK(IsSecretMessage(token.message(), "telegram bot_token"));
    return;
  }

  // What passes is what the files can hold: it survives both codecs byte for byte.
  CredentialDocument providers;
  providers.Put("fuzz", Credential::ApiKey(std::string(value)));
  const absl::StatusOr<CredentialDocument> providers_again =
      CredentialDocument::Parse(providers.Serialize());
  AUTHD_FUZZ_CHECK(providers_again.ok());
  AUTHD_FUZZ_CHECK(providers_again->Credentials().at("fuzz").key.view() == value);

  const ChannelDefinition* telegram = *FindChannel("telegram");
  ChannelDocument channels;
  AUTHD_FUZZ_CHECK(channels.Set(*telegram, telegram->fields.front(), std::string(value)).ok());
  const absl::StatusOr<ChannelDocument> channels_again =
      ChannelDocument::Parse(channels.Serialize());
  AUTHD_FUZZ_CHECK(channels_again.ok());
  AUTHD_FUZZ_CHECK(channels_again->Snapshot().values.at("telegram").at("bot_token") == value);
}

void CheckChannelName(absl::string_view name) {
  bool plausible = !name.empty() && name.size() <= 32;
  for (char c : name) plausible = plausible && ((c >= 'a' && c <= 'z') || c == '_');
  AUTHD_FUZZ_CHECK(IsPlausibleChannelName(name) == plausible);

  bool known = false;
  for (const ChannelDefinition& channel : ChannelCatalog()) known = known || channel.name == name;
  const absl::StatusOr<const ChannelDefinition*> found = FindChannel(name);
  AUTHD_FUZZ_CHECK(found.ok() == known);
  if (known) {
    AUTHD_FUZZ_CHECK((*found)->name == name);
    return;
  }
  constexpr absl::string_view kNames = "telegram, discord, slack, twitch, email";
  if (plausible) {
    AUTHD_FUZZ_CHECK(found.status().code() == absl::StatusCode::kNotFound);
    AUTHD_FUZZ_CHECK(found.status().message() ==
                     absl::StrCat("unknown channel \"", name, "\" (known: ", kNames, ")"));
  } else {
    AUTHD_FUZZ_CHECK(found.status().code() == absl::StatusCode::kInvalidArgument);
    AUTHD_FUZZ_CHECK(
        found.status().message() ==
        absl::StrCat("channel name must be one of ", kNames, name.empty() ? " (it is empty)" : ""));
  }
}

void CheckJsonObjectText(absl::string_view text) {
  const absl::StatusOr<nlohmann::ordered_json> root = ParseJsonObjectText(text);
  if (!root.ok()) {
    AUTHD_FUZZ_CHECK(root.status().code() == absl::StatusCode::kInvalidArgument);
    AUTHD_FUZZ_CHECK(fuzz::IsJsonTextError(root.status().message(), text));
    return;
  }
  AUTHD_FUZZ_CHECK(root->is_object());
  // kMaxJsonDepth counts the levels below the top-level object.
  AUTHD_FUZZ_CHECK(fuzz::JsonDepth(*root) <= kMaxJsonDepth + 1);
  const std::string printed = PrintJsonText(*root);
  const absl::StatusOr<nlohmann::ordered_json> again = ParseJsonObjectText(printed);
  AUTHD_FUZZ_CHECK(again.ok());
  AUTHD_FUZZ_CHECK(*again == *root);
  AUTHD_FUZZ_CHECK(PrintJsonText(*again) == printed);
}

}  // namespace
}  // namespace operator_auth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  operator_auth::CheckProviderId(input);
  operator_auth::CheckSecretValue(input);
  operator_auth::CheckChannelName(input);
  operator_auth::CheckJsonObjectText(input);
  return 0;
}
