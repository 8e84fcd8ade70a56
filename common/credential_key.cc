#include "common/credential_key.h"

#include "absl/strings/str_cat.h"
#include "common/provider_id.h"

namespace operator_auth {

absl::Status ValidateAccountName(absl::string_view account) {
  return ValidateIdSyntax(account, "account name");
}

absl::StatusOr<CredentialSelector> ParseCredentialSelector(absl::string_view text,
                                                           absl::string_view account) {
  CredentialSelector selector;
  const size_t at = text.find('@');
  selector.provider = std::string(text.substr(0, at));
  if (at != absl::string_view::npos) selector.account = std::string(text.substr(at + 1));
  if (absl::Status s = ValidateProviderId(selector.provider); !s.ok()) return s;
  if (!account.empty()) {
    if (!selector.account.empty() && selector.account != account) {
      return absl::InvalidArgumentError(absl::StrCat("the account is named twice: \"",
                                                     selector.account, "\" and \"", account, "\""));
    }
    selector.account = std::string(account);
  }
  if (at != absl::string_view::npos || !selector.account.empty()) {
    if (absl::Status s = ValidateAccountName(selector.account); !s.ok()) return s;
  }
  return selector;
}

std::string CredentialKey(absl::string_view provider, absl::string_view account) {
  if (account.empty()) return std::string(provider);
  return absl::StrCat(provider, "@", account);
}

absl::string_view ProviderOfKey(absl::string_view key) { return key.substr(0, key.find('@')); }

absl::string_view AccountOfKey(absl::string_view key) {
  const size_t at = key.find('@');
  return at == absl::string_view::npos ? absl::string_view() : key.substr(at + 1);
}

}  // namespace operator_auth
