#include "daemon/core/client_rules.h"

#include <fnmatch.h>

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/credential_key.h"
#include "common/provider_id.h"
#include "daemon/core/channel_catalog.h"

namespace operator_auth {
namespace {

constexpr absl::string_view kChannelPrefix = "channel:";

bool IsPrintableWord(absl::string_view text) {
  for (char c : text) {
    if (c <= 0x20 || c > 0x7E) return false;
  }
  return true;
}

bool GlobMatches(const std::string& glob, const std::string& value) {
  // Unknown (unreadable) values match nothing, not even "*".
  return !value.empty() && fnmatch(glob.c_str(), value.c_str(), 0) == 0;
}

}  // namespace

absl::StatusOr<ClientRules> ClientRules::Create(std::vector<ClientRule> rules,
                                                ClientsDefault default_decision,
                                                const ProviderRegistry& registry) {
  if (rules.size() > kMaxRules) {
    return absl::InvalidArgumentError(absl::StrCat("clients: at most ", kMaxRules, " rules"));
  }
  ClientRules out;
  out.default_ = default_decision;
  out.aliases_ = registry.aliases();
  absl::flat_hash_set<std::string> names;
  for (size_t i = 0; i < rules.size(); ++i) {
    ClientRule& rule = rules[i];
    const std::string where =
        IsPrintableWord(rule.name) && !rule.name.empty() && rule.name.size() <= kMaxNameBytes
            ? absl::StrCat("clients[", i, "] (\"", rule.name, "\")")
            : absl::StrCat("clients[", i, "]");
    auto error = [&where](absl::string_view field, absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", field, ": ", what));
    };
    if (rule.name.empty()) return error("name", "required");
    if (rule.name.size() > kMaxNameBytes || !IsPrintableWord(rule.name)) {
      return error("name", absl::StrCat("must be 1-", kMaxNameBytes,
                                        " printable ASCII characters without spaces"));
    }
    if (!names.insert(rule.name).second) return error("name", "another rule has the same name");
    if (rule.exe.empty() && rule.unit.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": needs \"exe\", \"unit\" or both to say which clients it is for"));
    }
    if (rule.exe.size() > kMaxGlobBytes) return error("exe", "is too long");
    if (rule.unit.size() > kMaxGlobBytes) return error("unit", "is too long");
    if (!rule.exe.empty() && rule.exe[0] != '/' && rule.exe[0] != '*') {
      return error("exe", "must be an absolute path glob (the peer's exe is an absolute path)");
    }
    if (absl::StrContains(rule.unit, '/')) {
      return error("unit",
                   "must match a unit name (\"agent.service\", \"app-*.scope\"), not a "
                   "cgroup path");
    }
    if (rule.allow.size() > kMaxAllowEntries) {
      return error("allow", absl::StrCat("at most ", kMaxAllowEntries, " entries"));
    }
    Compiled compiled{rule.name, std::move(rule.exe), std::move(rule.unit), {}};
    for (size_t j = 0; j < rule.allow.size(); ++j) {
      absl::string_view entry = rule.allow[j];
      const std::string field = absl::StrCat("allow[", j, "]");
      Grant grant;
      if (entry == "*") {
        grant.kind = Grant::Kind::kEverything;
      } else if (absl::ConsumePrefix(&entry, kChannelPrefix)) {
        if (entry == "*") {
          grant.kind = Grant::Kind::kAllChannels;
        } else {
          absl::StatusOr<const ChannelDefinition*> channel = FindChannel(entry);
          if (!channel.ok()) return error(field, channel.status().message());
          grant.kind = Grant::Kind::kChannel;
          grant.name = std::string((*channel)->name);
        }
      } else {
        absl::string_view provider = entry;
        absl::string_view account;
        const size_t at = entry.find('@');
        if (at != absl::string_view::npos) {
          provider = entry.substr(0, at);
          account = entry.substr(at + 1);
          if (absl::Status valid = ValidateAccountName(account); !valid.ok()) {
            return error(field, absl::StrCat("the part after '@': ", valid.message()));
          }
        }
        if (absl::Status s = ValidateProviderId(provider); !s.ok()) {
          return error(field, absl::StrCat("must be \"*\", \"PROVIDER\", \"PROVIDER@ACCOUNT\", "
                                           "\"channel:NAME\" or \"channel:*\": ",
                                           s.message()));
        }
        grant.kind = at == absl::string_view::npos ? Grant::Kind::kProvider : Grant::Kind::kAccount;
        grant.provider = registry.Canonical(provider);
        grant.name = std::string(account);
      }
      compiled.grants.push_back(std::move(grant));
    }
    out.rules_.push_back(std::move(compiled));
  }
  return out;
}

const ClientRules::Compiled* ClientRules::Match(const PeerIdentity* peer) const {
  if (peer == nullptr) return nullptr;
  for (const Compiled& rule : rules_) {
    if (!rule.exe.empty() && !GlobMatches(rule.exe, peer->exe)) continue;
    if (!rule.unit.empty() && !GlobMatches(rule.unit, peer->unit)) continue;
    return &rule;
  }
  return nullptr;
}

ClientDecision ClientRules::Default() const {
  return ClientDecision{default_ == ClientsDefault::kAllow, std::string()};
}

ClientDecision ClientRules::Decide(const PeerIdentity* peer, absl::string_view provider,
                                   absl::string_view account,
                                   absl::string_view default_account) const {
  if (rules_.empty()) return Default();
  const Compiled* rule = Match(peer);
  if (rule == nullptr) return Default();
  auto alias = aliases_.find(provider);
  if (alias != aliases_.end()) provider = alias->second;
  const absl::string_view named = account.empty() ? default_account : account;
  for (const Grant& grant : rule->grants) {
    const bool allowed = grant.kind == Grant::Kind::kEverything ||
                         (grant.kind == Grant::Kind::kProvider && grant.provider == provider) ||
                         (grant.kind == Grant::Kind::kAccount && grant.provider == provider &&
                          !named.empty() && grant.name == named);
    if (allowed) return ClientDecision{true, rule->name};
  }
  return ClientDecision{false, rule->name};
}

ClientDecision ClientRules::DecideChannel(const PeerIdentity* peer,
                                          absl::string_view channel) const {
  if (rules_.empty()) return Default();
  const Compiled* rule = Match(peer);
  if (rule == nullptr) return Default();
  for (const Grant& grant : rule->grants) {
    const bool allowed = grant.kind == Grant::Kind::kEverything ||
                         grant.kind == Grant::Kind::kAllChannels ||
                         (grant.kind == Grant::Kind::kChannel && grant.name == channel);
    if (allowed) return ClientDecision{true, rule->name};
  }
  return ClientDecision{false, rule->name};
}

absl::Status ClientRules::Refusal(const ClientDecision& decision, absl::string_view what) {
  if (decision.rule.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("no client rule matches this client and clients_default is \"deny\": ", what,
                     " is not allowed"));
  }
  return absl::PermissionDeniedError(
      absl::StrCat("client rule \"", decision.rule, "\" does not allow ", what));
}

}  // namespace operator_auth
