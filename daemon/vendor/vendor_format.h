// How one agent CLI keeps its logins in its own credential file, and what it locks while it
// refreshes them. A format reads the logins the file holds, under our provider ids, and writes
// a login back into the file's JSON, keeping every field it does not own. Formats never see
// the disk: VendorFile reads and writes, VendorLock locks. Immutable; thread-safe.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/vendor_source.h"
#include "daemon/core/credential.h"

namespace operator_auth {

// One login in a vendor's file, under our provider id.
struct VendorLogin {
  std::string provider;
  Credential credential;
};

// A proper-lockfile (npm) lock: a directory made with mkdir(2) beside the file, whose mtime the
// holder renews every `update`; older than `stale`, it is taken as abandoned.
struct VendorLockSpec {
  std::string path;
  absl::Duration stale;
  absl::Duration update;
  // False for a lock a newer version of the CLI takes only besides a required one: skipped when
  // its directory cannot be written (the sandboxed service sees the home read-only).
  bool required = true;
};

class VendorFormat {
 public:
  virtual ~VendorFormat() = default;

  virtual VendorSource source() const = 0;

  // The logins in `file` (the file's top-level object). INVALID_ARGUMENT naming the field, never
  // quoting a value, when the file is not in the vendor's shape; an entry that is not a login we
  // know is skipped, not an error. Empty when the file holds no login.
  virtual absl::StatusOr<std::vector<VendorLogin>> Read(
      const nlohmann::ordered_json& file) const = 0;

  // Stores `login` in `file` the way the vendor's CLI would after its own refresh (`now` is the
  // refresh time), keeping every field the format does not own.
  virtual absl::Status Write(const VendorLogin& login, absl::Time now,
                             nlohmann::ordered_json& file) const = 0;

  // The locks the vendor's CLI takes around a refresh of the file at `path`, in the order to
  // take them (empty: the vendor locks nothing).
  virtual std::vector<VendorLockSpec> Locks(const std::string& path) const = 0;

  // How long before expiry the vendor's CLI refreshes by itself: the daemon renews a synced
  // token well before that.
  virtual absl::Duration RefreshLead() const = 0;
};

// The format of `source`'s file. Static lifetime.
const VendorFormat& VendorFormatFor(VendorSource source);

// The formats, one per file.
const VendorFormat& ClaudeCodeCredentialsFormat();
const VendorFormat& CodexAuthFormat();
const VendorFormat& GeminiOAuthCredsFormat();
const VendorFormat& PiAuthFormat();

}  // namespace operator_auth
