#!/usr/bin/env bash
# anygpt overhead benchmark: direct upstream vs nginx (plain keep-alive reverse proxy) vs anygpt,
# side by side in one run. See docs/PERFORMANCE.md.
#
#   bash bench/run.sh                                   # DURATION=10s REPEAT=2 CONNS="16 64 256"
#   DURATION=3 REPEAT=1 CONNS="16 64" bash bench/run.sh # short run
#
# Environment (all optional):
#   DURATION        wrk duration per point (wrk syntax: 10, 10s, 1m)       default 10s
#   REPEAT          repetitions of every (target, connections) point          default 2
#   CONNS           wrk connection counts                                     default "16 64 256"
#   UPSTREAM        mock | nginx (nginx: static chat.completion from nginx)   default mock
#   WRK_THREADS     wrk -t                                                    default 2
#   WARMUP          wrk warm-up per target before measuring (0 = none)        default 1s
#   MOCK_THREADS    anygpt-mock worker threads                                default 1
#   STREAM_CONCURRENCY, STREAM_ROUNDS, STREAM_WARMUP_ROUNDS                   default 64, 5, 1
#   STREAM_CHUNKS, STREAM_CHUNK_MS  mock stream shape                         default 50, 10
#   SKIP_STREAM=1   skip the streaming scenario
#   SCENARIO        chat | embeddings (embeddings: POST /v1/embeddings, two texts, base64,
#                   256 dimensions, through direct, nginx and anygpt; no streaming;
#                   UPSTREAM=mock only)                                       default chat
#   TARGETS         which targets to measure: direct nginx anygpt anthropic native openai-native
#                   (anthropic: Anthropic Messages requests at /v3/v1/messages translated to the
#                   OpenAI upstream and back; native: the same to a provider of protocol
#                   "anthropic" (the mock's /v1/messages), passed through; openai-native: OpenAI
#                   requests to that anthropic provider, translated)         default all six
#   DATA_SOURCE     filesystem | redis (redis: a redis-server on a free port; anygpt in Redis mode)
#   BUILD_DIR       where anygpt and anygpt-mock are                          default <repo>/build
#   NGINX           nginx binary                                              default /usr/sbin/nginx
#   RESULTS_DIR     where the raw JSON goes                                   default bench/results
#
# Everything listens on 127.0.0.1 only; every process started here is killed on exit.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
NGINX=${NGINX:-/usr/sbin/nginx}
DURATION=${DURATION:-10s}
REPEAT=${REPEAT:-2}
CONNS=${CONNS:-"16 64 256"}
UPSTREAM=${UPSTREAM:-mock}
WRK_THREADS=${WRK_THREADS:-2}
WARMUP=${WARMUP:-1s}
MOCK_THREADS=${MOCK_THREADS:-1}
STREAM_CONCURRENCY=${STREAM_CONCURRENCY:-64}
STREAM_ROUNDS=${STREAM_ROUNDS:-5}
STREAM_WARMUP_ROUNDS=${STREAM_WARMUP_ROUNDS:-1}
STREAM_CHUNKS=${STREAM_CHUNKS:-50}
DATA_SOURCE=${DATA_SOURCE:-filesystem}
STREAM_CHUNK_MS=${STREAM_CHUNK_MS:-10}
SKIP_STREAM=${SKIP_STREAM:-0}
SCENARIO=${SCENARIO:-chat}
if [[ $SCENARIO == embeddings ]]; then
  TARGETS=${TARGETS:-"direct nginx anygpt"}
  SKIP_STREAM=1
else
  TARGETS=${TARGETS:-"direct nginx anygpt anthropic native openai-native"}
fi
RESULTS_DIR=${RESULTS_DIR:-$BENCH_DIR/results}
HOST=127.0.0.1

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

# wrk duration -> seconds (for the watchdog timeout)
dur_seconds() {
  local d=$1
  case $d in
    *ms) echo 1 ;;
    *s) echo "${d%s}" ;;
    *m) echo $(( ${d%m} * 60 )) ;;
    *h) echo $(( ${d%h} * 3600 )) ;;
    *) echo "$d" ;;
  esac
}

