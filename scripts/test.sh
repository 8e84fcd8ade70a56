#!/usr/bin/env bash
# Installs dependencies, builds everything, and runs the whole test suite (unit + integration
# against the real daemon binary). Set SANITIZE=1 to build and run under ASan + UBSan in
# ./build-asan instead.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
if [ "${SANITIZE:-0}" = 1 ]; then
  export BUILD_DIR=build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ./scripts/build.sh -DAUTHD_SANITIZE=ON
else
  export BUILD_DIR=build
  ./scripts/build.sh
fi
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 180 -j 2
