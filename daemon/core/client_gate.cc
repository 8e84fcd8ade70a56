#include "daemon/core/client_gate.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/provider_id.h"
#include "daemon/core/channel_catalog.h"

namespace operator_auth {

ClientGate::ClientGate(std::shared_ptr<const ClientRules> rules, AuditSink* audit,
                       DefaultAccountOf default_account_of)
    : rules_(rules != nullptr ? std::move(rules) : std::make_shared<const ClientRules>()),
      audit_(audit),
      default_account_of_(std::move(default_account_of)) {}

void ClientGate::SetRules(std::shared_ptr<const ClientRules> rules) {
  if (rules == nullptr) rules = std::make_shared<const ClientRules>();
  absl::MutexLock lock(&mu_);
  rules_.swap(rules);
  // The old rules are released here, outside no lock of a caller's.
}

std::shared_ptr<const ClientRules> ClientGate::rules() const {
  absl::ReaderMutexLock lock(&mu_);
  return rules_;
}

absl::Status ClientGate::CheckProvider(const PeerIdentity* peer, absl::string_view provider,
                                       absl::string_view account, std::string& rule) const {
  ClientDecision decision;
  std::shared_ptr<const ClientRules> rules;
  {
    absl::ReaderMutexLock lock(&mu_);
    if (rules_->AllowsEverything()) return absl::OkStatus();
    rules = rules_;
  }
  // Only a valid id is quoted in a refusal (a key pasted in its place is not).
  if (absl::Status valid = ValidateProviderId(provider); !valid.ok()) return valid;
  const std::string default_account =
      account.empty() && default_account_of_ ? default_account_of_(provider) : std::string();
  decision = rules->Decide(peer, provider, account, default_account);
  rule = std::move(decision.rule);
  if (decision.allowed) return absl::OkStatus();
  decision.rule = rule;
  return ClientRules::Refusal(
      decision, account.empty() ? std::string(provider) : absl::StrCat(provider, "@", account));
}

absl::Status ClientGate::CheckChannel(const PeerIdentity* peer, absl::string_view channel,
                                      std::string& rule) const {
  ClientDecision decision;
  {
    absl::ReaderMutexLock lock(&mu_);
    if (rules_->AllowsEverything()) return absl::OkStatus();
    decision = rules_->DecideChannel(peer, channel);
  }
  rule = std::move(decision.rule);
  if (decision.allowed) return absl::OkStatus();
  decision.rule = rule;
  return ClientRules::Refusal(decision, IsPlausibleChannelName(channel)
                                            ? absl::StrCat("channel:", channel)
                                            : std::string("this channel"));
}

void ClientGate::Record(const char* method, PeerIdentityPtr peer, std::string rule,
                        std::string provider, std::string account,
                        const absl::Status& outcome) const {
  if (audit_ == nullptr) return;
  AuditRecord record;
  record.time = absl::Now();
  record.peer = std::move(peer);
  record.rule = std::move(rule);
  record.method = method;
  record.provider = std::move(provider);
  record.account = std::move(account);
  record.outcome = outcome.ok() ? std::string("ok") : absl::StatusCodeToString(outcome.code());
  audit_->Record(std::move(record));
}

}  // namespace operator_auth
