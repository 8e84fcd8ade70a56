// Failpoints: named steps of a write or a refresh where a test build can make the daemon die on
// the spot, so that the crash-consistency tests can prove that a crash at any step leaves the
// files whole (ARCHITECTURE.md invariant 2). They exist only in a build configured with
// -DAUTHD_FAILPOINTS=ON (the test build); otherwise every macro below expands to nothing.
//
// Armed through the environment, read once at the first hit:
//   AUTHD_FAILPOINTS=atomic_write.renamed=crash                  die at its first hit
//   AUTHD_FAILPOINTS=atomic_write.renamed=crash@3,refresh.locked=crash   the 3rd hit; and another
// A crash is raise(SIGKILL): no destructor, atexit handler or log flush runs, as with kill -9.
// Unarmed, a compiled-in failpoint costs a function call and one load. Thread-safe.
//
// The failpoints (grep AUTHD_FAILPOINT for the places):
//   shared_file.locked        SharedDocumentFile::Update holds the file lock, before the re-read
//   atomic_write.temp_created the temp file exists, empty
//   atomic_write.partial_write half the contents are in the temp file
//   atomic_write.written      all of it is written, not yet fsynced
//   atomic_write.synced       fsynced, not yet renamed over the target
//   atomic_write.renamed      renamed, the directory not yet fsynced
//   atomic_write.dir_synced   the directory fsynced, AtomicFile not yet returned
//   shared_file.replaced      the file is replaced, the lock not yet released
//   refresh.locked            a refresh holds providers.lock, before calling the token endpoint
//   refresh.token_received    the endpoint answered with new tokens, not yet written
//   refresh.written           the new tokens are written and the lock released, callers unanswered
#pragma once

#if defined(AUTHD_FAILPOINTS_ENABLED)

namespace operator_auth::failpoint {

// Counts a hit of `name`; true when this is the hit $AUTHD_FAILPOINTS arms it to crash at.
bool ShouldCrash(const char* name);
// Says which failpoint fired on stderr (unbuffered), then kills the process with SIGKILL.
[[noreturn]] void Crash(const char* name);

}  // namespace operator_auth::failpoint

// Dies here when the failpoint `name` is armed for this hit.
#define AUTHD_FAILPOINT(name)                                                                   \
  do {                                                                                          \
    if (::operator_auth::failpoint::ShouldCrash(name)) ::operator_auth::failpoint::Crash(name); \
  } while (0)

// Like AUTHD_FAILPOINT, but first calls the callable given after the name (e.g. a lambda that
// writes half the file), as the process's last act.
#define AUTHD_FAILPOINT_AFTER(name, ...)                 \
  do {                                                   \
    if (::operator_auth::failpoint::ShouldCrash(name)) { \
      (__VA_ARGS__)();                                   \
      ::operator_auth::failpoint::Crash(name);           \
    }                                                    \
  } while (0)

#else

#define AUTHD_FAILPOINT(name) \
  do {                        \
  } while (0)
#define AUTHD_FAILPOINT_AFTER(name, ...) \
  do {                                   \
  } while (0)

#endif
