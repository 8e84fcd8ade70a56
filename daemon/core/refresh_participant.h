// Something outside the storage that holds a copy of a provider's login and must move in step
// with its refreshes: a vendor CLI's credential file the daemon keeps in sync (daemon/vendor).
// The RefreshCoordinator calls it around each refresh of a provider it takes part in; the
// ProactiveRefresher asks it how early to renew. Implementations are thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace operator_auth {

class RefreshParticipant {
 public:
  using Hold = std::shared_ptr<const void>;
  virtual ~RefreshParticipant() = default;

  // Before the stored credential of `provider` is looked at for a refresh, with the storage's
  // lock held: takes what must stay held until the refreshed credential is written everywhere
  // (the vendor's own lock), and brings a change made on its side into the storage first (a new
  // login there is adopted, not refreshed over). Null when it does not take part for
  // `provider`. An error fails the refresh without a network call (UNAVAILABLE: try again).
  virtual absl::StatusOr<Hold> BeforeRefresh(const std::string& provider) = 0;

  // After the refreshed credential of `provider` was written to the storage, with the hold of
  // BeforeRefresh still kept: writes it to the participant's side.
  virtual void AfterRefresh(const std::string& provider) = 0;

  // How long before expiry `provider`'s token must have been renewed at the latest, so the
  // other side never refreshes it by itself (zero when it does not take part).
  virtual absl::Duration RenewLead(const std::string& provider) const = 0;
};

}  // namespace operator_auth
