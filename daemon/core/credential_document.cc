#include "daemon/core/credential_document.h"

#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/credential_key.h"
#include "daemon/core/json_object_text.h"

namespace operator_auth {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kAccountsKey[] = "_accounts";
constexpr char kDefaultNameKey[] = "default";
constexpr char kNamedKey[] = "named";

// The "_accounts" section must have the shape its readers expect; anything else is refused at
// parse time, so that no write can replace what a person or another tool put there.
absl::Status ValidateAccounts(const Json& root) {
  auto accounts = root.find(kAccountsKey);
  if (accounts == root.end()) return absl::OkStatus();
  if (!accounts->is_object()) {
    return absl::InvalidArgumentError("\"_accounts\" is not a JSON object");
  }
  for (const auto& [provider, section] : accounts->items()) {
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("\"_accounts\" entry \"", provider,
                                                     "\": ", why));
    };
    if (!section.is_object()) return bad("is not a JSON object");
    auto name = section.find(kDefaultNameKey);
    if (name != section.end() &&
        (!name->is_string() || !ValidateAccountName(name->get<std::string>()).ok())) {
      return bad("\"default\" is not an account name");
    }
    auto named = section.find(kNamedKey);
    if (named != section.end()) {
      if (!named->is_object()) return bad("\"named\" is not a JSON object");
      for (const auto& [account, entry] : named->items()) {
        if (!ValidateAccountName(account).ok()) return bad("holds an invalid account name");
      }
    }
  }
  return absl::OkStatus();
}

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
  if (absl::Status s = ValidateAccounts(*root); !s.ok()) return s;
  return CredentialDocument(*std::move(root));
}

std::string CredentialDocument::Serialize() const { return PrintJsonText(root_); }

std::map<std::string, Credential> CredentialDocument::Credentials() const {
  std::map<std::string, Credential> out;
  for (const auto& [id, entry] : root_.items()) {
    if (id != kAccountsKey) out.emplace(id, CredentialFromEntry(entry));
  }
  auto accounts = root_.find(kAccountsKey);
  if (accounts == root_.end()) return out;
  for (const auto& [provider, section] : accounts->items()) {
    auto named = section.find(kNamedKey);
    if (named == section.end()) continue;
    for (const auto& [account, entry] : named->items()) {
      out.emplace(CredentialKey(provider, account), CredentialFromEntry(entry));
    }
  }
  return out;
}

std::map<std::string, std::string> CredentialDocument::DefaultAccountNames() const {
  std::map<std::string, std::string> out;
  auto accounts = root_.find(kAccountsKey);
  if (accounts == root_.end()) return out;
  for (const auto& [provider, section] : accounts->items()) {
    auto name = section.find(kDefaultNameKey);
    if (name != section.end()) out.emplace(provider, name->get<std::string>());
  }
  return out;
}

const Json* CredentialDocument::Find(const std::string& key) const {
  const absl::string_view account = AccountOfKey(key);
  if (account.empty()) {
    auto it = root_.find(key);
    return it == root_.end() || key == kAccountsKey ? nullptr : &*it;
  }
  auto accounts = root_.find(kAccountsKey);
  if (accounts == root_.end()) return nullptr;
  auto section = accounts->find(std::string(ProviderOfKey(key)));
  if (section == accounts->end()) return nullptr;
  auto named = section->find(kNamedKey);
  if (named == section->end()) return nullptr;
  auto it = named->find(std::string(account));
  return it == named->end() ? nullptr : &*it;
}

Json& CredentialDocument::Slot(const std::string& key) {
  const absl::string_view account = AccountOfKey(key);
  if (account.empty()) return root_[key];
  return root_[kAccountsKey][std::string(ProviderOfKey(key))][kNamedKey][std::string(account)];
}

absl::StatusOr<bool> CredentialDocument::SetDefaultAccount(const std::string& provider,
                                                           const std::string& account) {
  std::string current = kDefaultAccountName;
  if (auto names = DefaultAccountNames(); names.contains(provider)) current = names.at(provider);
  if (account == current) return false;
  const Json* chosen = Find(CredentialKey(provider, account));
  if (chosen == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(provider, " has no account named \"", account, "\""));
  }
  if (Find(CredentialKey(provider, current)) != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "providers.json holds both a default ", provider, " account and a named one called \"",
        current, "\"; rename or remove one by hand first"));
  }
  Json entry = *chosen;
  Remove(CredentialKey(provider, account));
  if (auto old = root_.find(provider); old != root_.end()) {
    Slot(CredentialKey(provider, current)) = *old;
  }
  root_[provider] = std::move(entry);
  root_[kAccountsKey][provider][kDefaultNameKey] = account;
  return true;
}

bool CredentialDocument::Replace(const std::string& id, const Credential& credential) {
  const bool existed = Remove(id);
  Put(id, credential);
  return existed;
}

bool CredentialDocument::Put(const std::string& id, const Credential& credential) {
  const Json* it = Find(id);
  const bool existed = it != nullptr;
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
  Slot(id) = std::move(entry);
  return existed;
}

bool CredentialDocument::Remove(const std::string& id) {
  const absl::string_view account = AccountOfKey(id);
  if (account.empty()) return id != kAccountsKey && root_.erase(id) > 0;
  if (Find(id) == nullptr) return false;
  // Drop the objects the removal leaves empty, so that the file looks as if never touched.
  Json& accounts = root_[kAccountsKey];
  const std::string provider(ProviderOfKey(id));
  Json& section = accounts[provider];
  Json& named = section[kNamedKey];
  named.erase(std::string(account));
  if (named.empty()) section.erase(kNamedKey);
  if (section.empty()) accounts.erase(provider);
  if (accounts.empty()) root_.erase(kAccountsKey);
  return true;
}

bool CredentialDocument::Contains(const std::string& id) const { return Find(id) != nullptr; }

bool CredentialDocument::CopyEntry(const CredentialDocument& from, const std::string& key) {
  const Json* entry = from.Find(key);
  if (entry == nullptr) return false;
  Slot(key) = *entry;
  return true;
}

bool CredentialDocument::CopyDefaultAccountName(const CredentialDocument& from,
                                                const std::string& provider) {
  const std::map<std::string, std::string> theirs = from.DefaultAccountNames();
  auto name = theirs.find(provider);
  if (name == theirs.end() || DefaultAccountNames().contains(provider)) return false;
  if (Find(CredentialKey(provider, name->second)) != nullptr) return false;
  root_[kAccountsKey][provider][kDefaultNameKey] = name->second;
  return true;
}

bool CredentialDocument::SameEntry(const CredentialDocument& other, const std::string& key) const {
  const Json* mine = Find(key);
  const Json* theirs = other.Find(key);
  if (mine == nullptr || theirs == nullptr) return mine == theirs;
  return *mine == *theirs;
}

}  // namespace operator_auth
