"""WatchedKey: a provider's key kept current by the daemon's WatchApiKey stream.

A background thread holds the stream open and stores each update; ``get()`` reads the stored value
with no round trip and no lock, so an agent can call it before every LLM request. The daemon sends
the current state first and then every change (refresh, rotation, set, unset, logout, runtime
override, external edit), so a rotated or revoked key is replaced as soon as the daemon knows.

Thread-safety: ``get()``, iteration and ``close()`` may be called from any thread. A WatchedKey
does not survive fork(): in the child every call raises AuthError; create a new one there.
"""

import dataclasses
import logging
import os
import random
import threading
import time
import weakref
from datetime import datetime, timezone
from typing import Optional

import grpc
from operator_auth.v1 import auth_pb2

from .api_key import ApiKey, api_key_from_proto, caller_env_key, now_ms
from .errors import (AuthError, DaemonUnreachable, InvalidArgument, KeyExpired, NotFound,
                     UntrustedDaemon)
from .provider_ids import api_key_env_var, provider_id_problem

INITIAL_BACKOFF_S = 0.1
MAX_BACKOFF_S = 5.0

_log = logging.getLogger(__name__)


def _status_code(number):
    """The grpc.StatusCode with the numeric value `number`; NOT_FOUND for 0 (older daemons)."""
    for code in grpc.StatusCode:
        if code.value[0] == number and number != 0:
            return code
    return grpc.StatusCode.NOT_FOUND


@dataclasses.dataclass(frozen=True)
class KeyUpdate:
    """One state of a watched key as the daemon reported it.

    ``present`` is False when nothing resolves; ``reason`` then says why and ``api_key`` is None.
    An ``api_key`` seen here may already have expired (a token the daemon could not refresh);
    :meth:`WatchedKey.get` never returns such a key.
    """

    present: bool
    api_key: Optional[ApiKey]
    reason: str = ""
    # When not present: the grpc.StatusCode GetApiKey would answer (NOT_FOUND: no credential at
    # all; UNAVAILABLE: a refresh failed; ...).
    code: Optional[grpc.StatusCode] = None


@dataclasses.dataclass(frozen=True)
class _Snapshot:
    """Everything the watcher knows, replaced as a whole so that readers need no lock."""

    # What get() may return at once: the present key of the latest update, if any.
    key: Optional[ApiKey] = None
    # The daemon's latest answer; None before the first. Kept while disconnected.
    update: Optional[KeyUpdate] = None
    # How many distinct updates have arrived (iteration waits for it to move).
    update_count: int = 0
    # A stream is open and has answered.
    connected: bool = False
    # At least one connection attempt has ended, with an answer or an error.
    settled: bool = False
    # Why the last attempt failed, while not connected.
    last_error: Optional[AuthError] = None
    # The daemon answered UNIMPLEMENTED: it predates WatchApiKey.
    unsupported: bool = False
    # The watcher will not answer again: closed, a bad provider id, or used after fork().
    fatal: Optional[AuthError] = None


def _fresh_copy(error):
    """A new exception like ``error``, so that re-raising does not pile up tracebacks."""
    return type(error)(str(error), provider=error.provider, code=error.code)


def _format_ms(unix_ms):
    return datetime.fromtimestamp(unix_ms / 1000, tz=timezone.utc).isoformat(timespec="seconds")


class _Closed(AuthError):
    """Raised by get() after close()."""


_live_watchers = weakref.WeakSet()
_live_watchers_lock = threading.Lock()