# ---------------------------------------------------------------- preflight
[[ $UPSTREAM == mock || $UPSTREAM == nginx ]] || die "UPSTREAM must be mock or nginx, got '$UPSTREAM'"
[[ $SCENARIO == chat || $SCENARIO == embeddings ]] || die "SCENARIO must be chat or embeddings, got '$SCENARIO'"
if [[ $SCENARIO == embeddings ]]; then
  [[ $UPSTREAM == mock ]] || die "SCENARIO=embeddings needs UPSTREAM=mock (the static nginx upstream answers chat only)"
  for t in $TARGETS; do
    [[ $t == direct || $t == nginx || $t == anygpt ]] || die "SCENARIO=embeddings measures direct, nginx and anygpt only, got '$t'"
  done
fi
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "REPEAT must be a positive integer, got '$REPEAT'"
[[ $(dur_seconds "$DURATION") =~ ^[0-9]+$ ]] || die "DURATION must look like 10, 10s or 1m, got '$DURATION'"
for c in $CONNS; do
  [[ $c =~ ^[0-9]+$ && $c -ge $WRK_THREADS ]] || die "CONNS entries must be integers >= WRK_THREADS ($WRK_THREADS), got '$c'"
done
for bin in "$BUILD_DIR/anygpt" "$BUILD_DIR/anygpt-mock"; do
  [[ -x $bin ]] || die "$bin not found (build the project first, or set BUILD_DIR)"
done
[[ -x $NGINX ]] || die "$NGINX not found (apt-get install nginx-light or nginx)"
command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"
command -v node >/dev/null || die "node not found (Node 20 is needed for the streaming client and the report)"
command -v curl >/dev/null || die "curl not found"
CLK_TCK=$(getconf CLK_TCK)
WATCHDOG=$(( $(dur_seconds "$DURATION") + 30 ))

TMP=$(mktemp -d /tmp/anygpt-bench.XXXXXX)
chmod 755 "$TMP"   # nginx workers may run as another user when started by root
PIDS=()

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 30); do
    local alive=0
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    (( alive )) || break
    sleep 0.1
  done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "temp dir kept: $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# N distinct free loopback ports (held together while picked, then released)
free_ports() {
  node -e '
    const net = require("net"); const n = Number(process.argv[1]); const s = [];
    for (let i = 0; i < n; i++) { const x = net.createServer(); x.listen(0, "127.0.0.1", () => {
      s.push(x); if (s.length === n) { console.log(s.map((y) => y.address().port).join(" ")); s.forEach((y) => y.close()); } }); }
  ' "$1"
}

# Waits until regex $2 appears in file $1 (process $3 must stay alive); prints group 1 (port).
wait_for_port_line() {
  local file=$1 regex=$2 pid=$3 name=$4 i
  for i in $(seq 1 100); do
    if [[ -s $file ]] && [[ $(cat "$file") =~ $regex ]]; then echo "${BASH_REMATCH[1]}"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { cat "$TMP/$name.err" >&2 2>/dev/null; die "$name exited during start-up"; }
    sleep 0.1
  done
  cat "$TMP/$name.err" >&2 2>/dev/null
  die "$name did not print its listening line in 10 s"
}

# Waits until something answers HTTP on port $1.
wait_http() {
  local port=$1 pid=$2 name=$3 i
  for i in $(seq 1 100); do
    if curl -s -o /dev/null --max-time 1 "http://$HOST:$port/"; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { cat "$TMP/$name.err" "$TMP/$name/error.log" >&2 2>/dev/null; die "$name exited during start-up"; }
    sleep 0.1
  done
  die "$name did not answer on port $port in 10 s"
}

