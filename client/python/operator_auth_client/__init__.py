"""Python client for operator-authd, the per-user daemon that owns LLM provider credentials.

    import operator_auth_client as oac

    key = oac.get_api_key("openai")          # ApiKey(source=..., label=..., expires_unix_ms=...)
    headers = {"Authorization": f"Bearer {key.key}"}

    with oac.AuthClient() as client:         # default socket, resolved like the daemon's
        watched = client.watch_api_key("openai-codex")
        for _ in range(1000):
            call_llm(watched.get().key)      # from memory; follows refreshes and rotations

Errors derive from :class:`AuthError`; their messages never contain a secret.
"""

from .api_key import (KIND_API_KEY, KIND_OAUTH_ACCESS_TOKEN, SOURCE_CALLER_ENV, SOURCE_DAEMON_ENV,
                      SOURCE_RUNTIME, SOURCE_STORED, ApiKey)
from .client import (AuthClient, default_client, get_api_key, get_auth_status, unix_target,
                     watch_api_key)
from .errors import (AuthError, DaemonUnreachable, InvalidArgument, KeyExpired, NotFound,
                     UntrustedDaemon)
from .paths import default_operator_home, default_socket_path
from .provider_ids import api_key_env_var, is_valid_provider_id, provider_id_problem
from .watched_key import KeyUpdate, WatchedKey

__all__ = [
    "ApiKey", "AuthClient", "AuthError", "DaemonUnreachable", "InvalidArgument", "KeyExpired",
    "UntrustedDaemon",
    "KIND_API_KEY", "KIND_OAUTH_ACCESS_TOKEN",
    "KeyUpdate", "NotFound", "SOURCE_CALLER_ENV", "SOURCE_DAEMON_ENV", "SOURCE_RUNTIME",
    "SOURCE_STORED", "WatchedKey", "api_key_env_var", "default_client", "default_operator_home",
    "default_socket_path", "get_api_key", "get_auth_status", "is_valid_provider_id",
    "provider_id_problem", "unix_target", "watch_api_key",
]
