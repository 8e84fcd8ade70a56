// The providers.json document: an ordered JSON object of provider id -> entry. It is the unit of
// read-modify-write: parse the file, change some entries, serialize. Entries and fields this daemon
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

  // The typed view of every entry, keyed by provider id.
  std::map<std::string, Credential> Credentials() const;

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

 private:
  explicit CredentialDocument(nlohmann::ordered_json root) : root_(std::move(root)) {}

  nlohmann::ordered_json root_;
};

// The typed view of one entry. Exposed for tests and for the codec's callers.
Credential CredentialFromEntry(const nlohmann::ordered_json& entry);

}  // namespace operator_auth
