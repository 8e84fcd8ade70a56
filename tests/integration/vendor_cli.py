#!/usr/bin/python3
"""A stand-in for an agent CLI that keeps its own OAuth login in its own file and refreshes it by
itself near expiry, as the real ones do. It never learns a secret from argv: the refresh token
comes from the file.

  claude-code: ~/.claude/.credentials.json {"claudeAiOauth": {accessToken, refreshToken,
      expiresAt}}. Claude Code refreshes when less than 5 minutes remain, holding two npm
      proper-lockfile locks, <dir>/.oauth_refresh.lock and <dir>.lock (stale 60 s), re-reading the
      file once it holds them, and gives up after a few tries when another holder keeps them
      (anaclumos/tokenmaxxing#27, cnighswonger/claude-code-cache-fix#372; anthropics/claude-code
      #95236 shows the lock directory).
  codex: $CODEX_HOME/auth.json {"tokens": {access_token, refresh_token, ...}, "last_refresh"}.
      Codex refreshes when the access token's JWT exp is near, takes no lock and rewrites the file
      in place (openai/codex codex-rs/login/src/auth/manager.rs, storage.rs).

Time is scaled: LEAD_MS stands for the vendor's 5 minutes. The stand-in loops for DURATION_S,
every 20 ms reading the file ("using" the token) and refreshing when now + LEAD_MS >= expiry.
A refresh answered with invalid_grant is a forced logout: the real CLI would send the user to
/login. It prints one JSON line of counts.

usage: vendor_cli.py MODE FILE TOKEN_URL CLIENT_ID LEAD_MS DURATION_S
"""
import base64
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request

STALE_S = 60


def now_ms():
    return int(time.time() * 1000)


def jwt_exp_ms(token):
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        return int(json.loads(base64.urlsafe_b64decode(payload))["exp"]) * 1000
    except (IndexError, ValueError, KeyError):
        return 0


class Claude:
    def __init__(self, path):
        self.path = path
        directory = os.path.dirname(path)
        self.locks = [os.path.join(directory, ".oauth_refresh.lock"), directory + ".lock"]

    def read(self):
        with open(self.path, encoding="utf-8") as f:
            data = json.load(f)
        o = data["claudeAiOauth"]
        return data, o["refreshToken"], o["expiresAt"]

    def store(self, data, tokens):
        o = data["claudeAiOauth"]
        o["accessToken"] = tokens["access_token"]
        o["refreshToken"] = tokens.get("refresh_token", o["refreshToken"])
        o["expiresAt"] = now_ms() + int(tokens["expires_in"]) * 1000
        tmp = self.path + ".standin-tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def lock(self):
        """proper-lockfile: mkdir each lock; a few tries with jitter, then give up."""
        taken = []
        for lock in self.locks:
            for _ in range(5):
                try:
                    os.mkdir(lock)
                    taken.append(lock)
                    break
                except FileExistsError:
                    try:
                        if time.time() - os.stat(lock).st_mtime > STALE_S:
                            os.rmdir(lock)
                            continue
                    except FileNotFoundError:
                        continue
                    time.sleep(random.uniform(0.05, 0.1))
            else:
                self.unlock(taken)
                return None
        return taken

    @staticmethod
    def unlock(taken):
        for lock in reversed(taken):
            os.rmdir(lock)


class Codex:
    def __init__(self, path):
        self.path = path

    def read(self):
        with open(self.path, encoding="utf-8") as f:
            data = json.load(f)
        t = data["tokens"]
        return data, t["refresh_token"], jwt_exp_ms(t["access_token"])

    def store(self, data, tokens):
        t = data["tokens"]
        t["access_token"] = tokens["access_token"]
        t["refresh_token"] = tokens.get("refresh_token", t["refresh_token"])
        data["last_refresh"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        # In place, as codex does (no temp file, no lock).
        with open(self.path, "w", encoding="utf-8") as f:
            json.dump(data, f)

    def lock(self):
        return []

    @staticmethod
    def unlock(taken):
        pass


def refresh(token_url, client_id, refresh_token):
    body = json.dumps({"grant_type": "refresh_token", "refresh_token": refresh_token,
                       "client_id": client_id}).encode()
    request = urllib.request.Request(token_url, data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.load(reply), None
    except urllib.error.HTTPError as e:
        return None, e.read().decode("utf-8", "replace")


def main(argv):
    mode, path, token_url, client_id, lead_ms, duration_s = argv[1:7]
    lead_ms, deadline = int(lead_ms), time.time() + float(duration_s)
    vendor = Claude(path) if mode == "claude-code" else Codex(path)
    counts = {"reads": 0, "refreshes": 0, "logouts": 0, "lock_timeouts": 0, "torn_reads": 0,
              "expired_seen": 0}
    logged_out_with = None
    while time.time() < deadline:
        time.sleep(0.02)
        try:
            data, refresh_token, expires = vendor.read()
        except (OSError, ValueError, KeyError):
            counts["torn_reads"] += 1
            continue
        counts["reads"] += 1
        if refresh_token == logged_out_with:
            continue  # logged out; waits for a new login in the file
        if expires and now_ms() >= expires:
            counts["expired_seen"] += 1
        if not expires or now_ms() + lead_ms < expires:
            continue
        taken = vendor.lock()
        if taken is None:
            counts["lock_timeouts"] += 1
            continue
        try:
            data, refresh_token, expires = vendor.read()  # again, under the lock
            if now_ms() + lead_ms < expires:
                continue  # someone else refreshed meanwhile
            tokens, error = refresh(token_url, client_id, refresh_token)
            if tokens is None:
                if "invalid_grant" in (error or ""):
                    counts["logouts"] += 1
                    logged_out_with = refresh_token
                continue
            vendor.store(data, tokens)
            counts["refreshes"] += 1
        finally:
            vendor.unlock(taken)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
