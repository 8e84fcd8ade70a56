"""What both Python test scripts need to run a real operator-authd that never leaves loopback.

Standard library only: test_package.py imports it outside any PYTHONPATH, before the package under
test is installed.
"""

import socket

# Port 9 (discard) on loopback: nothing listens, so every OAuth request fails fast and stays local.
CLOSED_LOOPBACK = "http://127.0.0.1:9"


def loopback_only_config(base=CLOSED_LOOPBACK):
    """authd.json pointing every built-in OAuth provider at ``base`` on loopback (the shape of
    LoopbackOnlyConfig in tests/support/daemon_process.cc)."""
    providers = {}
    for provider in ("anthropic-claude-code", "openai-codex", "google-antigravity",
                     "google-gemini-cli"):
        providers[provider] = {"authorize_url": base + "/authorize",
                               "token_url": base + "/token",
                               "revocation_url": base + "/revoke"}
    providers["openai-codex"]["device_authorization_url"] = (
        base + "/api/accounts/deviceauth/usercode")
    for provider in ("google-antigravity", "google-gemini-cli"):
        providers[provider]["code_assist_url"] = base
        providers[provider]["code_assist_poll_interval_ms"] = 50
    providers["github-copilot"] = {
        "device_authorization_url": base + "/device/code",
        "token_url": base + "/token",
        "copilot_token_url": base + "/copilot_internal/v2/token?domain={domain}",
        "copilot_api_url": base}
    return {"oauth_providers": providers}


def socket_accepts(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True
