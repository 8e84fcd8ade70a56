#include "daemon/fleet/fleet_storage.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/credential_key.h"
#include "daemon/core/refresh_token_holder.h"
#include "daemon/core/secret_string.h"
#include "spdlog/spdlog.h"

namespace operator_auth {
namespace {

// Update's compare-and-swap retries before it gives up on a document that keeps changing.
constexpr int kMaxSwapAttempts = 8;
// Each member's answer to a status probe: short, since a probe only feeds `daemon status`.
constexpr absl::Duration kProbeTimeout = absl::Milliseconds(500);

CredentialSnapshot SnapshotOf(const CredentialDocument& document) {
  return CredentialSnapshot{document.Credentials(), "", document.DefaultAccountNames()};
}

absl::Status Unavailable(const absl::Status& status, absl::string_view doing) {
  return absl::UnavailableError(absl::StrCat("the fleet's etcd cluster cannot ", doing, " now (",
                                             status.message(),
                                             "); stored credentials are still served"));
}

}  // namespace

// The fleet-wide claim: a key under a lease that a thread of ours renews every third of its TTL
// until the last LockHold copy goes; then the key is deleted and the lease revoked.
class FleetStorage::Claim {
 public:
  Claim(std::shared_ptr<FleetKv> kv, std::string key, int64_t lease, int64_t mod_revision,
        int64_t ttl_seconds)
      : kv_(std::move(kv)), key_(std::move(key)), lease_(lease), mod_revision_(mod_revision) {
    const absl::Duration every = absl::Seconds(ttl_seconds) / 3;
    renewer_ = std::thread([this, every] {
      while (!stop_.WaitForNotificationWithTimeout(every)) {
        absl::StatusOr<int64_t> ttl = kv_->KeepAlive(lease_);
        if (!ttl.ok()) {
          spdlog::warn(
              "fleet claim: renewing its lease failed ({}); another daemon may take the "
              "claim, and the compare-and-swap decides whose token is stored",
              std::string(ttl.status().message()));
        }
      }
    });
  }
  ~Claim() {
    stop_.Notify();
    renewer_.join();
    // Best effort: if the cluster cannot be reached the lease lapses by itself.
    absl::StatusOr<KvSwap> deleted = kv_->DeleteIf(key_, mod_revision_);
    absl::Status revoked = kv_->RevokeLease(lease_);
    if (!deleted.ok() || !revoked.ok()) {
      spdlog::warn("fleet claim: could not release it; it lapses with its lease");
    }
  }

 private:
  const std::shared_ptr<FleetKv> kv_;
  const std::string key_;
  const int64_t lease_;
  const int64_t mod_revision_;
  absl::Notification stop_;
  std::thread renewer_;
};

std::unique_ptr<FleetStorage> FleetStorage::Open(std::shared_ptr<FleetKv> kv, FleetKey key,
                                                 FleetStorageOptions options) {
  std::unique_ptr<FleetStorage> storage(
      new FleetStorage(std::move(kv), std::move(key), std::move(options)));
  const bool synced = storage->Resync();
  {
    absl::MutexLock lock(&storage->mu_);
    storage->resync_needed_ = !synced;
  }
  FleetStorage* raw = storage.get();
  storage->resync_thread_ = std::thread([raw] { raw->ResyncLoop(); });
  return storage;
}

FleetStorage::FleetStorage(std::shared_ptr<FleetKv> kv, FleetKey key, FleetStorageOptions options)
    : kv_(std::move(kv)),
      key_(std::move(key)),
      options_(std::move(options)),
      document_key_(absl::StrCat("/operator-authd/", options_.name, "/providers")),
      claim_key_(absl::StrCat("/operator-authd/", options_.name, "/claim")),
      journal_(options_.journal_directory.empty()
                   ? nullptr
                   : std::make_unique<FleetJournal>(options_.journal_directory, key_,
                                                    options_.name, options_.journal_boundary)),
      snapshot_(std::make_shared<const CredentialSnapshot>()) {
  status_.kind = "fleet";
  status_.location = options_.name;
  status_.reachable = false;
}

FleetStorage::~FleetStorage() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (resync_thread_.joinable()) resync_thread_.join();
  watch_.reset();
}

