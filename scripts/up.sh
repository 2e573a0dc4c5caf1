#!/usr/bin/env bash
# Set-up and run: installs missing packages, builds, and starts the gateway in the foreground
# on the embedded default (data files in $DATA_DIR, no Redis). When the data directory has no
# provider yet, it also starts the bundled mock provider and registers it as the demo provider
# "demo-mock", so a first chat request gets an answer.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/deps.sh
scripts/build.sh

export DATA_DIR="${DATA_DIR:-$root/data}"
mkdir -p "$DATA_DIR"
providers="$DATA_DIR/providers.json"
mock_port="${MOCK_PROVIDER_PORT:-3001}"

needs_demo=0
if [ ! -s "$providers" ] || tr -d ' \n\r\t' < "$providers" | grep -qx '\[\]'; then
  needs_demo=1
  cat > "$providers" <<JSON
[
  {
    "id": "demo-mock",
    "apiKey": "demo-mock-key",
    "provider_url": "http://127.0.0.1:${mock_port}/v1/chat/completions",
    "streamingCompatible": true,
    "models": {
      "mock-gpt-4": {"id": "mock-gpt-4", "token_generation_speed": 50, "response_times": [], "errors": 0, "consecutive_errors": 0},
      "mock-gpt-3.5-turbo": {"id": "mock-gpt-3.5-turbo", "token_generation_speed": 50, "response_times": [], "errors": 0, "consecutive_errors": 0}
    },
    "disabled": false, "avg_response_time": null, "avg_provider_latency": null, "errors": 0, "provider_score": null
  }
]
JSON
  echo "registered the demo provider 'demo-mock' (the bundled mock) in $providers"
elif grep -q '"demo-mock"' "$providers"; then
  needs_demo=1  # the demo provider from an earlier run: its mock must run again
fi

if [ "$needs_demo" = 1 ]; then
  MOCK_PROVIDER_PORT="$mock_port" MOCK_BASE_DELAY="${MOCK_BASE_DELAY:-50}" build/anygpt-mock &
  mock_pid=$!
  trap 'kill $mock_pid 2>/dev/null || true' EXIT INT TERM
fi

# .env is read from the working directory (the repository root here).
"$root/build/anygpt"
