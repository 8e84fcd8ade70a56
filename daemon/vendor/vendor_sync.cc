#include "daemon/vendor/vendor_sync.h"

#include <limits.h>
#include <stdlib.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/credential_key.h"
#include "daemon/core/file_change_watch.h"
#include "daemon/core/posix_error.h"
#include "daemon/core/thread_start.h"
#include "daemon/vendor/vendor_file.h"
#include "daemon/vendor/vendor_format.h"
#include "daemon/vendor/vendor_lock.h"
#include "spdlog/spdlog.h"

namespace operator_auth {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kLinksFile[] = "vendor_links.json";

std::unique_ptr<FileChangeWatch> WatchOf(const std::string& path) {
  const std::filesystem::path p(path);
  return std::make_unique<FileChangeWatch>(p.parent_path().string(), p.filename().string());
}

// A vendor's file as read: its JSON, and the logins in it.
struct VendorFileContents {
  Json json;
  std::vector<VendorLogin> logins;
};

// Reads and parses the vendor's file at `path`; nullopt when it does not exist. The errors of
// ReadVendorFile, or FAILED_PRECONDITION naming the path and the field for a file not in the
// vendor's shape.
absl::StatusOr<std::optional<VendorFileContents>> ReadLogins(const VendorFormat& format,
                                                             const std::string& path,
                                                             const TrustBoundary& boundary) {
  absl::StatusOr<std::optional<Json>> file = ReadVendorFile(path, boundary);
  if (!file.ok()) return file.status();
  if (!file->has_value()) return std::nullopt;
  absl::StatusOr<std::vector<VendorLogin>> logins = format.Read(**file);
  if (!logins.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", logins.status().message()));
  }
  return VendorFileContents{**std::move(file), *std::move(logins)};
}

const Credential* Find(const std::map<std::string, Credential>& credentials,
                       const std::string& provider) {
  auto it = credentials.find(provider);
  return it == credentials.end() ? nullptr : &it->second;
}

}  // namespace

struct VendorSync::LinkState {
  // Serializes looks at this link and refreshes of its providers.
  std::mutex mu;
  VendorLink link;                              // guarded by mu
  std::unique_ptr<FileChangeWatch> watch;       // guarded by mu
  absl::Time last_look = absl::InfinitePast();  // guarded by mu

  // What status, the links file and RenewLead read without waiting for a refresh holding `mu`.
  mutable absl::Mutex published_mu;
  VendorLink published ABSL_GUARDED_BY(published_mu);
  absl::Time last_sync ABSL_GUARDED_BY(published_mu) = absl::InfinitePast();
  std::string last_error ABSL_GUARDED_BY(published_mu);

  void Publish(const absl::Status& outcome) {
    absl::MutexLock lock(&published_mu);
    published = link;
    if (outcome.ok()) {
      last_sync = absl::Now();
      last_error.clear();
    } else {
      last_error = std::string(outcome.message());
    }
  }
  VendorLink Published() const {
    absl::MutexLock lock(&published_mu);
    return published;
  }
  VendorLinkStatus Status() const;
};

// Kept by the RefreshCoordinator from BeforeRefresh until the refreshed token is written.
// Members are released in reverse order: the vendor's lock first, then the link.
struct VendorSync::RefreshHold {
  std::shared_ptr<LinkState> state;
  std::unique_lock<std::mutex> guard;
  std::optional<VendorLock> vendor_lock;
};

VendorSync::VendorSync(AuthStorage& storage, RefreshCoordinator& coordinator,
                       std::string auth_directory, TrustBoundary boundary, Options options)
    : storage_(storage),
      coordinator_(coordinator),
      auth_directory_(std::move(auth_directory)),
      boundary_(std::move(boundary)),
      options_(options) {}

