#!/usr/bin/env bash
# Configures and builds into ./build (or $BUILD_DIR) with warnings as errors.
# Extra CMake arguments pass through, e.g. scripts/build.sh -DAUTHD_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} -DAUTHD_WERROR=ON "$@"
cmake --build "$build_dir" -j "$(nproc)"
