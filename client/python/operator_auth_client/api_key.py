"""The resolved credential handed to agents, and the caller's-environment fallback."""

import dataclasses
import os
import time
from typing import Optional, Tuple

from operator_auth.v1 import auth_pb2

from .provider_ids import api_key_env_var

# ApiKey.source values.
SOURCE_STORED = "stored"          # providers.json (an API key or an OAuth access token)
SOURCE_RUNTIME = "runtime"        # a runtime key set in the daemon (memory only)
SOURCE_DAEMON_ENV = "daemon_env"  # the daemon's own {ID}_API_KEY variable
SOURCE_CALLER_ENV = "caller_env"  # this process's {ID}_API_KEY: the daemon had nothing or was away

# ApiKey.kind values.
KIND_API_KEY = "api_key"                        # goes where the provider's API expects a key
KIND_OAUTH_ACCESS_TOKEN = "oauth_access_token"  # goes in "Authorization: Bearer"

_KINDS = {
    auth_pb2.KEY_KIND_API_KEY: KIND_API_KEY,
    auth_pb2.KEY_KIND_OAUTH_ACCESS_TOKEN: KIND_OAUTH_ACCESS_TOKEN,
}

_SOURCES = {
    auth_pb2.CREDENTIAL_SOURCE_RUNTIME: SOURCE_RUNTIME,
    auth_pb2.CREDENTIAL_SOURCE_ENV: SOURCE_DAEMON_ENV,
}


@dataclasses.dataclass(frozen=True)
class ApiKey:
    """A provider's key and where it came from.

    ``key`` is the secret; it is left out of ``repr()`` and ``str()`` so that logging the object
    does not leak it. ``source`` is one of ``"stored"``, ``"runtime"``, ``"daemon_env"`` or
    ``"caller_env"``. ``label`` says where in words: the daemon's label (``"providers.json
    (api_key)"``, ``"runtime"``, ``"OPENAI_API_KEY"``) or ``"VAR (daemon unreachable)"`` /
    ``"VAR (daemon has no credential)"`` for the caller's environment. ``expires_unix_ms`` is when
    an OAuth access token stops working, 0 when the key does not expire.

    What a request with the key needs besides it (from the daemon; empty for the caller's own
    environment): ``provider``, the canonical id also when an alias was asked for; ``kind``,
    ``"api_key"`` or ``"oauth_access_token"`` (``None`` from the caller's environment);
    ``account_id`` (openai-codex), ``project_id`` (Google Code Assist), ``base_url`` (where
    requests go, when the token decides it) and ``headers``, the non-secret request headers that
    kind of token needs, as (name, value) pairs.
    """

    key: str = dataclasses.field(repr=False)
    source: str
    label: str
    expires_unix_ms: int = 0
    provider: str = ""
    kind: Optional[str] = None
    # The named account the key belongs to; empty for the provider's default account.
    account: str = ""
    account_id: str = ""
    project_id: str = ""
    base_url: str = ""
    headers: Tuple[Tuple[str, str], ...] = ()

    def expired(self, now_unix_ms: Optional[int] = None) -> bool:
        """True when the key has an expiry and it has passed (at ``now_unix_ms``, default now)."""
        if self.expires_unix_ms == 0:
            return False
        if now_unix_ms is None:
            now_unix_ms = now_ms()
        return now_unix_ms >= self.expires_unix_ms


def now_ms() -> int:
    """The wall clock in Unix milliseconds, the unit of every expiry the daemon reports."""
    return time.time_ns() // 1_000_000


def api_key_from_proto(message) -> ApiKey:
    """Builds an ApiKey from a GetApiKeyResponse or a present ApiKeyUpdate (same field names)."""
    usage = message.usage
    return ApiKey(key=message.key, source=_SOURCES.get(message.source, SOURCE_STORED),
                  label=message.label, expires_unix_ms=message.expires_unix_ms,
                  provider=message.provider, kind=_KINDS.get(usage.kind),
                  account=message.account,
                  account_id=usage.account_id, project_id=usage.project_id,
                  base_url=usage.base_url,
                  headers=tuple((h.name, h.value) for h in usage.headers))


def caller_env_key(provider: str, daemon_reachable: bool) -> Optional[ApiKey]:
    """The caller's own ``{ID}_API_KEY`` as an ApiKey, or ``None`` when it is unset or empty."""
    var = api_key_env_var(provider)
    value = os.environ.get(var, "")
    if not value:
        return None
    why = "daemon has no credential" if daemon_reachable else "daemon unreachable"
    return ApiKey(key=value, source=SOURCE_CALLER_ENV, label=f"{var} ({why})", expires_unix_ms=0)
