// Where the services ask whether a client may have a credential, and record that it asked: the
// client rules in force (swapped whole at SIGHUP) and the audit sink. One per daemon, shared by
// AuthService and ChannelService.
// Cost per call: a reader lock and the rules' decision (nothing more while no rule is
// configured); a record is built only when there is a sink, once the call has finished.
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "daemon/core/audit_sink.h"
#include "daemon/core/client_rules.h"
#include "daemon/core/peer_identity.h"

namespace operator_auth {

class ClientGate {
 public:
  // The name a provider's default account goes by (ProviderAuthManager::DefaultAccountName), so
  // that a "PROVIDER@ACCOUNT" entry also allows callers that name no account while ACCOUNT is the
  // default. Asked only while rules are in force and the caller names no account.
  using DefaultAccountOf = std::function<std::string(absl::string_view provider)>;

  // `audit` may be null (nothing is recorded); it must outlive the gate. `default_account_of` may
  // be null (callers naming no account then match only "PROVIDER" and "*" entries).
  explicit ClientGate(std::shared_ptr<const ClientRules> rules, AuditSink* audit = nullptr,
                      DefaultAccountOf default_account_of = nullptr);

  // From the next decision on; calls already decided keep their answer.
  void SetRules(std::shared_ptr<const ClientRules> rules);
  std::shared_ptr<const ClientRules> rules() const;

  // OK, or PERMISSION_DENIED naming the rule and "PROVIDER[@ACCOUNT]". While rules are in force
  // an invalid id (provider_id.h) is INVALID_ARGUMENT, as the services would answer anyway.
  // `rule` receives the matched rule's name (empty: none matched).
  absl::Status CheckProvider(const PeerIdentity* peer, absl::string_view provider,
                             absl::string_view account, std::string& rule) const;
  // The same for a chat channel, quoted as "channel:NAME" when it is a plausible name.
  absl::Status CheckChannel(const PeerIdentity* peer, absl::string_view channel,
                            std::string& rule) const;

  bool auditing() const { return audit_ != nullptr; }
  // One audit record for a finished call; nothing when there is no sink. `method` is a static
  // string; `outcome` becomes "ok" or its code's name ("PERMISSION_DENIED").
  void Record(const char* method, PeerIdentityPtr peer, std::string rule, std::string provider,
              std::string account, const absl::Status& outcome) const;

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const ClientRules> rules_ ABSL_GUARDED_BY(mu_);
  AuditSink* const audit_;
  const DefaultAccountOf default_account_of_;
};

}  // namespace operator_auth