VendorSync::~VendorSync() {
  if (storage_listener_ != 0) storage_.RemoveChangeListener(storage_listener_);
  {
    absl::MutexLock lock(&wake_mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

std::string VendorSync::LinksPath() const { return absl::StrCat(auth_directory_, "/", kLinksFile); }

absl::Status VendorSync::Load() {
  absl::StatusOr<std::vector<VendorLink>> links = LoadVendorLinks(LinksPath());
  absl::MutexLock lock(&mu_);
  if (!links.ok()) {
    load_error_ = std::string(links.status().message());
    spdlog::error("vendor links: {}; no vendor file is kept in sync", load_error_);
    return links.status();
  }
  if (!options_.keep_in_sync_refused.empty() && !links->empty()) {
    load_error_ = absl::StrCat(links->size(), " vendor link(s) in ", LinksPath(),
                               " are not kept in sync: ", options_.keep_in_sync_refused,
                               "; the file is left as it is, for when this daemon leaves the "
                               "fleet");
    spdlog::error("vendor links: {}", load_error_);
    return absl::FailedPreconditionError(load_error_);
  }
  for (VendorLink& link : *links) {
    auto state = std::make_shared<LinkState>();
    state->watch = WatchOf(link.path);
    state->link = std::move(link);
    state->Publish(absl::OkStatus());
    links_[state->link.source] = std::move(state);
  }
  return absl::OkStatus();
}

void VendorSync::Start() {
  storage_listener_ = storage_.AddChangeListener([this] {
    absl::MutexLock lock(&wake_mu_);
    storage_changed_ = true;
  });
  absl::StatusOr<std::thread> thread = StartThread("the vendor sync thread", [this] { Loop(); });
  if (!thread.ok()) {
    spdlog::error("{}; vendor files are synced only around refreshes",
                  std::string(thread.status().message()));
    return;
  }
  thread_ = *std::move(thread);
}

void VendorSync::Loop() {
  // At most one look a second, whatever wakes it: a storage change is only noted here, never a
  // reason to spin (Snapshot() below may itself report a change, which other threads hear too).
  while (true) {
    {
      absl::MutexLock lock(&wake_mu_);
      wake_mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.poll_interval);
      if (stopping_) return;
    }
    {
      absl::MutexLock lock(&mu_);
      if (links_.empty()) continue;  // nothing linked: no file to read, no snapshot to take
    }
    storage_.Snapshot();  // reads another process's write, which the listener notes
    bool storage_changed = false;
    {
      absl::MutexLock lock(&wake_mu_);
      storage_changed = std::exchange(storage_changed_, false);
    }
    SyncAll(storage_changed);
  }
}

void VendorSync::SyncAll(bool force) {
  std::vector<std::shared_ptr<LinkState>> states;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [source, state] : links_) states.push_back(state);
  }
  const absl::Time now = absl::Now();
  for (const std::shared_ptr<LinkState>& state : states) {
    std::unique_lock<std::mutex> guard(state->mu);
    const bool changed = state->watch->Changed();
    if (!force && !changed && now - state->last_look < options_.full_look) continue;
    state->last_look = now;
    absl::Status outcome = Reconcile(*state, /*locks_held=*/false);
    if (!outcome.ok()) {
      spdlog::warn("keeping {} in sync: {}", state->link.path, std::string(outcome.message()));
    }
    state->Publish(outcome);
  }
}

