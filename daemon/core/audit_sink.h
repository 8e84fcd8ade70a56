// The audit trail's interface: one record for every credential handed out or changed (who, what,
// outcome), never a secret. The service layer records; AuditLog (audit_log.h) writes the records
// to auth/audit.jsonl. Record() is on the GetApiKey hot path: it never blocks on I/O and never
// fails the call (a full queue drops and counts).
#pragma once

#include <string>

#include "absl/time/time.h"
#include "daemon/core/peer_identity.h"

namespace operator_auth {

struct AuditRecord {
  absl::Time time;
  PeerIdentityPtr peer;  // null when the connection's identity is unknown
  std::string rule;      // the client rule that matched the peer; empty when none did
  const char* method = "";  // the RPC: "GetApiKey", "SetApiKey", "Login", ... (static string)
  std::string provider;  // the canonical id (as requested when it did not resolve)
  std::string account;   // the account name; empty for the provider's default account
  // "ok", or the status code's name ("PERMISSION_DENIED", "NOT_FOUND", ...).
  std::string outcome;
};

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Thread-safe, non-blocking.
  virtual void Record(AuditRecord record) = 0;
};

}  // namespace operator_auth