std::string FleetStorage::Describe() const {
  return absl::StrCat("etcd fleet '", options_.name, "'");
}

absl::StatusOr<CredentialDocument> FleetStorage::Decode(const std::optional<KvEntry>& entry) const {
  if (!entry.has_value()) return CredentialDocument();
  absl::StatusOr<SecretString> text = key_.Open(entry->value, document_key_);
  if (!text.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the fleet's document (revision ", entry->mod_revision,
        ") does not open with this daemon's fleet key (fingerprint ", key_.Fingerprint(),
        "): it was written under another key, or altered. Nothing of it is served or written"));
  }
  absl::StatusOr<CredentialDocument> document = CredentialDocument::Parse(text->view());
  if (!document.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the fleet's document (revision ", entry->mod_revision,
                     ") does not parse: ", document.status().message()));
  }
  return document;
}

void FleetStorage::Install(const CredentialDocument& document, int64_t mod_revision) {
  auto snapshot = std::make_shared<const CredentialSnapshot>(SnapshotOf(document));
  absl::MutexLock lock(&mu_);
  // A watch event and our own write race to install the same revision; never go back.
  if (mod_revision < status_.revision) return;
  const bool was_unhealthy = !status_.reachable;
  status_.reachable = true;
  status_.problem.clear();
  status_.last_event = absl::Now();
  if (mod_revision == status_.revision && !was_unhealthy && snapshot_->load_error.empty()) return;
  status_.revision = mod_revision;
  snapshot_ = std::move(snapshot);
  on_change_.NotifyAll();
}

void FleetStorage::Problem(std::string message) {
  {
    absl::MutexLock lock(&mu_);
    status_.reachable = false;
    if (status_.problem == message) return;  // said once, not at every retry
    status_.problem = message;
  }
  spdlog::warn("{}: {}", Describe(), message);
  errors_.Record(Describe(), std::move(message));
}

bool FleetStorage::Resync() {
  absl::StatusOr<KvRead> read = kv_->Get(document_key_);
  if (!read.ok()) {
    Problem(std::string(Unavailable(read.status(), "be read").message()));
    return false;
  }
  absl::StatusOr<CredentialDocument> document = Decode(read->entry);
  if (!document.ok()) {
    // Serve nothing of a document we cannot open; keep watching for one we can.
    auto broken = std::make_shared<CredentialSnapshot>();
    broken->load_error = std::string(document.status().message());
    Problem(broken->load_error);
    absl::MutexLock lock(&mu_);
    snapshot_ = std::move(broken);
    on_change_.NotifyAll();
  } else {
    Install(*document, read->entry.has_value() ? read->entry->mod_revision : 0);
  }
  watch_.reset();
  absl::StatusOr<std::unique_ptr<KvWatch>> watch = kv_->Watch(
      document_key_, read->revision + 1,
      [this](absl::StatusOr<std::vector<KvEvent>> events) { OnWatch(std::move(events)); });
  if (!watch.ok()) {
    Problem(std::string(Unavailable(watch.status(), "be watched").message()));
    return false;
  }
  watch_ = *std::move(watch);
  if (document.ok()) ReplayJournal();
  return document.ok();
}

void FleetStorage::JournalRefresh(const std::string& key, const SecretString& spent_refresh,
                                  const Credential& fresh) {
  if (journal_ == nullptr) return;
  if (absl::Status s = journal_->Record({key, spent_refresh, fresh}); !s.ok()) {
    spdlog::error(
        "{}: cannot journal the {} token before writing it ({}); a crash before the write "
        "would lose it",
        Describe(), key, std::string(s.message()));
  }
}

void FleetStorage::RefreshSettled(const std::string& key) {
  if (journal_ == nullptr) return;
  if (absl::Status s = journal_->Remove(key); !s.ok()) {
    spdlog::warn("{}: {}", Describe(), std::string(s.message()));
  }
}