absl::Status VendorSync::Reconcile(LinkState& state, bool locks_held) {
  const VendorFormat& format = VendorFormatFor(state.link.source);
  const std::string& path = state.link.path;
  std::optional<VendorLock> vendor_lock;
  while (true) {
    absl::StatusOr<std::optional<VendorFileContents>> file = ReadLogins(format, path, boundary_);
    if (!file.ok()) return file.status();
    std::map<std::string, Credential> theirs;
    if (file->has_value()) {
      for (VendorLogin& login : (*file)->logins) {
        theirs.emplace(login.provider, std::move(login.credential));
      }
    }
    std::shared_ptr<const CredentialSnapshot> snapshot = storage_.Snapshot();
    if (!snapshot->load_error.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the credentials cannot be read: ", snapshot->load_error));
    }

    // The three-way merge, per provider, against the login both sides held at the last sync.
    std::vector<std::string> adopt, push;
    std::map<std::string, std::string> settled;
    for (const auto& [provider, base] : state.link.synced) {
      const Credential* vendor_side = Find(theirs, provider);
      const Credential* our_side = Find(snapshot->credentials, provider);
      const std::string vendor_print = LoginFingerprint(vendor_side);
      const std::string our_print = LoginFingerprint(our_side);
      if (vendor_print == our_print) {
        if (!vendor_print.empty() && vendor_print != base) settled[provider] = vendor_print;
      } else if (!vendor_print.empty() && vendor_print != base) {
        adopt.push_back(provider);
      } else if (!our_print.empty() && our_print != base && vendor_print == base) {
        push.push_back(provider);
      }
      // Otherwise one side logged out: the other keeps its login, and nothing is carried (a
      // refresh of ours after a logout there must not log the vendor's CLI in again).
    }
    const std::vector<VendorLockSpec> locks = format.Locks(path);
    if ((!adopt.empty() || !push.empty()) && !locks_held && !vendor_lock && !locks.empty()) {
      absl::StatusOr<VendorLock> lock = VendorLock::Acquire(locks, options_.lock_timeout);
      if (!lock.ok()) return lock.status();
      vendor_lock.emplace(*std::move(lock));
      continue;  // read both sides again under the vendor's lock
    }

    if (!adopt.empty()) {
      absl::Status updated =
          storage_.Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
            for (const std::string& provider : adopt) document.Put(provider, theirs.at(provider));
            return true;
          });
      if (!updated.ok()) return updated;
      for (const std::string& provider : adopt) {
        coordinator_.Forget(provider);
        settled[provider] = LoginFingerprint(&theirs.at(provider));
        spdlog::info("took the {} login {} wrote into {}", provider,
                     std::string(VendorSourceName(state.link.source)), path);
      }
    }
    if (!push.empty()) {
      Json updated = file->has_value() ? (*file)->json : Json::object();
      for (const std::string& provider : push) {
        absl::Status written =
            format.Write({provider, snapshot->credentials.at(provider)}, absl::Now(), updated);
        if (!written.ok()) return written;
      }
      absl::Status written = WriteVendorFile(path, updated);
      if (!written.ok()) return written;
      for (const std::string& provider : push) {
        settled[provider] = LoginFingerprint(&snapshot->credentials.at(provider));
        spdlog::info("wrote the {} login into {}", provider, path);
      }
    }
    if (settled.empty()) return absl::OkStatus();
    for (const auto& [provider, print] : settled) state.link.synced[provider] = print;
    state.Publish(absl::OkStatus());
    return SaveLinks();
  }
}

absl::Status VendorSync::SaveLinks() {
  std::vector<VendorLink> links;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [source, state] : links_) links.push_back(state->Published());
  }
  std::lock_guard<std::mutex> lock(save_mu_);
  return SaveVendorLinks(LinksPath(), links);
}

