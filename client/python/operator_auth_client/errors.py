"""The exceptions this package raises. Their messages never contain a secret: they are built from
the daemon's status messages (which the daemon keeps secret-free) and from names and paths."""


class AuthError(Exception):
    """Any failure to get a credential.

    ``provider`` is the provider id asked for (or ``None``); ``code`` is the ``grpc.StatusCode``
    the daemon or the transport answered with, or ``None`` when the error arose in this process.
    """

    def __init__(self, message, *, provider=None, code=None):
        super().__init__(message)
        self.provider = provider
        self.code = code


class DaemonUnreachable(AuthError):
    """operator-authd could not be reached: no socket, connection refused, or no answer in time."""


class UntrustedDaemon(AuthError):
    """The socket is served by a process of another uid (neither ours nor root): nothing was sent
    to it. Another user may have planted it; the message names the path and the uid."""


class NotFound(AuthError):
    """Neither the daemon nor (when allowed) the caller's environment has a credential."""


class InvalidArgument(AuthError):
    """The daemon refused the request as malformed, e.g. a bad provider id."""


class KeyExpired(AuthError):
    """A watched key has expired and no fresh one arrived within the wait."""
