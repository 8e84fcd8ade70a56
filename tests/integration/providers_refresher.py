#!/usr/bin/python3
"""A stand-in for the older Python tools that refresh OAuth tokens themselves.

It follows the shared protocol: take FileLock("providers.lock"), re-read providers.json, refresh
at the token endpoint only if the token is still expired (now + 30 s >= expires), write the new
tokens back, release. No secret travels on argv: the refresh token comes from the file.

usage: providers_refresher.py AUTH_DIR PROVIDER TOKEN_URL CLIENT_ID GO_FILE
Waits (at most 20 s) for GO_FILE to exist so that several processes start together, then prints
one JSON line: {"access_sha": ..., "refreshed": true|false} or {"error": ...}.
"""
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from filelock import FileLock

EXPIRY_MARGIN_MS = 30_000


def main(argv):
    auth_dir, provider, token_url, client_id, go_file = argv[1:6]
    deadline = time.time() + 20
    while not os.path.exists(go_file):
        if time.time() > deadline:
            print(json.dumps({"error": "go file never appeared"}))
            return 1
        time.sleep(0.001)

    path = os.path.join(auth_dir, "providers.json")
    with FileLock(os.path.join(auth_dir, "providers.lock"), timeout=30):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        entry = data[provider]
        refreshed = False
        if time.time() * 1000 + EXPIRY_MARGIN_MS >= entry["expires"]:
            body = urllib.parse.urlencode({"grant_type": "refresh_token",
                                           "refresh_token": entry["refresh"],
                                           "client_id": client_id}).encode()
            request = urllib.request.Request(
                token_url, data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"})
            try:
                with urllib.request.urlopen(request, timeout=10) as reply:
                    tokens = json.load(reply)
            except urllib.error.HTTPError as e:
                print(json.dumps({"error": f"HTTP {e.code}"}))
                return 1
            entry["access"] = tokens["access_token"]
            entry["refresh"] = tokens.get("refresh_token", entry["refresh"])
            entry["expires"] = int(time.time() * 1000) + int(tokens["expires_in"]) * 1000
            tmp = path + ".py-tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=2)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
            refreshed = True
    # A digest, not the token: test output never shows secrets.
    digest = hashlib.sha256(entry["access"].encode()).hexdigest()
    print(json.dumps({"access_sha": digest, "refreshed": refreshed}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
