"""AuthClient: asks operator-authd for credentials over its Unix socket.

Behaves like the C++ client (client/include/operator_auth/auth_client.h): every call has a
deadline, and get_api_key falls back to the caller's own ``{ID}_API_KEY`` when the daemon has no
credential (NOT_FOUND) or cannot be reached. Any other daemon error is raised.

Thread-safety: an AuthClient may be shared between threads. It must not be used across fork():
Debian's grpcio is built without fork support enabled, so create clients in the child.
"""

import os
import socket
import struct
import threading
import urllib.parse
import weakref

import grpc
from operator_auth.v1 import auth_pb2, auth_pb2_grpc

from .api_key import api_key_from_proto, caller_env_key
from .errors import AuthError, DaemonUnreachable, InvalidArgument, NotFound, UntrustedDaemon
from .paths import default_socket_path
from .provider_ids import api_key_env_var, is_valid_provider_id
from .watched_key import WatchedKey

# A local daemon restarts quickly: do not wait gRPC's default reconnect back-off of up to two
# minutes (same settings as the C++ client).
_CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
)

_ERRORS_BY_CODE = {
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
}

# grpc_connectivity_state GRPC_CHANNEL_READY in grpc core.
_CORE_CHANNEL_READY = 2


def unix_target(socket_path):
    """The gRPC target for ``socket_path``.

    gRPC parses ``unix:`` targets as URIs: it percent-decodes the path and stops at ``?`` or ``#``,
    so those characters (and ``%`` itself) must be escaped to reach the intended file.
    """
    return "unix:" + urllib.parse.quote(os.fsencode(socket_path), safe="/")


class AuthClient:
    """A connection to operator-authd.

    ``socket_path``: the daemon's socket; ``None`` or empty resolves it like the daemon
    (see :func:`operator_auth_client.default_socket_path`). ``timeout``: the deadline of each call,
    in seconds. ``env_fallback``: whether :meth:`get_api_key` may answer from this process's
    ``{ID}_API_KEY`` variable. ``account``: the account every call names unless its provider is
    written ``"PROVIDER@ACCOUNT"``; ``None`` or empty means ``$OPERATOR_AUTH_ACCOUNT``, else the
    provider's default account (the caller's ``{ID}_API_KEY`` stands in for the default account
    only). Construction does not connect; the first call does. Use it as a context manager or
    call :meth:`close`.
    """

    def __init__(self, socket_path=None, timeout=2.0, env_fallback=True, account=None):
        self._account = account or os.environ.get("OPERATOR_AUTH_ACCOUNT", "")
        self._socket_path = os.fspath(socket_path) if socket_path else default_socket_path()
        self._timeout = float(timeout)
        self._env_fallback = bool(env_fallback)
        self._channel = grpc.insecure_channel(unix_target(self._socket_path),
                                              options=_CHANNEL_OPTIONS)
        self._stub = auth_pb2_grpc.AuthServiceStub(self._channel)
        self._watchers = weakref.WeakSet()
        self._watchers_lock = threading.Lock()

    @property
    def socket_path(self):
        """The socket this client talks to."""
        return self._socket_path

    @property
    def timeout(self):
        """The deadline of each call, in seconds."""
        return self._timeout

    @property
    def account(self):
        """The account calls name when their provider does not; empty for the default."""
        return self._account

    def account_for(self, provider):
        """The ``account`` field a request for ``provider`` carries."""
        return "" if "@" in (provider or "") else self._account

    @property
    def env_fallback(self):
        """Whether get_api_key may answer from this process's environment."""
        return self._env_fallback

    def get_api_key(self, provider):
        """Returns the provider's key as an :class:`ApiKey`.

        Resolution happens in the daemon (runtime > stored > OAuth access token, refreshed when it
        is about to expire > the daemon's environment). When the daemon has none (NOT_FOUND) or
        cannot be reached, and ``env_fallback`` is on, the caller's ``{ID}_API_KEY`` answers with
        ``source == "caller_env"``.

        Raises :class:`NotFound` when nothing has a key, :class:`DaemonUnreachable` when the daemon
        is away and the variable is unset, :class:`InvalidArgument` for a bad provider id, and
        :class:`AuthError` for any other daemon error (e.g. a failed OAuth refresh).
        """
        try:
            response = self._call(self._stub.GetApiKey,
                                  auth_pb2.GetApiKeyRequest(
                                      provider=provider, account=self.account_for(provider)),
                                  provider)
        except (NotFound, DaemonUnreachable) as error:
            # A malformed id never picks a variable out of the environment, and a named account
            # is never answered with the provider's one {ID}_API_KEY.
            if (not self._env_fallback or not is_valid_provider_id(provider)
                    or self.account_for(provider)):
                raise
            unreachable = isinstance(error, DaemonUnreachable)
            key = caller_env_key(provider, daemon_reachable=not unreachable)
            if key is not None:
                return key
            if unreachable:
                raise DaemonUnreachable(
                    f"{error}; and {api_key_env_var(provider)} is not set in this process",
                    provider=provider, code=error.code) from None
            raise
        return api_key_from_proto(response)

    def get_auth_status(self, provider):
        """Returns the provider's status as the proto message ``operator_auth.v1.AuthStatus``.

        It never carries a secret. Useful fields: ``configured``, ``source``
        (``auth_pb2.CREDENTIAL_SOURCE_*``), ``label``, ``expires_unix_ms``, ``expired``,
        ``needs_login``, ``refresh_state``, ``env_var``. No environment fallback.
        """
        return self._call(self._stub.GetAuthStatus,
                          auth_pb2.GetAuthStatusRequest(provider=provider,
                                                        account=self.account_for(provider)),
                          provider)

    def list_providers(self):
        """Returns every provider the daemon knows, as a list of ``operator_auth.v1.ProviderInfo``
        messages (``id``, ``display_name``, ``kind``, ``builtin``, ``status``)."""
        response = self._call(self._stub.ListProviders, auth_pb2.ListProvidersRequest(), None)
        return list(response.providers)

    def watch_api_key(self, provider, wait=5.0, on_update=None):
        """Starts watching the provider's key and returns a :class:`WatchedKey`.

        ``wait``: how long :meth:`WatchedKey.get` waits, by default, for a first answer or for a
        fresh key to replace an expired one. ``on_update``: called on the watcher's thread with
        each :class:`KeyUpdate` the daemon sends. The watcher uses this client's connection;
        closing the client closes its watchers.
        """
        watched = WatchedKey(self, provider, wait=wait, on_update=on_update)
        with self._watchers_lock:
            self._watchers.add(watched)
        return watched

    def close(self):
        """Stops this client's watchers and closes the connection. Idempotent."""
        with self._watchers_lock:
            watchers = list(self._watchers)
        for watched in watchers:
            watched.close()
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"AuthClient(socket_path={self._socket_path!r}, timeout={self._timeout!r})"

    # Internal: shared with WatchedKey.

    def _call(self, method, request, provider):
        self._check_daemon_peer(provider)
        try:
            return method(request, timeout=self._timeout)
        except grpc.RpcError as error:
            raise self._translate(error, provider) from None
        except ValueError as error:  # grpcio's answer to a call on a closed channel
            raise AuthError(f"this AuthClient is closed ({error})", provider=provider) from None

    def _translate(self, error, provider):
        """Turns a grpc.RpcError into this package's exception for it."""
        code = error.code()
        details = error.details() or code.name
        if (code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
                and not self._daemon_answered()):
            return DaemonUnreachable(
                f"operator-authd is not reachable at {self._socket_path}: {details}",
                provider=provider, code=code)
        error_class = _ERRORS_BY_CODE.get(code)
        if error_class is not None:
            return error_class(details, provider=provider, code=code)
        return AuthError(f"operator-authd answered {code.name}: {details}",
                         provider=provider, code=code)

    def _check_daemon_peer(self, provider):
        """Raises UntrustedDaemon when the socket is served by another uid (neither ours nor
        root), before anything is sent. A connected (READY) channel is not checked again: it was
        made right after a check passed. As in the C++ client, this is a connect of our own before
        grpcio's, which keeps grpcio's reconnection; only someone who may write the socket's
        directory could swap the socket in between, and the daemon refuses such a directory."""
        if self._channel_ready():
            return
        uid = _socket_peer_uid(self._socket_path)
        if uid is None or uid in (os.geteuid(), 0):
            return
        raise UntrustedDaemon(
            f"refusing to talk to {self._socket_path}: it is served by uid {uid}, not by uid "
            f"{os.geteuid()} (this user) or root; another user may have planted it. Remove it and "
            "start operator-authd, or point OPERATOR_AUTHD_SOCKET at your daemon's socket",
            provider=provider)

    def _channel_ready(self):
        core_channel = getattr(self._channel, "_channel", None)
        check = getattr(core_channel, "check_connectivity_state", None)
        if check is None:
            return False
        try:
            return check(False) == _CORE_CHANNEL_READY
        except Exception:  # pylint: disable=broad-except
            return False

    def _daemon_answered(self):
        """Whether a failed call's status came from the daemon rather than the transport.

        The daemon itself answers UNAVAILABLE too (an OAuth refresh that failed), so the code alone
        does not tell. Like the C++ client, look at the channel: READY means the daemon is there.
        grpcio has no public synchronous state query, so this reads the Cython channel's; if that
        ever goes away, probe the socket instead.
        """
        core_channel = getattr(self._channel, "_channel", None)
        check = getattr(core_channel, "check_connectivity_state", None)
        if check is not None:
            try:
                return check(False) == _CORE_CHANNEL_READY
            except Exception:  # pylint: disable=broad-except
                pass
        return _socket_accepts(self._socket_path)