# "utime stime" (clock ticks, summed over the given pids, all threads included); "null" for none.
cpu_ticks() {
  (( $# )) || { echo null; return; }
  local ut=0 st=0 p line
  local -a f
  for p in "$@"; do
    [[ -r /proc/$p/stat ]] || continue
    read -r line <"/proc/$p/stat" || continue
    read -ra f <<<"${line##*) }"   # fields from 3 (state) on: utime is field 14, stime 15
    ut=$(( ut + f[11] )); st=$(( st + f[12] ))
  done
  echo "$ut $st"
}

# JSON fields for the CPU used between two cpu_ticks readings: prefix, before, after
cpu_json() {
  local pre=$1 b=$2 a=$3
  if [[ $b == null ]]; then
    printf '"%s_ticks":null,"%s_user_ticks":null,"%s_sys_ticks":null' "$pre" "$pre" "$pre"
    return
  fi
  local bu bs au as
  read -r bu bs <<<"$b"; read -r au as <<<"$a"
  printf '"%s_ticks":%d,"%s_user_ticks":%d,"%s_sys_ticks":%d' "$pre" $(( au + as - bu - bs )) "$pre" $(( au - bu )) "$pre" $(( as - bs ))
}

# nginx master pid + its worker pids
nginx_pids() {
  local master=$1
  echo "$master $(cat "/proc/$master/task/$master/children" 2>/dev/null)"
}

proc_status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# ---------------------------------------------------------------- ports and files
read -r P_NGINX P_NGINX_STREAM P_UPSTREAM_NGINX < <(free_ports 3)
BENCH_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
ADMIN_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
BENCH_MODEL=bench-model
STREAM_MODEL=bench-model
NATIVE_MODEL=bench-native-model

# ---------------------------------------------------------------- upstream: anygpt-mock (always: streaming needs it)
env MOCK_PROVIDER_PORT=0 MOCK_HOST=$HOST MOCK_BASE_DELAY=0 MOCK_DELAY_VARIANCE=0 MOCK_ERROR_RATE=0 \
  MOCK_TIMEOUT_RATE=0 MOCK_ENABLE_LOGS=false MOCK_THREADS="$MOCK_THREADS" \
  "$BUILD_DIR/anygpt-mock" >"$TMP/mock.out" 2>"$TMP/mock.err" &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
P_MOCK=$(wait_for_port_line "$TMP/mock.out" 'anygpt-mock listening on http://[^:]+:([0-9]+)' "$MOCK_PID" mock)
MOCK_URL="http://$HOST:$P_MOCK"
curl -sf -o /dev/null -X POST "$MOCK_URL/mock/reset" || die "mock control API did not answer"

# ---------------------------------------------------------------- upstream: static nginx (UPSTREAM=nginx)
# ~600-byte chat.completion, fixed. No $, ' or \ in it (nginx string).
STATIC_JSON='{"id":"chatcmpl-bench-0001","object":"chat.completion","created":1718000000,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"Keep-alive connections let a reverse proxy reuse warm TCP sessions to the model provider, so each request skips the connect and slow-start costs. Without them every call pays a handshake, and tail latency grows quickly under load. Reuse also avoids ephemeral port churn.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":62,"completion_tokens":48,"total_tokens":110},"system_fingerprint":"fp_bench"}'

nginx_common() {  # $1 = prefix dir
  local d=$1
  cat <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $d/client_body;
  proxy_temp_path $d/proxy;
  fastcgi_temp_path $d/fastcgi;
  uwsgi_temp_path $d/uwsgi;
  scgi_temp_path $d/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  server_tokens off;
EOF
}

start_nginx() {  # $1 = name (conf in $TMP/$1/nginx.conf); sets NGINX_PID
  local name=$1 d=$TMP/$1
  "$NGINX" -t -q -p "$d/" -c "$d/nginx.conf" -e "$d/error.log" 2>"$TMP/$name.err" \
    || { cat "$TMP/$name.err" >&2; die "$name: nginx -t failed"; }
  "$NGINX" -p "$d/" -c "$d/nginx.conf" -e "$d/error.log" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
}

if [[ $UPSTREAM == nginx ]]; then
  d=$TMP/nginx-upstream; mkdir -p "$d"; chmod 755 "$d"
  { nginx_common "$d"; cat <<EOF
  server {
    listen $HOST:$P_UPSTREAM_NGINX reuseport;
    location = /v1/chat/completions {
      default_type application/json;
      return 200 '$STATIC_JSON';
    }
    location / { return 404; }
  }
}
EOF
  } >"$d/nginx.conf"
  start_nginx nginx-upstream
  UPNGX_PID=$NGINX_PID
  wait_http "$P_UPSTREAM_NGINX" "$UPNGX_PID" nginx-upstream
  P_UPSTREAM=$P_UPSTREAM_NGINX
  STREAM_MODEL=bench-stream-model
else
  P_UPSTREAM=$P_MOCK
fi
UPSTREAM_URL="http://$HOST:$P_UPSTREAM"

upstream_pids() {
  if [[ $UPSTREAM == nginx ]]; then nginx_pids "$UPNGX_PID"; else echo "$MOCK_PID"; fi
}

# ---------------------------------------------------------------- nginx reverse proxy (the reference)
d=$TMP/nginx-proxy; mkdir -p "$d"; chmod 755 "$d"
{ nginx_common "$d"; cat <<EOF
  upstream backend {
    server $HOST:$P_UPSTREAM;
    keepalive 64;
    keepalive_requests 1000000;
  }
  upstream stream_backend {
    server $HOST:$P_MOCK;
    keepalive 64;
    keepalive_requests 1000000;
  }
  # non-streaming: default buffering, like a typical nginx in front of an API
  server {
    listen $HOST:$P_NGINX reuseport;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
  # streaming: unbuffered so every SSE event is passed on as it arrives
  server {
    listen $HOST:$P_NGINX_STREAM reuseport;
    location / {
      proxy_pass http://stream_backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
EOF
} >"$d/nginx.conf"
start_nginx nginx-proxy
PROXY_PID=$NGINX_PID
wait_http "$P_NGINX" "$PROXY_PID" nginx-proxy
wait_http "$P_NGINX_STREAM" "$PROXY_PID" nginx-proxy

# ---------------------------------------------------------------- anygpt
DATA=$TMP/anygpt-data; mkdir -p "$DATA"
provider_json() {  # id url model
  cat <<EOF
  {"id":"$1","apiKey":"provider-secret-$1","provider_url":"$2/v1/chat/completions","streamingCompatible":true,
   "models":{"$3":{"id":"$3","token_generation_speed":50,"response_times":[],"errors":0,"consecutive_errors":0}},
   "disabled":false,"avg_response_time":null,"avg_provider_latency":null,"errors":0,"provider_score":null}
EOF
}
{
  echo "["
  provider_json bench-upstream "$UPSTREAM_URL" "$BENCH_MODEL"
  if [[ $STREAM_MODEL != "$BENCH_MODEL" ]]; then echo ","; provider_json bench-stream "$MOCK_URL" "$STREAM_MODEL"; fi
  # The mock's native Anthropic API, for the native and openai-native targets.
  echo ",{\"id\":\"bench-native\",\"protocol\":\"anthropic\",\"apiKey\":\"provider-secret-native\","
  echo " \"provider_url\":\"$MOCK_URL\",\"models\":{\"$NATIVE_MODEL\":{\"id\":\"$NATIVE_MODEL\"}}}"
  echo "]"
} >"$DATA/providers.json"
cat >"$DATA/keys.json" <<EOF
{"$BENCH_KEY":{"userId":"bench-user","tokenUsage":0,"requestCount":0,"role":"user","tier":"enterprise"}}
EOF
# enterprise with limits far above what one run sends, so no request is refused for quota
cat >"$DATA/tiers.json" <<EOF
{
  "enterprise": {"rps": 1000000, "rpm": 60000000, "rpd": 1000000000, "max_tokens": null, "min_provider_score": null, "max_provider_score": null},
  "free": {"rps": 20, "rpm": 1000, "rpd": 10000, "max_tokens": 5000000, "min_provider_score": 0, "max_provider_score": 70}
}
EOF
REDIS_ENV=()
if [[ $DATA_SOURCE == redis ]]; then
  P_REDIS=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  redis-server --port "$P_REDIS" --bind "$HOST" --save '' --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  for _ in $(seq 1 50); do redis-cli -p "$P_REDIS" ping >/dev/null 2>&1 && break; sleep 0.1; done
  REDIS_ENV=(DATA_SOURCE_PREFERENCE=redis "REDIS_URL=$HOST:$P_REDIS")
  log "redis-server on :$P_REDIS (anygpt in Redis mode)"
fi
env PORT=0 HOST=$HOST DATA_DIR="$DATA" LOG_LEVEL=warn WORKER_THREADS=1 "${REDIS_ENV[@]}" \
  DEFAULT_ADMIN_USER_ID=bench-admin DEFAULT_ADMIN_API_KEY="$ADMIN_KEY" \
  "$BUILD_DIR/anygpt" >"$TMP/anygpt.out" 2>"$TMP/anygpt.err" &
ANYGPT_PID=$!
PIDS+=("$ANYGPT_PID")
P_ANYGPT=$(wait_for_port_line "$TMP/anygpt.out" 'anygpt listening on http://[^:]+:([0-9]+)' "$ANYGPT_PID" anygpt)

url_of() {  # target -> non-streaming URL
  if [[ $SCENARIO == embeddings ]]; then
    case $1 in
      direct) echo "$UPSTREAM_URL/v1/embeddings" ;;
      nginx) echo "http://$HOST:$P_NGINX/v1/embeddings" ;;
      anygpt) echo "http://$HOST:$P_ANYGPT/v1/embeddings" ;;
    esac
    return
  fi
  case $1 in
    direct) echo "$UPSTREAM_URL/v1/chat/completions" ;;
    nginx) echo "http://$HOST:$P_NGINX/v1/chat/completions" ;;
    anygpt) echo "http://$HOST:$P_ANYGPT/v1/chat/completions" ;;
    anthropic|native) echo "http://$HOST:$P_ANYGPT/v3/v1/messages" ;;
    openai-native) echo "http://$HOST:$P_ANYGPT/v1/chat/completions" ;;
  esac
}
format_of() {
  if [[ $SCENARIO == embeddings ]]; then echo embeddings
  elif [[ $1 == anthropic || $1 == native ]]; then echo anthropic
  else echo openai; fi
}
model_of() { [[ $1 == native || $1 == openai-native ]] && echo "$NATIVE_MODEL" || echo "$BENCH_MODEL"; }
stream_model_of() { [[ $1 == native || $1 == openai-native ]] && echo "$NATIVE_MODEL" || echo "$STREAM_MODEL"; }
stream_url_of() {
  case $1 in
    direct) echo "$MOCK_URL/v1/chat/completions" ;;
    nginx) echo "http://$HOST:$P_NGINX_STREAM/v1/chat/completions" ;;
    anygpt) echo "http://$HOST:$P_ANYGPT/v1/chat/completions" ;;
    anthropic|native) echo "http://$HOST:$P_ANYGPT/v3/v1/messages" ;;
    openai-native) echo "http://$HOST:$P_ANYGPT/v1/chat/completions" ;;
  esac
}
proxy_pids_of() {
  case $1 in
    direct) echo "" ;;
    nginx) nginx_pids "$PROXY_PID" ;;
    anygpt|anthropic|native|openai-native) echo "$ANYGPT_PID" ;;
  esac
}

