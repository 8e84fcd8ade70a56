#include "tests/fake_oauth/codex_device_auth.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "tests/fake_oauth/token_encoding.h"

namespace operator_auth::testing {

CodexDeviceAuth::CodexDeviceAuth(TokenStore& tokens, int pending_polls, int interval_s)
    : tokens_(tokens), pending_polls_(pending_polls), interval_s_(interval_s) {}

CodexUserCode CodexDeviceAuth::Start(const std::string& client_id) {
  std::string user_code = RandomUserCode();
  absl::MutexLock lock(&mu_);
  std::string device_auth_id = absl::StrCat("dev-auth-", ++serial_);
  pending_[device_auth_id] = Pending{client_id, user_code, pending_polls_};
  return CodexUserCode{std::move(device_auth_id), std::move(user_code), interval_s_};
}

CodexDevicePoll CodexDeviceAuth::Poll(const std::string& device_auth_id,
                                      const std::string& user_code,
                                      const std::string& redirect_uri) {
  CodexDevicePoll poll;
  std::string client_id;
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(device_auth_id);
    if (it == pending_.end()) {
      poll.state = CodexDevicePoll::State::kUnknown;
      return poll;
    }
    if (it->second.user_code != user_code) {
      poll.state = CodexDevicePoll::State::kWrongUserCode;
      return poll;
    }
    if (it->second.pending_polls_left > 0) {
      --it->second.pending_polls_left;
      poll.state = CodexDevicePoll::State::kPending;
      return poll;
    }
    client_id = std::move(it->second.client_id);
    pending_.erase(it);
  }
  // Outside mu_: the TokenStore has its own lock.
  poll.state = CodexDevicePoll::State::kApproved;
  poll.code_verifier = RandomHex(kVerifierBytes);
  poll.code_challenge = S256Challenge(poll.code_verifier);
  poll.authorization_code =
      tokens_.IssueAuthorizationCode(client_id, redirect_uri, poll.code_challenge);
  return poll;
}

}  // namespace operator_auth::testing
