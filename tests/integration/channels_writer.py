#!/usr/bin/python3
"""A stand-in for the older Python tools that edit channels.json directly, under py-filelock's
FileLock on channels.lock: read, change one field, write back in place. Values come from stdin,
never argv.

usage:
  channels_writer.py AUTH_DIR set CHANNEL FIELD            value from stdin
  channels_writer.py AUTH_DIR hold SECONDS CHANNEL FIELD   locks, prints "locked", writes the
                                                           value while holding, sleeps, releases
"""
import json
import os
import sys
import time

from filelock import FileLock


def update(auth_dir, channel, field, value):
    path = os.path.join(auth_dir, "channels.json")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        data = {}
    data.setdefault(channel, {})[field] = value
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
    os.chmod(path, 0o600)


def main(argv):
    auth_dir, command = argv[1], argv[2]
    value = sys.stdin.read().strip()
    lock = FileLock(os.path.join(auth_dir, "channels.lock"), timeout=30)
    if command == "set":
        with lock:
            update(auth_dir, argv[3], argv[4], value)
    elif command == "hold":
        with lock:
            print("locked", flush=True)
            update(auth_dir, argv[4], argv[5], value)
            time.sleep(float(argv[3]))
    else:
        print("unknown command", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
