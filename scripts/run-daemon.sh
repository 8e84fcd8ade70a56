#!/usr/bin/env bash
# Installs dependencies, builds, and runs operator-authd in the foreground on its default paths
# ($OPERATOR_HOME or ~/.operator; socket in $XDG_RUNTIME_DIR/operator/ or $OPERATOR_HOME/run/).
# Arguments pass through to the daemon (e.g. --log-level debug). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# Its own build tree: the test suite's ./build has tests and crash failpoints compiled in.
BUILD_DIR=build-release ./scripts/build.sh -DAUTHD_BUILD_TESTS=OFF -DAUTHD_FAILPOINTS=OFF >&2
exec ./build-release/daemon/operator-authd "$@"