# Sanity: one request through every target must answer 200 with a chat.completion (or an
# Anthropic message, or an embeddings list).
for t in $TARGETS; do
  body="{\"model\":\"$(model_of "$t")\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}"
  case $(format_of "$t") in
    openai) expect='"chat.completion"' ;;
    anthropic) expect='"type":"message"' ;;
    embeddings) expect='"object":"list"'; body="{\"model\":\"$(model_of "$t")\",\"input\":\"hello\"}" ;;
  esac
  code=$(curl -s -o "$TMP/sanity-$t.json" -w '%{http_code}' --max-time 5 -X POST "$(url_of $t)" \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $BENCH_KEY" -d "$body") || code=000
  [[ $code == 200 ]] || { cat "$TMP/sanity-$t.json" "$TMP/anygpt.err" >&2 2>/dev/null; die "sanity request to $t answered $code"; }
  grep -q "$expect" "$TMP/sanity-$t.json" || die "sanity request to $t: not a $expect answer"
done
ANYGPT_RSS_START_KB=$(proc_status_kb "$ANYGPT_PID" VmRSS)
NGINX_WORKERS_START=$(cat "/proc/$PROXY_PID/task/$PROXY_PID/children" 2>/dev/null || true)

log "upstream=$UPSTREAM ($UPSTREAM_URL)  mock=$MOCK_URL  nginx=:$P_NGINX (stream :$P_NGINX_STREAM)  anygpt=:$P_ANYGPT"
log "DURATION=$DURATION REPEAT=$REPEAT CONNS='$CONNS' wrk -t$WRK_THREADS; load: $(cut -d' ' -f1-3 /proc/loadavg)"

RUNS=$TMP/runs.jsonl
: >"$RUNS"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

check_alive() {
  kill -0 "$ANYGPT_PID" 2>/dev/null || { tail -n 50 "$TMP/anygpt.err" >&2; die "anygpt died (see stderr above)"; }
  kill -0 "$PROXY_PID" 2>/dev/null || die "nginx proxy died"
  kill -0 "$MOCK_PID" 2>/dev/null || die "anygpt-mock died"
}

# ---------------------------------------------------------------- non-streaming (wrk)
run_wrk() {  # target conns duration -> output file; prints BENCH_RESULT json
  local t=$1 c=$2 dur=$3 out=$4
  BENCH_KEY=$BENCH_KEY BENCH_MODEL=$(model_of "$t") BENCH_FORMAT=$(format_of "$t") timeout --kill-after=5 "$WATCHDOG" \
    wrk -t"$WRK_THREADS" -c"$c" -d"$dur" --latency -s "$BENCH_DIR/chat.lua" "$(url_of "$t")" >"$out" 2>&1 || true
  grep '^BENCH_RESULT ' "$out" | sed 's/^BENCH_RESULT //' | tail -n 1
}

if [[ $WARMUP != 0 && $WARMUP != 0s ]]; then
  for t in $TARGETS; do
    log "warm-up $t ($WARMUP, 16 conns)"
    res=$(run_wrk "$t" 16 "$WARMUP" "$TMP/warmup-$t.txt")
    [[ -n $res ]] || { cat "$TMP/warmup-$t.txt" >&2; die "warm-up wrk against $t printed no result"; }
    printf '{"kind":"warmup","target":"%s","conns":16,"wrk":%s}\n' "$t" "$res" >>"$RUNS"
  done
  check_alive
fi

for c in $CONNS; do
  for rep in $(seq 1 "$REPEAT"); do
    for t in $TARGETS; do
      read -ra pp <<<"$(proxy_pids_of "$t")"
      read -ra up <<<"$(upstream_pids)"
      c0=$(cpu_ticks "${pp[@]}"); u0=$(cpu_ticks "${up[@]}")
      res=$(run_wrk "$t" "$c" "$DURATION" "$TMP/wrk-$t-$c-$rep.txt")
      c1=$(cpu_ticks "${pp[@]}"); u1=$(cpu_ticks "${up[@]}")
      if [[ -z $res ]]; then
        cat "$TMP/wrk-$t-$c-$rep.txt" >&2
        die "wrk against $t ($c conns) printed no result"
      fi
      printf '{"kind":"wrk","target":"%s","conns":%d,"rep":%d,%s,%s,"loadavg":"%s","wrk":%s}\n' \
        "$t" "$c" "$rep" "$(cpu_json cpu "$c0" "$c1")" "$(cpu_json upstream_cpu "$u0" "$u1")" \
        "$(cut -d' ' -f1-3 /proc/loadavg)" "$res" >>"$RUNS"
      node -e '
        const r = JSON.parse(process.argv[1]); const w = r.wrk, s = w.duration_us / 1e6;
        const cpu = r.cpu_ticks === null ? "-" : (r.cpu_ticks / Number(process.argv[2]) * 1e6 / w.requests).toFixed(1);
        const errs = w.non2xx + w.errors.connect + w.errors.read + w.errors.write + w.errors.timeout;
        console.error(`bench: ${r.target.padEnd(6)} c=${String(r.conns).padEnd(4)} rep ${r.rep}: ${(w.requests / s).toFixed(0)} req/s  p50 ${(w.latency_us.p50 / 1000).toFixed(3)} ms  p99 ${(w.latency_us.p99 / 1000).toFixed(3)} ms  errors ${errs}  cpu/req ${cpu} us`);
      ' "$(tail -n 1 "$RUNS")" "$CLK_TCK"
      check_alive
      sleep 0.5
    done
  done
done

# ---------------------------------------------------------------- streaming
if [[ $SKIP_STREAM != 1 ]]; then
  curl -sf -o /dev/null -X POST "$MOCK_URL/mock/config" -H 'Content-Type: application/json' \
    -d "{\"streamChunks\":$STREAM_CHUNKS,\"chunkIntervalMs\":$STREAM_CHUNK_MS}" || die "mock config failed"
  for t in $TARGETS; do
    read -ra pp <<<"$(proxy_pids_of "$t")"
    up=("$MOCK_PID")
    c0=$(cpu_ticks "${pp[@]}"); u0=$(cpu_ticks "${up[@]}")
    log "streaming $t: $STREAM_CONCURRENCY concurrent x $STREAM_ROUNDS rounds (+$STREAM_WARMUP_ROUNDS warm-up), $STREAM_CHUNKS chunks every $STREAM_CHUNK_MS ms"
    res=$(timeout --kill-after=5 300 node "$BENCH_DIR/stream_client.mjs" --url "$(stream_url_of "$t")" --key "$BENCH_KEY" \
      --format "$(format_of "$t")" \
      --model "$(stream_model_of "$t")" --concurrency "$STREAM_CONCURRENCY" --rounds "$STREAM_ROUNDS" \
      --warmup "$STREAM_WARMUP_ROUNDS" 2>"$TMP/stream-$t.err") || { cat "$TMP/stream-$t.err" >&2; die "stream client against $t failed"; }
    c1=$(cpu_ticks "${pp[@]}"); u1=$(cpu_ticks "${up[@]}")
    printf '{"kind":"stream","target":"%s",%s,%s,"loadavg":"%s","client":%s}\n' \
      "$t" "$(cpu_json cpu "$c0" "$c1")" "$(cpu_json upstream_cpu "$u0" "$u1")" \
      "$(cut -d' ' -f1-3 /proc/loadavg)" "$res" >>"$RUNS"
    check_alive
    sleep 0.5
  done
fi

# ---------------------------------------------------------------- after the runs
sleep 1.2   # let one usage flush happen (FLUSH_INTERVAL_MS default 1000)
check_alive
ANYGPT_HWM_KB=$(proc_status_kb "$ANYGPT_PID" VmHWM)
ANYGPT_RSS_END_KB=$(proc_status_kb "$ANYGPT_PID" VmRSS)
ANYGPT_THREADS=$(proc_status_kb "$ANYGPT_PID" Threads)
NGINX_WORKER_HWM_KB=0
for w in $(cat "/proc/$PROXY_PID/task/$PROXY_PID/children" 2>/dev/null); do
  NGINX_WORKER_HWM_KB=$(proc_status_kb "$w" VmHWM)
done
NGINX_WORKERS_END=$(cat "/proc/$PROXY_PID/task/$PROXY_PID/children" 2>/dev/null || true)
KEYS_ME=$(curl -s --max-time 5 -H "Authorization: Bearer $BENCH_KEY" "http://$HOST:$P_ANYGPT/v1/keys/me" || echo '{}')
[[ -n $KEYS_ME ]] || KEYS_ME='{}'
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$RESULTS_DIR"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$RESULTS_DIR/$STAMP.json

git_head() {  # read-only, without running git
  local g=$ROOT/.git ref
  [[ -f $g/HEAD ]] || { echo unknown; return; }
  ref=$(cat "$g/HEAD")
  if [[ $ref == ref:* ]]; then
    ref=${ref#ref: }
    if [[ -f $g/$ref ]]; then cat "$g/$ref"; else awk -v r="$ref" '$2 == r { print $1 }' "$g/packed-refs" 2>/dev/null || echo unknown; fi
  else echo "$ref"; fi
}

export BM_RUNS=$RUNS BM_OUT=$OUT BM_CLK_TCK=$CLK_TCK BM_DURATION=$DURATION BM_REPEAT=$REPEAT BM_CONNS=$CONNS \
  BM_UPSTREAM=$UPSTREAM BM_SCENARIO=$SCENARIO BM_WRK_THREADS=$WRK_THREADS BM_MOCK_THREADS=$MOCK_THREADS BM_WARMUP=$WARMUP \
  BM_STREAM_CONCURRENCY=$STREAM_CONCURRENCY BM_STREAM_ROUNDS=$STREAM_ROUNDS BM_STREAM_CHUNKS=$STREAM_CHUNKS \
  BM_STREAM_CHUNK_MS=$STREAM_CHUNK_MS BM_SKIP_STREAM=$SKIP_STREAM \
  BM_ANYGPT_HWM_KB=${ANYGPT_HWM_KB:-0} BM_ANYGPT_RSS_START_KB=${ANYGPT_RSS_START_KB:-0} \
  BM_ANYGPT_RSS_END_KB=${ANYGPT_RSS_END_KB:-0} BM_ANYGPT_THREADS=${ANYGPT_THREADS:-0} \
  BM_NGINX_WORKER_HWM_KB=${NGINX_WORKER_HWM_KB:-0} \
  BM_NGINX_WORKERS_START=$NGINX_WORKERS_START BM_NGINX_WORKERS_END=$NGINX_WORKERS_END \
  BM_KEYS_ME=$KEYS_ME BM_LOAD_START=$LOAD_START BM_LOAD_END=$LOAD_END \
  BM_ANYGPT_STDERR=$TMP/anygpt.err BM_NGINX_ERRLOG=$TMP/nginx-proxy/error.log \
  BM_GIT_HEAD=$(git_head) BM_ANYGPT_SHA256=$(sha256sum "$BUILD_DIR/anygpt" | cut -d' ' -f1) \
  BM_WRK_VERSION="$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)" BM_NGINX_VERSION="$("$NGINX" -v 2>&1)" \
  BM_NODE_VERSION=$(node --version) BM_BODY_BYTES_STREAM=0
node "$BENCH_DIR/report.mjs"
