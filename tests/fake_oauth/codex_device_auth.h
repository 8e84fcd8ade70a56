// The fake OpenAI device-code login that codex-rs codex-rs/login/src/device_code_auth.rs drives:
// POST /api/accounts/deviceauth/usercode hands out a device_auth_id and user code, and
// POST /api/accounts/deviceauth/token is pending (HTTP 403) a configured number of times, then
// answers with an authorization code and the PKCE pair the server made for it. The client
// redeems that code at /token with redirect_uri <issuer>/deviceauth/callback, so approval issues
// the code in the TokenStore. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "tests/fake_oauth/token_store.h"

namespace operator_auth::testing {

struct CodexUserCode {
  std::string device_auth_id;  // "dev-auth-<n>"
  std::string user_code;       // "ABCD-1234"
  int interval_s = 0;
};

struct CodexDevicePoll {
  enum class State {
    kPending,        // not approved yet (the real server answers 403)
    kApproved,       // the fields below are set; the device authorization is spent
    kUnknown,        // device_auth_id never issued or already spent
    kWrongUserCode,  // device_auth_id known, user_code not its own
  };
  State state = State::kUnknown;
  std::string authorization_code;
  std::string code_challenge;  // S256 of code_verifier
  std::string code_verifier;
};

class CodexDeviceAuth {
 public:
  // Bytes of randomness in a generated code_verifier (hex-encoded: 64 characters, within
  // RFC 7636's 43 to 128).
  static constexpr size_t kVerifierBytes = 32;

  // `tokens` must outlive this object.
  CodexDeviceAuth(TokenStore& tokens, int pending_polls, int interval_s);

  CodexUserCode Start(const std::string& client_id);
  // On approval, the authorization code is issued in the TokenStore bound to the client_id given
  // to Start(), `redirect_uri` and the generated code_challenge.
  CodexDevicePoll Poll(const std::string& device_auth_id, const std::string& user_code,
                       const std::string& redirect_uri);

 private:
  struct Pending {
    std::string client_id;
    std::string user_code;
    int pending_polls_left = 0;
  };

  TokenStore& tokens_;
  const int pending_polls_;
  const int interval_s_;
  absl::Mutex mu_;
  int64_t serial_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Pending> pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace operator_auth::testing