absl::StatusOr<ImportResult> VendorSync::Import(VendorSource source, const std::string& path,
                                                bool keep_in_sync, const std::string& account,
                                                const ProviderCheck& may_import) {
  if (!account.empty()) {
    if (absl::Status s = ValidateAccountName(account); !s.ok()) return s;
  }
  char real[PATH_MAX];
  if (realpath(path.c_str(), real) == nullptr) return PosixError(errno, "resolve", path);
  if (keep_in_sync && !options_.keep_in_sync_refused.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("--keep-in-sync is refused here: ", options_.keep_in_sync_refused,
                     "; a plain import still works"));
  }
  ImportResult result;
  result.path = real;
  const VendorFormat& format = VendorFormatFor(source);

  // The same order as a refresh: the storage's lock, then the vendor's.
  absl::StatusOr<AuthStorage::LockHold> hold = storage_.HoldLock();
  if (!hold.ok()) return hold.status();
  absl::StatusOr<VendorLock> vendor_lock =
      VendorLock::Acquire(format.Locks(result.path), options_.lock_timeout);
  if (!vendor_lock.ok()) return vendor_lock.status();
  absl::StatusOr<std::optional<VendorFileContents>> file =
      ReadLogins(format, result.path, boundary_);
  if (!file.ok()) return file.status();
  if (!file->has_value()) {
    return absl::NotFoundError(absl::StrCat(result.path, " does not exist"));
  }
  const std::vector<VendorLogin>* logins = &(*file)->logins;
  if (logins->empty()) {
    return absl::NotFoundError(absl::StrCat(result.path, " holds no login"));
  }
  if (may_import) {
    for (const VendorLogin& login : *logins) {
      if (absl::Status allowed = may_import(login.provider); !allowed.ok()) return allowed;
    }
  }
  if (keep_in_sync) {
    // One login, one vendor file in step with it: a refresh holds that vendor's lock only, so a
    // second file holding the same login could still be refreshed by its own CLI meanwhile.
    for (const VendorLogin& login : *logins) {
      std::shared_ptr<LinkState> other = StateFor(login.provider);
      if (other == nullptr) continue;
      const VendorLink linked = other->Published();
      if (linked.source == source) continue;  // linking the same source again replaces it
      return absl::FailedPreconditionError(absl::StrCat(
          login.provider, " is already kept in sync with ", VendorSourceName(linked.source),
          "'s file (", linked.path, "); run `operatorctl auth unlink ",
          VendorSourceName(linked.source), "` first"));
    }
  }
  absl::Status updated = storage_.Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
    result.logins.clear();
    const std::map<std::string, std::string> default_names = document.DefaultAccountNames();
    // The credential key a login goes to: the default account unless a named one was asked for.
    auto key_of = [&](const std::string& provider) {
      auto name = default_names.find(provider);
      const std::string& default_name =
          name == default_names.end() ? std::string(kDefaultAccountName) : name->second;
      return account.empty() || account == default_name ? provider
                                                         : CredentialKey(provider, account);
    };
    if (keep_in_sync) {
      for (const VendorLogin& login : *logins) {
        if (key_of(login.provider) != login.provider) {
          return absl::InvalidArgumentError(
              "--keep-in-sync works with the default account only: the vendor's CLI uses that "
              "login for everything; import into a named account without it");
        }
      }
    }
    for (const VendorLogin& login : *logins) {
      // A login of its own: nothing of an earlier one (a project, a host) carries over.
      bool replaced = document.Replace(key_of(login.provider), login.credential);
      result.logins.push_back(
          {login.provider, login.credential.type, login.credential.expires_unix_ms, replaced});
    }
    return true;
  });
  if (!updated.ok()) return updated;
  for (const VendorLogin& login : *logins) {
    coordinator_.Forget(account.empty() ? login.provider : CredentialKey(login.provider, account));
  }
  spdlog::info("imported {} login(s) from {} ({})", logins->size(), result.path,
               std::string(VendorSourceName(source)));
  if (!keep_in_sync) return result;

  auto state = std::make_shared<LinkState>();
  state->link.source = source;
  state->link.path = result.path;
  state->link.linked_unix_ms = absl::ToUnixMillis(absl::Now());
  for (const VendorLogin& login : *logins) {
    state->link.synced[login.provider] = LoginFingerprint(&login.credential);
  }
  state->watch = WatchOf(result.path);
  state->Publish(absl::OkStatus());
  {
    absl::MutexLock lock(&mu_);
    links_[source] = state;
  }
  absl::Status saved = SaveLinks();
  if (!saved.ok()) return saved;
  result.linked = true;
  return result;
}

