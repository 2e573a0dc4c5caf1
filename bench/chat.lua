-- wrk script for bench/run.sh: POSTs a ~400-byte non-streaming chat completion request.
--
-- Environment (read in every wrk thread):
--   BENCH_KEY    bearer key sent as "Authorization: Bearer <key>" (default: "bench-key")
--   BENCH_MODEL  model name in the body (default: "bench-model")
--   BENCH_FORMAT openai (default) or anthropic: the same conversation as an Anthropic Messages body;
--                embeddings: an OpenAI /v1/embeddings body (two texts, base64, 256 dimensions)
--
-- Besides wrk's own report, done() prints one machine-readable line:
--   BENCH_RESULT {"requests":..,"duration_us":..,"non2xx":..,"errors":{..},"latency_us":{..}}
-- non2xx is counted here with a response() callback (wrk's own "Non-2xx or 3xx" line only
-- counts statuses > 399).

local key = os.getenv("BENCH_KEY") or "bench-key"
local model = os.getenv("BENCH_MODEL") or "bench-model"
local format = os.getenv("BENCH_FORMAT") or "openai"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
local system = "You are a concise assistant used in a gateway benchmark. Answer in one short sentence."
local question = "Summarise in one sentence why keep-alive connections matter for an HTTP reverse proxy "
  .. "that sits in front of a model provider, and what it costs when they are missing."
if format == "embeddings" then
  wrk.body = '{"model":"' .. model .. '","input":["' .. system .. '","' .. question .. '"],'
    .. '"encoding_format":"base64","dimensions":256,"user":"bench-user-0001"}'
elseif format == "anthropic" then
  wrk.body = '{"model":"' .. model .. '","max_tokens":256,"system":"' .. system .. '","messages":['
    .. '{"role":"user","content":"' .. question .. '"}'
    .. '],"temperature":0.2,"top_p":1,"stream":false,"metadata":{"user_id":"bench-user-0001"}}'
else
  wrk.body = '{"model":"' .. model .. '","messages":['
    .. '{"role":"system","content":"' .. system .. '"},'
    .. '{"role":"user","content":"' .. question .. '"}'
    .. '],"temperature":0.2,"top_p":1,"stream":false,"user":"bench-user-0001"}'
end

-- Thread bookkeeping: each wrk thread has its own Lua state; setup() runs in the main state and
-- keeps the thread handles so done() can read the per-thread counters.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
  responses = 0
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad, seen = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    seen = seen + (t:get("responses") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"responses":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"mean":%.1f,"min":%d,"max":%d,"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d},'
      .. '"body_bytes":%d}\n',
    summary.requests, seen, summary.duration, summary.bytes, bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.min, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9),
    #wrk.body))
end
