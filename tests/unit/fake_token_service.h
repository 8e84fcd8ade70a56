// A token endpoint in memory for the unit tests of refreshes: counts calls, can be slow, and can
// fail either way. Each successful Refresh returns "at-N" / "rt-N" (N: the call's number), valid
// for an hour.
#pragma once

#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "daemon/core/oauth_token_service.h"

namespace operator_auth::testing {

class FakeRefresher : public OAuthTokenService {
 public:
  bool CanRefresh(const std::string& provider) const override { return provider != "nope"; }

  absl::StatusOr<Credential> Refresh(const std::string&, const Credential& current) override {
    int n = ++calls;
    if (!entered_once.exchange(true)) entered.Notify();
    if (gate != nullptr) gate->WaitForNotification();
    absl::SleepFor(delay);
    if (!fail_with.ok()) return fail_with;
    Credential fresh = current;
    fresh.access = SecretString("at-" + std::to_string(n));
    fresh.refresh = SecretString("rt-" + std::to_string(n));  // rotated
    fresh.expires_unix_ms = absl::ToUnixMillis(absl::Now() + absl::Hours(1));
    return fresh;
  }

  absl::Status Revoke(const std::string&, const Credential&) override {
    if (revoke_gate != nullptr) revoke_gate->WaitForNotification();
    ++revocations;
    return revoke_with;
  }

  std::atomic<int> calls{0};
  std::atomic<int> revocations{0};
  absl::Status revoke_with;
  absl::Duration delay = absl::ZeroDuration();
  absl::Status fail_with;
  // When set, Refresh() waits for it: a token endpoint that hangs until the test lets it answer.
  absl::Notification* gate = nullptr;
  absl::Notification* revoke_gate = nullptr;  // the same for Revoke()
  absl::Notification entered;                 // the first Refresh() has started
  std::atomic<bool> entered_once{false};
};

}  // namespace operator_auth::testing