void FleetStorage::ReplayJournal() {
  if (journal_ == nullptr) return;
  std::vector<std::string> problems;
  std::vector<FleetJournal::Entry> entries = journal_->Entries(&problems);
  for (std::string& problem : problems) {
    spdlog::error("{}: refresh journal: {}", Describe(), problem);
    errors_.Record(Describe(), std::move(problem));
  }
  for (const FleetJournal::Entry& entry : entries) {
    std::string stored_at;
    absl::Status replayed = Update([&](CredentialDocument& document) -> absl::StatusOr<bool> {
      // Wherever the refresh token the endpoint took is still stored (an `auth default` may have
      // moved the account meanwhile), nobody has stored its successor: ours is the one.
      stored_at = KeyHoldingRefreshToken(document.Credentials(), ProviderOfKey(entry.key),
                                         entry.spent_refresh);
      if (stored_at.empty()) return false;
      document.Put(stored_at, entry.fresh);
      return true;
    });
    if (absl::IsUnavailable(replayed)) return;  // the next successful read tries again
    if (!replayed.ok()) {
      spdlog::error("{}: cannot replay the {} token from the refresh journal: {}", Describe(),
                    entry.key, std::string(replayed.message()));
      continue;
    }
    if (stored_at.empty()) {
      spdlog::info("{}: the refresh journal's {} token is not needed: the fleet holds a newer one",
                   Describe(), entry.key);
    } else {
      spdlog::warn("{}: stored the {} token a refresh left in the journal (as {})", Describe(),
                   entry.key, stored_at);
    }
    (void)journal_->Remove(entry.key);
  }
}

void FleetStorage::OnWatch(absl::StatusOr<std::vector<KvEvent>> events) {
  if (!events.ok()) {
    // Compaction, leader loss or a lost member: read again and watch from there.
    Problem(std::string(Unavailable(events.status(), "be watched").message()));
    absl::MutexLock lock(&mu_);
    resync_needed_ = true;
    return;
  }
  for (const KvEvent& event : *events) {
    if (event.entry.key != document_key_) continue;
    if (event.type == KvEvent::Type::kDelete) {
      Install(CredentialDocument(), event.entry.mod_revision);
      continue;
    }
    absl::StatusOr<CredentialDocument> document = Decode(event.entry);
    if (!document.ok()) {
      Problem(std::string(document.status().message()));
      continue;
    }
    Install(*document, event.entry.mod_revision);
  }
}

void FleetStorage::ResyncLoop() {
  absl::Time next_probe = absl::Now();
  while (true) {
    bool probe;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      // A pending resync goes first: the probe only feeds status.
      probe = !resync_needed_ && absl::Now() >= next_probe;
    }
    if (probe) {
      // Outside mu_: a dead member's probe takes the whole timeout (all members at once).
      std::vector<StorageMember> members = kv_->ProbeMembers(kProbeTimeout);
      next_probe = absl::Now() + options_.probe_every;
      absl::MutexLock lock(&mu_);
      status_.members = std::move(members);
    }
    bool resync;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithDeadline(absl::Condition(this, &FleetStorage::ShouldWake), next_probe);
      if (stopping_) return;
      resync = resync_needed_;
      resync_needed_ = false;
    }
    if (!resync || Resync()) continue;
    absl::MutexLock lock(&mu_);
    resync_needed_ = true;
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.resync_pause);
    if (stopping_) return;
  }
}

