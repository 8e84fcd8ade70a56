#!/usr/bin/env bash
# Installs dependencies, builds, and runs the test suite against the real daemon binary. Three
# phases exist; by default only the first runs (README's test command, about 13 minutes on a
# fresh 2-core machine after apt; all three, as .ci/run runs them, about 34 minutes).
# .ci/run runs it, then `PHASES="asan tsan"`:
#   1. the whole suite in ./build (warnings as errors, crash failpoints compiled in), with every
#      daemon logging at trace level into ./build/test-logs; then scripts/leak_scan.py checks
#      those logs and ctest's output for every secret the tests use;
#   2. the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer in ./build-asan;
#   3. the unit tests (storage, locks, refresh single flight, watch hub, ...) under
#      ThreadSanitizer in ./build-tsan.
# PHASES picks phases, e.g. PHASES="plain asan tsan" for all of them (default: "plain").
# Test builds compile in the crash failpoints (AUTHD_FAILPOINTS); release builds
# (scripts/run-daemon.sh, in ./build-release) never do.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
phases=" ${PHASES:-plain} "
# -g1: line tables and function names only. Sanitizer reports and gdb backtraces still name the
# file and line; the full -g of RelWithDebInfo cost about 28% more compile time per file (measured
# on auth_service.cc and refresh_coordinator_test.cc: 13.1 s against 9.5 s, 14.3 s against 9.9 s).
test_flags=(-DAUTHD_BUILD_TESTS=ON -DAUTHD_FAILPOINTS=ON
            "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
# The sanitizer phases compile at -O1, the level the sanitizers' own documentation suggests:
# the ASan build took 745 s at -O1 against about 1,140 s at -O2 on this 2-core machine (cold
# cache, precompiled headers), and the ASan suite ran in 271 s against about 276 s. The plain
# phase keeps -O2, so warnings that only the optimizer finds are still errors there (TSan at -O1
# needs -Wno-maybe-uninitialized, see CMakeLists.txt).
sanitizer_flags=(-DAUTHD_BUILD_TESTS=ON -DAUTHD_FAILPOINTS=ON
                 "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG")

if [[ $phases == *" plain "* ]]; then
  BUILD_DIR=build ./scripts/build.sh "${test_flags[@]}"
  rm -rf build/test-logs && mkdir -p build/test-logs
  AUTHD_TEST_LOG_DIR=$PWD/build/test-logs \
    ctest --test-dir build --output-on-failure --timeout 180 -j 2 \
    --output-log build/test-logs/ctest-output.txt
  /usr/bin/python3 scripts/leak_scan.py build/test-logs
fi

if [[ $phases == *" asan "* ]]; then
  # Leaks fail the run; UBSan findings abort instead of scrolling past.
  # The benchmarks are built (and so checked) in the plain phase; they never run here.
  # Precompiled headers (AUTHD_PCH, see CMakeLists.txt): the warnings were checked in phase 1.
  BUILD_DIR=build-asan ./scripts/build.sh "${sanitizer_flags[@]}" -DAUTHD_SANITIZE=ON \
    -DAUTHD_BUILD_BENCH=OFF -DAUTHD_PCH=ON
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure --timeout 180 -j 2
fi

if [[ $phases == *" tsan "* ]]; then
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAUTHD_WERROR=ON \
    "${sanitizer_flags[@]}" -DAUTHD_TSAN=ON -DAUTHD_PCH=ON
  cmake --build build-tsan --target authd_unit_tests -j "$(nproc)"
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ./build-tsan/tests/authd_unit_tests
fi
