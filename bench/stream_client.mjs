#!/usr/bin/env node
// Streaming load client for bench/run.sh (Node 20, builtins only).
//
// Runs `concurrency` concurrent streaming chat completions (stream:true), `rounds` times (each
// round starts them together and waits for all), over one keep-alive Agent, and prints one JSON
// object with time-to-first-chunk (first response body byte), header time, total stream time and
// error counts. TTFC is timed from the creation of the request (ttfc_ms) and, as a cross-check
// without the client's own send queueing, from the moment Node handed the whole request to the
// kernel (ttfc_from_send_ms). `warmup` extra rounds run first and are left out of the figures (they are counted
// in `streams_all`, which is what the caller divides process CPU by).
//
// usage: node bench/stream_client.mjs --url http://127.0.0.1:PORT/v1/chat/completions
//          [--key KEY] [--model bench-model] [--concurrency 64] [--rounds 5] [--warmup 1]
//          [--format openai|anthropic]   (anthropic: an Anthropic Messages body; ends at message_stop)
//          [--timeout-ms 30000]
import http from 'node:http';

function parseArgs(argv) {
  const a = { url: '', key: '', model: 'bench-model', concurrency: 64, rounds: 5, warmup: 1, timeoutMs: 30000, format: 'openai' };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1];
    switch (k) {
      case '--url': a.url = v; i++; break;
      case '--key': a.key = v; i++; break;
      case '--model': a.model = v; i++; break;
      case '--concurrency': a.concurrency = Number(v); i++; break;
      case '--rounds': a.rounds = Number(v); i++; break;
      case '--warmup': a.warmup = Number(v); i++; break;
      case '--timeout-ms': a.timeoutMs = Number(v); i++; break;
      case '--format': a.format = v; i++; break;
      default: throw new Error(`unknown argument ${k}`);
    }
  }
  if (!a.url) throw new Error('--url is required');
  return a;
}

const args = parseArgs(process.argv);
const url = new URL(args.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: args.concurrency, maxFreeSockets: args.concurrency });
const system = 'You are a concise assistant used in a gateway streaming benchmark.';
const question = 'Stream a short answer: why does time to first token matter for chat user interfaces?';
const anthropic = args.format === 'anthropic';
const body = JSON.stringify(anthropic
  ? { model: args.model, max_tokens: 256, system, messages: [{ role: 'user', content: question }], temperature: 0.2, stream: true }
  : { model: args.model, messages: [{ role: 'system', content: system }, { role: 'user', content: question }], temperature: 0.2, stream: true });
const complete = anthropic ? /event: message_stop\ndata: [^\n]*\n\n$/ : /data: \[DONE\]\s*$/;
const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
if (args.key) headers.authorization = `Bearer ${args.key}`;

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

// The first content of a stream (OpenAI or Anthropic): non-empty delta text.
const firstContent = /"content":"[^"]|"text":"[^"]/;

// One stream: resolves {ok, status, error, headersMs, ttfcMs, ttftMs, totalMs, events, bytes}:
// TTFC is the first body byte, TTFT the first content (what a user sees first; anygpt holds the
// response back until the first content, so it can still fail over before it).
function oneStream() {
  return new Promise((resolve) => {
    const t0 = nowMs();
    const r = { ok: false, status: 0, error: null, headersMs: null, ttfcMs: null, ttftMs: null, ttfcFromSendMs: null, totalMs: null, events: 0, bytes: 0 };
    let tSent = null;
    let settled = false, text = '';
    const finish = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      r.totalMs = nowMs() - t0;
      r.events = (text.match(/^data:/gm) || []).length;
      if (error) r.error = error;
      else if (r.status !== 200) r.error = 'status';
      else if (!complete.test(text)) r.error = 'incomplete';
      else r.ok = true;
      resolve(r);
    };
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', agent, headers,
    }, (res) => {
      r.status = res.statusCode;
      r.headersMs = nowMs() - t0;
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        if (r.ttfcMs === null) {
          const t = nowMs();
          r.ttfcMs = t - t0;
          if (tSent !== null) r.ttfcFromSendMs = t - tSent;
        }
        r.bytes += Buffer.byteLength(chunk);
        text += chunk;
        if (r.ttftMs === null && firstContent.test(text)) r.ttftMs = nowMs() - t0;
      });
      res.on('end', () => finish(null));
      res.on('error', () => finish('network'));
      res.on('aborted', () => finish('network'));
    });
    const timer = setTimeout(() => { req.destroy(); finish('timeout'); }, args.timeoutMs);
    req.on('error', () => finish('network'));
    req.on('finish', () => { tSent = nowMs(); });
    req.end(body);
  });
}

function stats(values) {
  const v = values.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return { n: 0, mean: null, min: null, p50: null, p90: null, p99: null, max: null };
  // nearest-rank percentile
  const p = (q) => v[Math.min(v.length - 1, Math.max(0, Math.ceil((q / 100) * v.length) - 1))];
  const round = (x) => Math.round(x * 1000) / 1000;
  return {
    n: v.length, mean: round(v.reduce((s, x) => s + x, 0) / v.length), min: round(v[0]),
    p50: round(p(50)), p90: round(p(90)), p99: round(p(99)), max: round(v[v.length - 1]),
  };
}

const measured = [];
let all = 0;
const wallStart = nowMs();
let measuredStart = wallStart;
for (let round = 0; round < args.warmup + args.rounds; round++) {
  if (round === args.warmup) measuredStart = nowMs();
  const results = await Promise.all(Array.from({ length: args.concurrency }, oneStream));
  all += results.length;
  if (round >= args.warmup) measured.push(...results);
}
const wallEnd = nowMs();
agent.destroy();

const errors = { status: 0, network: 0, incomplete: 0, timeout: 0 };
for (const r of measured) if (r.error) errors[r.error] = (errors[r.error] ?? 0) + 1;
const statuses = {};
for (const r of measured) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
const ok = measured.filter((r) => r.ok);
const out = {
  url: args.url,
  model: args.model,
  concurrency: args.concurrency,
  rounds: args.rounds,
  warmup_rounds: args.warmup,
  streams: measured.length,
  streams_all: all,
  ok: ok.length,
  errors,
  error_total: measured.length - ok.length,
  statuses,
  ttfc_ms: stats(measured.map((r) => r.ttfcMs)),
  ttft_ms: stats(measured.map((r) => r.ttftMs)),
  ttfc_from_send_ms: stats(measured.map((r) => r.ttfcFromSendMs)),
  headers_ms: stats(measured.map((r) => r.headersMs)),
  total_ms: stats(measured.map((r) => r.totalMs)),
  events_per_stream: stats(ok.map((r) => r.events)),
  bytes_per_stream: stats(ok.map((r) => r.bytes)),
  wall_ms: Math.round((wallEnd - measuredStart) * 1000) / 1000,
  wall_ms_all: Math.round((wallEnd - wallStart) * 1000) / 1000,
};
process.stdout.write(JSON.stringify(out) + '\n');
