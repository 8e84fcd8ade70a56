// Client rules (authd.json "clients", README "Client rules"): which credentials a client gets,
// told apart by the process on the other end of its connection (PeerIdentity). A rule names the
// clients it is for by an `exe` glob, a `unit` glob or both (both must then match), and lists
// what they may have in `allow`:
//   "*"                every provider, account and channel
//   "PROVIDER"         every account of that provider (an alias stands for its provider)
//   "PROVIDER@ACCOUNT" that account only
//   "channel:NAME"     that chat channel; "channel:*" every channel
// The first rule that matches the client decides, and allows only what it lists. A client no
// rule matches gets everything, or nothing when the default is deny. A client whose identity is
// unknown (null), and an exe or unit that could not be read, match no glob.
// Globs are fnmatch(3) without flags: `*` also matches `/`, so "/opt/agents/*" covers the whole
// tree below it; a unit glob is matched against the unit's name alone ("agent-*.scope").
// Immutable once built; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/core/peer_identity.h"
#include "daemon/core/provider_registry.h"

namespace operator_auth {

// One rule as written in authd.json.
struct ClientRule {
  std::string name;
  std::string exe;   // empty: not matched on
  std::string unit;  // empty: not matched on
  std::vector<std::string> allow;
};

enum class ClientsDefault { kAllow, kDeny };

struct ClientDecision {
  bool allowed = true;
  std::string rule;  // the rule that matched the client; empty when none did
};

class ClientRules {
 public:
  static constexpr size_t kMaxRules = 256;
  static constexpr size_t kMaxAllowEntries = 256;
  static constexpr size_t kMaxNameBytes = 64;
  static constexpr size_t kMaxGlobBytes = 4096;

  // No rules, default allow: everything to everyone, as before rules existed.
  ClientRules() = default;

  // Checks and compiles `rules`; `registry` maps aliases in `allow` (and in requests later) to
  // provider ids. INVALID_ARGUMENT naming the rule ("clients[2] (\"agent\").allow[1]: ...")
  // when a rule has no or a duplicate name, neither exe nor unit, a glob that can never match
  // (an exe glob that starts with neither '/' nor '*', a unit glob with '/'), or an allow entry
  // that is not one of the forms above (a provider id per provider_id.h, a known channel).
  static absl::StatusOr<ClientRules> Create(std::vector<ClientRule> rules,
                                            ClientsDefault default_decision,
                                            const ProviderRegistry& registry);

  // May `peer` have `provider`'s (an id or an alias) credential of `account`? `account` empty
  // means the provider's default account, whose name `default_account` gives when the caller
  // knows it (a "PROVIDER@ACCOUNT" entry then allows the default account too).
  ClientDecision Decide(const PeerIdentity* peer, absl::string_view provider,
                        absl::string_view account, absl::string_view default_account = {}) const;
  // May `peer` have the chat channel `channel`'s credentials?
  ClientDecision DecideChannel(const PeerIdentity* peer, absl::string_view channel) const;

  // PERMISSION_DENIED for a refused `decision`: names the rule (or the default) and `what` (e.g.
  // "anthropic@work", "channel:telegram"); never a secret.
  static absl::Status Refusal(const ClientDecision& decision, absl::string_view what);

  // True when every client gets everything (no rules and default allow): callers may skip the
  // decision.
  bool AllowsEverything() const { return rules_.empty() && default_ == ClientsDefault::kAllow; }
  size_t size() const { return rules_.size(); }
  ClientsDefault default_decision() const { return default_; }

 private:
  struct Grant {
    enum class Kind { kEverything, kProvider, kAccount, kChannel, kAllChannels };
    Kind kind = Kind::kEverything;
    std::string provider;  // canonical id (kProvider, kAccount)
    std::string name;      // the account (kAccount) or the channel (kChannel)
  };
  struct Compiled {
    std::string name;
    std::string exe;
    std::string unit;
    std::vector<Grant> grants;
  };

  const Compiled* Match(const PeerIdentity* peer) const;
  ClientDecision Default() const;

  std::vector<Compiled> rules_;
  ClientsDefault default_ = ClientsDefault::kAllow;
  ProviderAliasMap aliases_;
};

}  // namespace operator_auth
