// Accounts: a provider holds its default account plus any number of named ones. Everything that
// names one credential (the storage's snapshot, refresh flights, runtime keys, watches) uses its
// credential key: "PROVIDER" for the default account, "PROVIDER@ACCOUNT" for a named one. '@'
// cannot occur in a provider id or an account name, so the split is unambiguous. Requests and the
// CLI may also name a credential as a selector, "PROVIDER[@ACCOUNT]", whose provider part may be
// an alias. Pure functions, thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace operator_auth {

// The name the default account goes by until `auth default` gives another one its place.
inline constexpr char kDefaultAccountName[] = "default";

// Account names follow the provider-id rule: ^[a-z0-9][a-z0-9._-]{0,63}$.
absl::Status ValidateAccountName(absl::string_view account);

struct CredentialSelector {
  std::string provider;  // as written (may be an alias)
  std::string account;   // empty: the provider's default account
};

// Splits "PROVIDER[@ACCOUNT]" and validates both parts (INVALID_ARGUMENT naming the part).
// `account`, when not empty, names the account instead; naming one both ways is an error unless
// the two agree.
absl::StatusOr<CredentialSelector> ParseCredentialSelector(absl::string_view text,
                                                           absl::string_view account = "");

// "PROVIDER" when `account` is empty, else "PROVIDER@ACCOUNT".
std::string CredentialKey(absl::string_view provider, absl::string_view account);
// The provider and account parts of a credential key (account empty for the default).
absl::string_view ProviderOfKey(absl::string_view key);
absl::string_view AccountOfKey(absl::string_view key);

}  // namespace operator_auth
