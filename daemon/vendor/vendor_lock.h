// The lock a vendor's CLI takes around a refresh of its credential file, taken the way the CLI
// takes it, so the daemon and the CLI never both refresh one token. Every such lock today is
// npm proper-lockfile's (moxystudio/node-proper-lockfile lib/lockfile.js): mkdir(2) of the lock
// directory is the acquisition; the holder renews the directory's mtime every `update`; a
// directory whose mtime is older than `stale` belongs to a dead holder and is removed by the next
// taker. VendorLock speaks exactly that: it retries a held lock until a deadline, takes over a
// stale one, and renews its own mtime on a thread while held.
// Movable, not copyable; the lock is released (rmdir) when the VendorLock is destroyed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/vendor/vendor_format.h"

namespace operator_auth {

class VendorLock {
 public:
  // Takes every lock of `specs` in order, waiting up to `timeout` in all. UNAVAILABLE naming the
  // lock when one stays held by a live holder past the timeout (nothing is held then).
  static absl::StatusOr<VendorLock> Acquire(const std::vector<VendorLockSpec>& specs,
                                            absl::Duration timeout);

  VendorLock(VendorLock&&) noexcept;
  VendorLock& operator=(VendorLock&&) noexcept;
  ~VendorLock();

 private:
  struct Held;
  explicit VendorLock(std::unique_ptr<Held> held);
  std::unique_ptr<Held> held_;
};

}  // namespace operator_auth
