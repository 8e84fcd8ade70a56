#!/usr/bin/python3
"""A stand-in for the older Python tools that edit providers.json directly.

It follows their protocol: take py-filelock's FileLock on providers.lock, read the file, change it,
write it back in place (as those tools do: open "w" and json.dump), release. Keys never travel on
argv: they are derived from the provider id or read from stdin.

usage:
  providers_writer.py AUTH_DIR set ID           key read from stdin
  providers_writer.py AUTH_DIR add-many PREFIX COUNT   adds PREFIX-0..COUNT-1, one lock each
  providers_writer.py AUTH_DIR hold SECONDS ID  locks, prints "locked", writes ID (key from
                                                stdin) while holding, sleeps, releases
  providers_writer.py AUTH_DIR churn PREFIX COUNT  sets PREFIX-i for i < COUNT, and after every
                                                third set removes PREFIX-(i-1); one lock each
  providers_writer.py AUTH_DIR expire ID        sets ID's "expires" to a minute ago
  providers_writer.py AUTH_DIR oauth ID         stores an OAuth entry read from stdin as JSON
                                                {"access", "refresh", "expires"} (a new login)
"""
import json
import os
import sys
import time

from filelock import FileLock


def derived_key(provider_id):
    return "pykey-" + provider_id


def read_providers(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def write_providers(path, data):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
    os.chmod(path, 0o600)


def set_key(auth_dir, provider_id, key):
    path = os.path.join(auth_dir, "providers.json")
    with FileLock(os.path.join(auth_dir, "providers.lock"), timeout=30):
        data = read_providers(path)
        data[provider_id] = {"type": "api_key", "key": key}
        write_providers(path, data)


def remove_key(auth_dir, provider_id):
    path = os.path.join(auth_dir, "providers.json")
    with FileLock(os.path.join(auth_dir, "providers.lock"), timeout=30):
        data = read_providers(path)
        if provider_id not in data:
            raise SystemExit(f"{provider_id} vanished before its removal: an update was lost")
        del data[provider_id]
        write_providers(path, data)


def main(argv):
    auth_dir, command = argv[1], argv[2]
    if command == "set":
        set_key(auth_dir, argv[3], sys.stdin.read().strip())
    elif command == "add-many":
        prefix, count = argv[3], int(argv[4])
        for i in range(count):
            provider_id = f"{prefix}-{i}"
            set_key(auth_dir, provider_id, derived_key(provider_id))
    elif command == "churn":
        prefix, count = argv[3], int(argv[4])
        for i in range(count):
            provider_id = f"{prefix}-{i}"
            set_key(auth_dir, provider_id, derived_key(provider_id))
            if i % 3 == 2:
                remove_key(auth_dir, f"{prefix}-{i - 1}")
    elif command == "expire":
        path = os.path.join(auth_dir, "providers.json")
        with FileLock(os.path.join(auth_dir, "providers.lock"), timeout=30):
            data = read_providers(path)
            data[argv[3]]["expires"] = int(time.time() * 1000) - 60_000
            write_providers(path, data)
    elif command == "oauth":
        entry = dict(json.loads(sys.stdin.read()), type="oauth")
        path = os.path.join(auth_dir, "providers.json")
        with FileLock(os.path.join(auth_dir, "providers.lock"), timeout=30):
            data = read_providers(path)
            data[argv[3]] = entry
            write_providers(path, data)
    elif command == "hold":
        seconds, provider_id = float(argv[3]), argv[4]
        key = sys.stdin.read().strip()
        path = os.path.join(auth_dir, "providers.json")
        with FileLock(os.path.join(auth_dir, "providers.lock"), timeout=30):
            print("locked", flush=True)
            data = read_providers(path)
            data[provider_id] = {"type": "api_key", "key": key}
            write_providers(path, data)
            time.sleep(seconds)
    else:
        print(f"unknown command {command}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