absl::StatusOr<bool> VendorSync::Unlink(VendorSource source) {
  {
    absl::MutexLock lock(&mu_);
    if (links_.erase(source) == 0) return false;
  }
  absl::Status saved = SaveLinks();
  if (!saved.ok()) return saved;
  spdlog::info("no longer keeping {}'s file in sync", std::string(VendorSourceName(source)));
  return true;
}

std::shared_ptr<VendorSync::LinkState> VendorSync::StateFor(const std::string& provider) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [source, state] : links_) {
    if (state->Published().synced.count(provider) > 0) return state;
  }
  return nullptr;
}

VendorLinkStatus VendorSync::LinkState::Status() const {
  VendorLinkStatus status;
  absl::MutexLock lock(&published_mu);
  status.source = published.source;
  status.path = published.path;
  for (const auto& [id, print] : published.synced) status.providers.push_back(id);
  status.last_sync = last_sync;
  status.last_error = last_error;
  return status;
}

std::optional<VendorLinkStatus> VendorSync::LinkFor(const std::string& provider) const {
  std::shared_ptr<LinkState> state = StateFor(provider);
  if (state == nullptr) return std::nullopt;
  return state->Status();
}

std::vector<VendorLinkStatus> VendorSync::Links() const {
  // Each link's own status: two links may share a provider (Claude Code's and pi's files both
  // hold anthropic-claude-code), so a look-up by provider would list one of them twice.
  std::vector<std::shared_ptr<LinkState>> states;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [source, state] : links_) states.push_back(state);
  }
  std::vector<VendorLinkStatus> out;
  for (const std::shared_ptr<LinkState>& state : states) {
    VendorLinkStatus status = state->Status();
    if (!status.providers.empty()) out.push_back(std::move(status));
  }
  return out;
}

std::string VendorSync::load_error() const {
  absl::MutexLock lock(&mu_);
  return load_error_;
}

absl::StatusOr<RefreshParticipant::Hold> VendorSync::BeforeRefresh(const std::string& provider) {
  std::shared_ptr<LinkState> state = StateFor(provider);
  if (state == nullptr) return Hold();
  auto hold = std::make_shared<RefreshHold>();
  hold->state = state;
  hold->guard = std::unique_lock<std::mutex>(state->mu);
  const VendorFormat& format = VendorFormatFor(state->link.source);
  absl::StatusOr<VendorLock> lock =
      VendorLock::Acquire(format.Locks(state->link.path), options_.lock_timeout);
  if (!lock.ok()) {
    // The vendor's CLI is refreshing this very token: take its result next time.
    state->Publish(lock.status());
    return absl::UnavailableError(lock.status().message());
  }
  hold->vendor_lock.emplace(*std::move(lock));
  absl::Status outcome = Reconcile(*state, /*locks_held=*/true);
  if (!outcome.ok()) {
    // A broken vendor file must not stop the daemon's own refreshes; it is reported in status.
    spdlog::warn("before refreshing {}: {}", provider, std::string(outcome.message()));
  }
  state->Publish(outcome);
  return Hold(hold, hold.get());
}

void VendorSync::AfterRefresh(const std::string& provider) {
  std::shared_ptr<LinkState> state = StateFor(provider);
  if (state == nullptr) return;
  // The RefreshHold of BeforeRefresh holds state->mu and the vendor's lock on this thread.
  absl::Status outcome = Reconcile(*state, /*locks_held=*/true);
  if (!outcome.ok()) {
    spdlog::error("the refreshed {} token could not be written into {}: {}; retrying", provider,
                  state->link.path, std::string(outcome.message()));
  }
  state->Publish(outcome);
}

absl::Duration VendorSync::RenewLead(const std::string& provider) const {
  std::shared_ptr<LinkState> state = StateFor(provider);
  if (state == nullptr) return absl::ZeroDuration();
  return VendorFormatFor(state->Published().source).RefreshLead() + options_.lead_margin;
}

}  // namespace operator_auth