std::shared_ptr<const CredentialSnapshot> FleetStorage::Snapshot() {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

StorageStatus FleetStorage::Status() {
  StorageStatus status;
  {
    absl::MutexLock lock(&mu_);
    status = status_;
    status.load_error = snapshot_->load_error;
  }
  status.endpoint = kv_->CurrentEndpoint();
  return status;
}

void FleetStorage::ForceReload() {
  absl::MutexLock lock(&mu_);
  resync_needed_ = true;
}

uint64_t FleetStorage::AddChangeListener(std::function<void()> listener) {
  absl::MutexLock lock(&mu_);
  return on_change_.Add(std::move(listener));
}

void FleetStorage::RemoveChangeListener(uint64_t id) {
  absl::MutexLock lock(&mu_);
  on_change_.Remove(id);
}

absl::StatusOr<bool> FleetStorage::SeedIfEmpty(const CredentialDocument& initial) {
  std::string text = initial.Serialize();
  const std::string sealed = key_.Seal(text, document_key_);
  CleanseString(text);
  absl::StatusOr<KvSwap> swap = kv_->PutIf(document_key_, 0, sealed);
  if (!swap.ok()) return Unavailable(swap.status(), "be written");
  if (swap->succeeded) Install(initial, swap->revision);
  return swap->succeeded;
}

absl::Status FleetStorage::Update(const Mutation& mutate) {
  for (int attempt = 0; attempt < kMaxSwapAttempts; ++attempt) {
    // A linearizable read: the document as the fleet holds it now, not as our watch last saw it.
    absl::StatusOr<KvRead> read = kv_->Get(document_key_);
    if (!read.ok()) return Unavailable(read.status(), "be read");
    absl::StatusOr<CredentialDocument> document = Decode(read->entry);
    if (!document.ok()) return document.status();
    const int64_t expected = read->entry.has_value() ? read->entry->mod_revision : 0;
    absl::StatusOr<bool> changed = mutate(*document);
    if (!changed.ok()) return changed.status();
    if (!*changed) {
      Install(*document, expected);
      return absl::OkStatus();
    }
    std::string text = document->Serialize();
    const std::string sealed = key_.Seal(text, document_key_);
    CleanseString(text);
    // The fence: this write lands only on the revision it was computed from. Whether we still
    // hold the claim does not matter (see the header).
    absl::StatusOr<KvSwap> swap = kv_->PutIf(document_key_, expected, sealed);
    if (!swap.ok()) return Unavailable(swap.status(), "be written");
    if (swap->succeeded) {
      Install(*document, swap->revision);
      return absl::OkStatus();
    }
    // Another daemon wrote in between: apply the change again to what it wrote.
  }
  return absl::AbortedError(absl::StrCat("the fleet's document changed under ", kMaxSwapAttempts,
                                         " writes in a row; try again"));
}

absl::StatusOr<AuthStorage::LockHold> FleetStorage::HoldLock() {
  absl::MutexLock acquiring(&claim_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (std::shared_ptr<Claim> held = claim_.lock()) return LockHold(std::move(held));
  }
  const absl::Time deadline = absl::Now() + options_.lock_timeout;
  std::string holder_seen;
  while (true) {
    // A lease per attempt: one granted before a wait would lapse during it (nobody renews it
    // until the claim is ours), and the put would then fail with "lease not found".
    absl::StatusOr<int64_t> lease = kv_->GrantLease(options_.claim_ttl_seconds);
    if (!lease.ok()) return Unavailable(lease.status(), "grant a refresh claim");
    absl::StatusOr<KvSwap> swap = kv_->PutIf(claim_key_, 0, options_.holder, *lease);
    if (!swap.ok() || !swap->succeeded) kv_->RevokeLease(*lease).IgnoreError();
    if (!swap.ok()) return Unavailable(swap.status(), "grant a refresh claim");
    if (swap->succeeded) {
      auto claim = std::make_shared<Claim>(kv_, claim_key_, *lease, swap->revision,
                                           options_.claim_ttl_seconds);
      absl::MutexLock lock(&mu_);
      claim_ = claim;
      return LockHold(std::move(claim));
    }
    if (swap->current.has_value()) holder_seen = swap->current->value;
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    // Wait for the holder to let go (or its lease to lapse), then try again.
    struct Gone {
      absl::Mutex mu;
      bool gone ABSL_GUARDED_BY(mu) = false;
    };
    auto gone = std::make_shared<Gone>();
    absl::StatusOr<std::unique_ptr<KvWatch>> watch = kv_->Watch(
        claim_key_, swap->revision + 1, [gone](absl::StatusOr<std::vector<KvEvent>> events) {
          bool released = !events.ok();
          if (events.ok()) {
            for (const KvEvent& event : *events) {
              released = released || event.type == KvEvent::Type::kDelete;
            }
          }
          if (!released) return;
          absl::MutexLock lock(&gone->mu);
          gone->gone = true;
        });
    if (!watch.ok()) return Unavailable(watch.status(), "grant a refresh claim");
    absl::MutexLock lock(&gone->mu);
    gone->mu.AwaitWithTimeout(absl::Condition(&gone->gone), left);
  }
  return absl::UnavailableError(
      absl::StrCat("another daemon of the fleet (", holder_seen, ") kept the refresh claim past ",
                   absl::FormatDuration(options_.lock_timeout), "; try again"));
}

}  // namespace operator_auth
