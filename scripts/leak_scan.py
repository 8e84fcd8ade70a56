#!/usr/bin/python3
"""Scans the suite's logs and output for the secrets the tests used.

usage: leak_scan.py LOG_DIR [FILE...]

The secrets are the string literals of the test sources (tests/, client/python/tests/) that look
like credentials: they start with a key or token prefix the tests use (sk-, gsk-, xoxb-, xapp-,
tg-, rt-, at-, pykey-), or contain "secret" joined with a separator or a digit (sk-or-secret,
SECRET-BODY, SeCrEt42). Every file in LOG_DIR (the daemons' logs, kept by
tests/support/daemon_process.cc under $AUTHD_TEST_LOG_DIR) and every FILE (e.g. ctest's output
log) is searched for each of them. Prints each hit as file:line and the literal's first four
characters (never the whole secret), and exits 1 when there is any.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_DIRS = [os.path.join(ROOT, "tests"), os.path.join(ROOT, "client", "python", "tests")]
PREFIXES = ("sk-", "gsk-", "xoxb-", "xapp-", "tg-", "rt-", "at-", "pykey-")
# "secret" alone names a thing; a secret the tests use is a token with a separator or digits.
COMPOSITE = re.compile(r"[-:=.0-9]")
LITERAL = re.compile(r'"((?:[^"\\\n]|\\.){6,})"' + "|" + r"'((?:[^'\\\n]|\\.){6,})'")


def secrets_in_sources():
    found = set()
    for top in SOURCE_DIRS:
        for directory, _, files in os.walk(top):
            if "corpus" in directory.split(os.sep):
                continue
            for name in files:
                if not name.endswith((".cc", ".h", ".py")):
                    continue
                with open(os.path.join(directory, name), encoding="utf-8",
                          errors="replace") as f:
                    for match in LITERAL.finditer(f.read()):
                        literal = match.group(1) or match.group(2)
                        if "\\" in literal or "{" in literal or " " in literal:
                            continue  # escapes, format strings, prose: not a literal secret
                        if literal.startswith(PREFIXES) or (
                                "secret" in literal.lower() and COMPOSITE.search(literal)):
                            found.add(literal)
    return found


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    log_dir, extra = argv[1], argv[2:]
    files = [os.path.join(log_dir, n) for n in sorted(os.listdir(log_dir))] + extra
    secrets = sorted(secrets_in_sources())
    hits = 0
    scanned_bytes = 0
    for path in files:
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        scanned_bytes += sum(len(line) + 1 for line in lines)
        for number, line in enumerate(lines, 1):
            for secret in secrets:
                if secret in line:
                    hits += 1
                    print(f"{path}:{number}: contains a test secret ({secret[:4]}...)")
    print(f"leak scan: {len(secrets)} secrets from the test sources, {len(files)} files, "
          f"{scanned_bytes} bytes scanned, {hits} hits")
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