# struct ucred {pid_t pid; uid_t uid; gid_t gid;} on Linux.
_UCRED = struct.Struct("iII")


def _socket_peer_uid(path):
    """The uid of the process listening on ``path`` (SO_PEERCRED), or None when nothing accepts
    there (the call itself then reports the daemon unreachable)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(2.0)
        try:
            probe.connect(path)
        except OSError:
            return None
        _pid, uid, _gid = _UCRED.unpack(
            probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    return uid


def _socket_accepts(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


# Module-level convenience: one default client per resolved socket path, made on first use.
_default_clients = {}
_default_clients_lock = threading.Lock()


def default_client():
    """The shared AuthClient for the default socket (resolved on every call, so a changed
    ``$OPERATOR_AUTHD_SOCKET`` is honoured)."""
    path = default_socket_path()
    with _default_clients_lock:
        client = _default_clients.get(path)
        if client is None:
            client = AuthClient(path)
            _default_clients[path] = client
        return client


def get_api_key(provider):
    """:meth:`AuthClient.get_api_key` on the default client."""
    return default_client().get_api_key(provider)


def get_auth_status(provider):
    """:meth:`AuthClient.get_auth_status` on the default client."""
    return default_client().get_auth_status(provider)


def watch_api_key(provider, wait=5.0, on_update=None):
    """:meth:`AuthClient.watch_api_key` on the default client."""
    return default_client().watch_api_key(provider, wait=wait, on_update=on_update)


def _forget_default_clients_in_child():
    # The parent's channels are unusable in a forked child (grpcio without fork support); drop
    # them without closing, so the child makes fresh ones on first use.
    global _default_clients_lock  # pylint: disable=global-statement
    _default_clients.clear()
    _default_clients_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_default_clients_in_child)
