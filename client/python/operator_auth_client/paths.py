"""Where operator-authd listens: resolved exactly as the daemon and the C++ client resolve it.

Mirrors common/default_paths.cc, including its handling of empty variables (an empty value counts
as unset) and its plain string concatenation (no normalisation of trailing slashes).
"""

import os
import pwd


def _env(name):
    return os.environ.get(name, "")


def _user_home():
    home = _env("HOME")
    if home:
        return home
    try:
        return pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        return "/"


def default_operator_home():
    """Returns ``$OPERATOR_HOME``, else ``~/.operator`` (``$HOME``, else the passwd entry)."""
    home = _env("OPERATOR_HOME")
    if home:
        return home
    return _user_home() + "/.operator"


def default_socket_path(operator_home=None):
    """Returns the daemon's socket path as the daemon itself would choose it.

    ``$OPERATOR_AUTHD_SOCKET``, else ``$XDG_RUNTIME_DIR/operator/authd.sock``, else
    ``<operator_home>/run/authd.sock`` where ``operator_home`` defaults to
    :func:`default_operator_home`. Variables that are set but empty count as unset.
    """
    explicit_path = _env("OPERATOR_AUTHD_SOCKET")
    if explicit_path:
        return explicit_path
    runtime_dir = _env("XDG_RUNTIME_DIR")
    if runtime_dir:
        return runtime_dir + "/operator/authd.sock"
    if operator_home is None:
        operator_home = default_operator_home()
    return operator_home + "/run/authd.sock"
