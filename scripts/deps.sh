#!/usr/bin/env bash
# Installs the Debian packages anygpt needs to build, test and benchmark (only what is missing).
set -euo pipefail
packages=(g++ cmake ninja-build ccache pkg-config libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
          libssl-dev libhiredis-dev libgtest-dev libgmock-dev libbenchmark-dev openssl ca-certificates
          redis-server redis-tools nginx-light wrk curl clang-format)
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
