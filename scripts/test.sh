#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test (unit, integration,
# official-SDK client tests) with ctest, then again under ASan + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
# One enforced style (.clang-format).
find src tests/unit -name '*.cpp' -o -name '*.hpp' | xargs clang-format --dry-run --Werror
scripts/build.sh
(cd tests/integration && npm ci --no-audit --no-fund --loglevel=error)
ctest --test-dir build --output-on-failure -j2
if [ "${ANYGPT_SKIP_SANITIZE:-0}" != "1" ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DANYGPT_WERROR=ON -DANYGPT_SANITIZE=ON >/dev/null
  cmake --build build-asan
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j2 -LE bench
fi
