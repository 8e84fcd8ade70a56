#include "daemon/core/credential_document.h"

#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/core/json_object_text.h"

namespace operator_auth {
namespace {

using Json = nlohmann::ordered_json;

// Reads an optional string field; sets `problem` when the field exists with another type.
std::string StringField(const Json& entry, const char* name, std::string& problem) {
  auto it = entry.find(name);
  if (it == entry.end() || it->is_null()) return {};
  if (!it->is_string()) {
    if (problem.empty()) problem = absl::StrCat("field \"", name, "\" is not a string");
    return {};
  }
  return it->get<std::string>();
}

int64_t ExpiresField(const Json& entry, std::string& problem) {
  auto it = entry.find("expires");
  if (it == entry.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_float()) {
    double v = it->get<double>();
    if (std::isfinite(v) && v >= 0 && v < 9.2e18) return static_cast<int64_t>(v);
  }
  if (problem.empty()) problem = "field \"expires\" is not a number of Unix milliseconds";
  return 0;
}

// The fields of an OAuth entry that Credential holds in typed members, never in `attributes`.
bool IsTypedOAuthField(const std::string& name) {
  return name == "type" || name == "access" || name == "refresh" || name == "expires" ||
         name == "account_id" || name == "accountId";
}

}  // namespace

Credential CredentialFromEntry(const Json& entry) {
  Credential c;
  if (!entry.is_object()) {
    c.problem = "entry is not a JSON object";
    return c;
  }
  auto type = entry.find("type");
  if (type == entry.end() || !type->is_string()) {
    c.problem = "entry has no string \"type\"";
    return c;
  }
  c.type_name = type->get<std::string>();
  if (c.type_name == "api_key") {
    c.type = CredentialType::kApiKey;
    c.key = SecretString(StringField(entry, "key", c.problem));
    if (c.problem.empty() && c.key.empty()) c.problem = "field \"key\" is missing or empty";
  } else if (c.type_name == "oauth") {
    c.type = CredentialType::kOAuth;
    c.access = SecretString(StringField(entry, "access", c.problem));
    c.refresh = SecretString(StringField(entry, "refresh", c.problem));
    c.expires_unix_ms = ExpiresField(entry, c.problem);
    c.account_id = StringField(entry, "account_id", c.problem);
    if (c.account_id.empty()) c.account_id = StringField(entry, "accountId", c.problem);
    if (c.account_id.empty()) {
      // Older writers kept the account id inside "extra".
      auto extra = entry.find("extra");
      if (extra != entry.end() && extra->is_object()) {
        std::string ignored;
        c.account_id = StringField(*extra, "account_id", ignored);
      }
    }
    for (const auto& [name, value] : entry.items()) {
      if (value.is_string() && !IsTypedOAuthField(name)) {
        c.attributes.emplace(name, value.get<std::string>());
      }
    }
    if (c.problem.empty() && c.access.empty() && c.refresh.empty()) {
      c.problem = "OAuth entry has neither \"access\" nor \"refresh\"";
    }
  }
  return c;
}

CredentialDocument::CredentialDocument() : root_(Json::object()) {}

absl::StatusOr<CredentialDocument> CredentialDocument::Parse(absl::string_view text) {
  absl::StatusOr<Json> root = ParseJsonObjectText(text);
  if (!root.ok()) return root.status();
  return CredentialDocument(*std::move(root));
}

std::string CredentialDocument::Serialize() const { return PrintJsonText(root_); }

std::map<std::string, Credential> CredentialDocument::Credentials() const {
  std::map<std::string, Credential> out;
  for (const auto& [id, entry] : root_.items()) out.emplace(id, CredentialFromEntry(entry));
  return out;
}

bool CredentialDocument::Replace(const std::string& id, const Credential& credential) {
  const bool existed = Remove(id);
  Put(id, credential);
  return existed;
}

bool CredentialDocument::Put(const std::string& id, const Credential& credential) {
  auto it = root_.find(id);
  const bool existed = it != root_.end();
  Json entry = Json::object();
  if (existed && it->is_object()) {
    auto type = it->find("type");
    if (type != it->end() && type->is_string() && *type == credential.type_name) entry = *it;
  }
  entry["type"] = credential.type_name;
  switch (credential.type) {
    case CredentialType::kApiKey:
      entry["key"] = credential.key.str();
      break;
    case CredentialType::kOAuth:
      entry["access"] = credential.access.str();
      entry["refresh"] = credential.refresh.str();
      entry["expires"] = credential.expires_unix_ms;
      if (!credential.account_id.empty()) entry["account_id"] = credential.account_id;
      // An attribute never overrides a typed field: a refresh must store its new expiry.
      for (const auto& [name, value] : credential.attributes) {
        if (!IsTypedOAuthField(name)) entry[name] = value;
      }
      break;
    case CredentialType::kUnknown:
      break;
  }
  root_[id] = std::move(entry);
  return existed;
}

bool CredentialDocument::Remove(const std::string& id) { return root_.erase(id) > 0; }

bool CredentialDocument::Contains(const std::string& id) const { return root_.contains(id); }

}  // namespace operator_auth
