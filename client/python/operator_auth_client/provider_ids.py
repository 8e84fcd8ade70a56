"""Provider ids and the environment variable each one falls back to.

Mirrors common/provider_id.cc: an id matches ``^[a-z0-9][a-z0-9._-]{0,63}$``, and its variable is
the id upper-cased (ASCII only) with ``-`` and ``.`` turned into ``_``, plus ``_API_KEY``
(``openai-codex`` -> ``OPENAI_CODEX_API_KEY``).
"""

MAX_PROVIDER_ID_LENGTH = 64

_LOWER_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_ID_CHARS = _LOWER_ALNUM | frozenset("._-")


def provider_id_problem(provider):
    """Returns why ``provider`` is not a valid provider id, or ``None`` when it is one."""
    if not isinstance(provider, str):
        return "provider id must be a string"
    if not provider:
        return "provider id is empty"
    if len(provider) > MAX_PROVIDER_ID_LENGTH:
        return f"provider id is longer than {MAX_PROVIDER_ID_LENGTH} characters"
    if provider[0] not in _LOWER_ALNUM:
        return ("provider id must start with a lowercase letter or a digit "
                "(^[a-z0-9][a-z0-9._-]{0,63}$)")
    if not all(c in _ID_CHARS for c in provider):
        return ("provider id may contain only lowercase letters, digits, '.', '_' and '-' "
                "(^[a-z0-9][a-z0-9._-]{0,63}$)")
    return None


def is_valid_provider_id(provider):
    """True when ``provider`` is a well-formed provider id."""
    return provider_id_problem(provider) is None


def api_key_env_var(provider):
    """Returns the ``{ID}_API_KEY`` variable name for ``provider`` (``openai-codex`` ->
    ``OPENAI_CODEX_API_KEY``)."""
    name = []
    for c in provider:
        if c in "-.":
            name.append("_")
        elif "a" <= c <= "z":
            name.append(c.upper())
        else:
            name.append(c)
    return "".join(name) + "_API_KEY"
