#include "common/provider_id.h"

#include "absl/strings/str_cat.h"

namespace operator_auth {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

absl::Status ValidateIdSyntax(absl::string_view id, absl::string_view what) {
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (id.size() > kMaxProviderIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is longer than ", kMaxProviderIdLength, " characters"));
  }
  if (!IsLowerAlnum(id.front())) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " must start with a lowercase letter or a digit (^[a-z0-9][a-z0-9._-]{0,63}$)"));
  }
  for (char c : id) {
    if (!IsLowerAlnum(c) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " may contain only lowercase letters, digits, '.', '_' and '-' "
                             "(^[a-z0-9][a-z0-9._-]{0,63}$)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateProviderId(absl::string_view id) { return ValidateIdSyntax(id, "provider id"); }

std::string ApiKeyEnvVarName(absl::string_view id) {
  std::string name;
  name.reserve(id.size() + 8);
  for (char c : id) {
    if (c == '-' || c == '.') {
      name.push_back('_');
    } else if (c >= 'a' && c <= 'z') {
      name.push_back(static_cast<char>(c - 'a' + 'A'));
    } else {
      name.push_back(c);
    }
  }
  return absl::StrCat(name, "_API_KEY");
}

}  // namespace operator_auth
