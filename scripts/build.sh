#!/usr/bin/env bash
# Configures and builds the Release tree in build/ (server: build/anygpt, mock: build/anygpt-mock).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DANYGPT_WERROR=ON "$@" >/dev/null
cmake --build build