class WatchedKey:
    """The current key of one provider, kept up to date by a background thread.

    Make one with :meth:`AuthClient.watch_api_key`. ``get()`` answers from memory; when the stream
    is down (e.g. while the daemon restarts) it keeps answering with the last key received, and the
    thread reconnects with exponential backoff (0.1 s doubling to 5 s, with jitter). Iterating
    yields each :class:`KeyUpdate` as it arrives (intermediate states may be skipped, never the
    latest) until :meth:`close`. ``on_update``, if given, is called on the watcher's thread with
    every new KeyUpdate.
    """

    def __init__(self, client, provider, wait=5.0, on_update=None):
        problem = provider_id_problem(provider)
        if problem is not None:
            raise InvalidArgument(problem, provider=provider if isinstance(provider, str) else None)
        self._client = client
        self._provider = provider
        self._wait = float(wait)
        self._on_update = on_update
        self._snapshot = _Snapshot()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._call = None
        self._thread = threading.Thread(target=self._run, name=f"operator-auth-watch[{provider}]",
                                        daemon=True)
        with _live_watchers_lock:
            _live_watchers.add(self)
        self._thread.start()

    @property
    def provider(self):
        """The provider id being watched."""
        return self._provider

    def get(self, timeout=None):
        """Returns the current :class:`ApiKey` without a round trip to the daemon.

        A key whose ``expires_unix_ms`` has passed is never returned: ``get`` waits up to
        ``timeout`` seconds (default: the watcher's ``wait``) for a fresh one, then raises
        :class:`KeyExpired`. It waits the same way for the first answer after the watcher starts.

        When the daemon has no key, the caller's ``{ID}_API_KEY`` answers (``source ==
        "caller_env"``) if the client allows environment fallback; otherwise :class:`NotFound`.
        When the daemon has never answered and cannot be reached, the same fallback applies,
        otherwise :class:`DaemonUnreachable`. A daemon without WatchApiKey makes ``get`` fall back
        to one :meth:`AuthClient.get_api_key` call each time.
        """
        key = self._snapshot.key
        if key is not None and (key.expires_unix_ms == 0 or key.expires_unix_ms > now_ms()):
            return key
        return self._get_slowly(self._wait if timeout is None else float(timeout))

    def close(self):
        """Stops the background thread and ends the stream. Idempotent; later ``get`` calls raise
        AuthError and iteration ends."""
        self._stop.set()
        with self._cond:
            call, self._call = self._call, None
            if self._snapshot.fatal is None:
                self._snapshot = dataclasses.replace(
                    self._snapshot, key=None,
                    fatal=_Closed(f"the watcher for {self._provider} is closed",
                                  provider=self._provider))
            self._cond.notify_all()
        if call is not None:
            call.cancel()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5.0)

    def __iter__(self):
        seen = 0
        while True:
            with self._cond:
                while self._snapshot.update_count == seen and self._snapshot.fatal is None:
                    self._cond.wait()
                snapshot = self._snapshot
            if snapshot.fatal is not None:
                if isinstance(snapshot.fatal, _Closed):
                    return
                raise _fresh_copy(snapshot.fatal)
            seen = snapshot.update_count
            yield snapshot.update

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        snapshot = self._snapshot
        return (f"WatchedKey(provider={self._provider!r}, connected={snapshot.connected}, "
                f"key={snapshot.key!r})")

    # The slow path: no usable key in memory.

    def _get_slowly(self, wait):
        deadline = time.monotonic() + wait
        with self._cond:
            while True:
                snapshot = self._snapshot
                if snapshot.fatal is not None:
                    raise _fresh_copy(snapshot.fatal)
                if snapshot.unsupported:
                    break
                update = snapshot.update
                if update is not None and update.present:
                    if not update.api_key.expired():
                        return update.api_key
                elif update is not None or (snapshot.settled and not snapshot.connected):
                    return self._fallback_or_raise(snapshot)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._timeout_error(snapshot, wait)
                self._cond.wait(remaining)
        # Outside the lock: a round trip.
        return self._client.get_api_key(self._provider)

    def _fallback_or_raise(self, snapshot):
        """The answer when the daemon has nothing, or has never been reached."""
        if snapshot.update is not None:
            code = snapshot.update.code or grpc.StatusCode.NOT_FOUND
            if code != grpc.StatusCode.NOT_FOUND:
                # Like get_api_key: only "no credential at all" lets the environment stand in.
                raise AuthError(f"{self._provider}: {snapshot.update.reason}",
                                provider=self._provider, code=code)
            # The daemon's last word was "none" (it may be restarting now; that word stands).
            daemon_reachable = True
            error = NotFound(f"no credential for provider {self._provider}: "
                             f"{snapshot.update.reason or 'the daemon has none'}",
                             provider=self._provider, code=grpc.StatusCode.NOT_FOUND)
        else:
            daemon_reachable = False
            error = snapshot.last_error
            if not isinstance(error, DaemonUnreachable):
                raise _fresh_copy(error)
        if self._client.env_fallback and not self._client.account_for(self._provider):
            key = caller_env_key(self._provider, daemon_reachable=daemon_reachable)
            if key is not None:
                return key
            if not daemon_reachable and isinstance(error, DaemonUnreachable):
                raise DaemonUnreachable(
                    f"{error}; and {api_key_env_var(self._provider)} is not set in this process",
                    provider=self._provider, code=error.code)
        raise _fresh_copy(error)

    def _timeout_error(self, snapshot, wait):
        update = snapshot.update
        if update is not None and update.present:
            return KeyExpired(
                f"the key for {self._provider} ({update.api_key.label}) expired at "
                f"{_format_ms(update.api_key.expires_unix_ms)} and no fresh one arrived within "
                f"{wait:g} s", provider=self._provider)
        return DaemonUnreachable(
            f"no answer from operator-authd at {self._client.socket_path} within {wait:g} s",
            provider=self._provider, code=grpc.StatusCode.DEADLINE_EXCEEDED)

    # The background thread.

    def _run(self):
        request = auth_pb2.WatchApiKeyRequest(provider=self._provider,
                                              account=self._client.account_for(self._provider))
        backoff = INITIAL_BACKOFF_S
        while not self._stop.is_set():
            if self._stream_once(request):
                backoff = INITIAL_BACKOFF_S
            if self._snapshot.fatal is not None:
                return
            delay = backoff * random.uniform(0.5, 1.0)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
            if self._stop.wait(delay):
                return

    def _stream_once(self, request):
        """Opens one stream and follows it until it ends. True when the daemon answered."""
        try:
            self._client._check_daemon_peer(self._provider)
        except UntrustedDaemon as error:
            # Every get() says so; the path is looked at again after the back-off.
            self._publish_error(error)
            return False
        try:
            call = self._client._stub.WatchApiKey(request)  # no deadline: lasts until cancelled
        except ValueError:  # grpcio's answer on a closed channel: the client was closed
            self._publish_fatal(AuthError(f"the client of the watcher for {self._provider} is "
                                          "closed", provider=self._provider))
            return False
        with self._cond:
            if self._stop.is_set():
                call.cancel()
                return False
            self._call = call
        answered = False
        try:
            for message in call:
                answered = True
                self._publish_update(KeyUpdate(
                    present=message.present,
                    api_key=api_key_from_proto(message) if message.present else None,
                    reason=message.reason,
                    code=_status_code(message.code) if not message.present else None))
            self._publish_error(AuthError("operator-authd ended the watch stream",
                                          provider=self._provider))
        except grpc.RpcError as error:
            if not self._stop.is_set():
                self._publish_error(self._client._translate(error, self._provider))
        finally:
            with self._cond:
                self._call = None
        return answered

    def _publish_update(self, update):
        with self._cond:
            if self._snapshot.fatal is not None:
                return
            previous = self._snapshot
            changed = update != previous.update
            self._snapshot = dataclasses.replace(
                previous, key=update.api_key, update=update,
                update_count=previous.update_count + (1 if changed else 0), connected=True,
                settled=True, last_error=None, unsupported=False)
            self._cond.notify_all()
        if changed and self._on_update is not None:
            try:
                self._on_update(update)
            except Exception:  # pylint: disable=broad-except
                _log.exception("on_update callback for %s raised", self._provider)

    def _publish_error(self, error):
        with self._cond:
            if self._snapshot.fatal is not None:
                return
            if error.code == grpc.StatusCode.INVALID_ARGUMENT:
                changes = {"key": None, "fatal": error}
            elif error.code == grpc.StatusCode.UNIMPLEMENTED:
                changes = {"key": None, "unsupported": True}
            elif isinstance(error, UntrustedDaemon):
                changes = {"key": None}  # another uid holds the path: stop serving its old key
            else:
                changes = {}
            self._snapshot = dataclasses.replace(self._snapshot, connected=False, settled=True,
                                                 last_error=error, **changes)
            self._cond.notify_all()

    def _publish_fatal(self, error):
        with self._cond:
            if self._snapshot.fatal is None:
                self._snapshot = dataclasses.replace(self._snapshot, key=None, fatal=error)
            self._cond.notify_all()

    def _after_fork_in_child(self):
        # The parent's thread and stream do not exist here, and its locks may be held forever.
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._stop.set()
        self._call = None
        self._snapshot = dataclasses.replace(
            self._snapshot, key=None,
            fatal=AuthError(f"the watcher for {self._provider} was created before fork(); "
                            "create a new one in this process", provider=self._provider))


def _disable_watchers_in_child():
    global _live_watchers_lock  # pylint: disable=global-statement
    _live_watchers_lock = threading.Lock()
    for watched in list(_live_watchers):
        watched._after_fork_in_child()  # pylint: disable=protected-access


os.register_at_fork(after_in_child=_disable_watchers_in_child)
