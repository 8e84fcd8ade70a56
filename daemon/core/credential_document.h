// The providers.json document: an ordered JSON object of provider id -> entry. It is the unit of
// read-modify-write: parse the file, change some entries, serialize.
//
// Accounts. The default account of a provider is its top-level entry, exactly what every
// py-filelock reader has always read. Named accounts live under one reserved top-level key that
// no provider id can spell (ids start with [a-z0-9]) and that old readers never look up:
//   "_accounts": {"anthropic": {"default": "personal",          // the default account's name
//                               "named": {"work": {entry}, ...}}}  // every other account
// "default" is absent until `auth default` names one ("default" is then the name). Methods below
// take credential keys (common/credential_key.h): "anthropic" is the top-level entry,
// "anthropic@work" is _accounts.anthropic.named.work. Entries and fields this daemon
// does not understand (an "extra" object, an unknown "type", a non-object entry) survive every
// rewrite unchanged in meaning, as does the order of entries. Not thread-safe; a value type.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include "absl/strings/string_view.h"

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "daemon/core/credential.h"
#include "daemon/core/json_object_text.h"

namespace operator_auth {

class CredentialDocument {
 public:
  CredentialDocument();  // an empty document: "{}"

  // Parses the text of providers.json. Errors are INVALID_ARGUMENT / DATA_LOSS messages that name
  // the position but never quote the file's content (it holds secrets).
  static absl::StatusOr<CredentialDocument> Parse(absl::string_view text);

  // Pretty-printed JSON with a trailing newline.
  std::string Serialize() const;

  // The typed view of every entry, keyed by credential key (named accounts as "PROVIDER@ACCOUNT").
  std::map<std::string, Credential> Credentials() const;
  // Provider id -> the name its default account goes by, for providers that name it.
  std::map<std::string, std::string> DefaultAccountNames() const;

  // Gives named account `account` of `provider` the top-level place; the entry there becomes a
  // named account under the old default's name. Returns false when `account` already is the
  // default; NOT_FOUND when there is no such named account.
  absl::StatusOr<bool> SetDefaultAccount(const std::string& provider, const std::string& account);

  // Stores `credential` under `id`. When the existing entry has the same type, its other fields
  // are kept; a different type replaces the entry. Returns true when an entry was replaced.
  bool Put(const std::string& id, const Credential& credential);
  // Stores `credential` under `id` as a new entry: nothing of the old one survives. A new login
  // uses this, so that a field of an earlier login (a GitHub Enterprise host, a project) cannot
  // send the new token somewhere else. Returns true when an entry was replaced.
  bool Replace(const std::string& id, const Credential& credential);

  // Removes the entry for `id`; returns false when there was none.
  bool Remove(const std::string& id);

  bool Contains(const std::string& id) const;

  // Copies the entry under credential key `key` from `from` as it is there: every field, known
  // or not (an "extra" object, an unknown type), replacing any entry under `key` here. False when
  // `from` has none.
  bool CopyEntry(const CredentialDocument& from, const std::string& key);
  // Gives `provider`'s default account the name `from` gives it, when `from` names it and this
  // document neither names its default nor holds a named account by that name (two accounts of
  // one name would be ambiguous). Returns true when the name was copied.
  bool CopyDefaultAccountName(const CredentialDocument& from, const std::string& provider);
  // Whether both documents hold the same JSON under `key` (both none counts as the same).
  bool SameEntry(const CredentialDocument& other, const std::string& key) const;

 private:
  explicit CredentialDocument(nlohmann::ordered_json root) : root_(std::move(root)) {}

  // The JSON slot of credential key `key` (null when absent); Slot() creates the path to it.
  const nlohmann::ordered_json* Find(const std::string& key) const;
  nlohmann::ordered_json& Slot(const std::string& key);

  nlohmann::ordered_json root_;
};

// The typed view of one entry. Exposed for tests and for the codec's callers.
Credential CredentialFromEntry(const nlohmann::ordered_json& entry);

}  // namespace operator_auth
