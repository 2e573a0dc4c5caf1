// Report step of bench/run.sh (Node 20, builtins only): reads the raw runs (JSON lines) and the
// BM_* environment set by run.sh, prints the side-by-side tables and the target checks, and
// writes everything as one JSON file (BM_OUT).
import { readFileSync, writeFileSync, existsSync } from 'node:fs';

const env = process.env;
const CLK_TCK = Number(env.BM_CLK_TCK || 100);
const runs = readFileSync(env.BM_RUNS, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const TARGETS = ['direct', 'nginx', 'anygpt', 'anthropic', 'native', 'openai-native'];

// The targets of docs/PERFORMANCE.md.
const GOALS = {
  cpu_ratio_max: 1.5,          // anygpt CPU-us/req <= 1.5 x nginx, at every connection count
  rps_pct_of_direct_min: 45,   // anygpt RPS at 64 connections >= 45 % of direct
  rps_pct_conns: 64,
  p50_ms_max: 0.5,             // anygpt p50 at 16 connections <= 0.5 ms
  p50_conns: 16,
  errors_max: 0,               // no non-2xx and no socket errors through anygpt
  rss_mb_max: 50,              // anygpt peak RSS (VmHWM)
  ttfc_extra_ms_max: 1,        // streaming time to first content p50 <= direct + 1 ms
  stream_cpu_ratio_max: 1.3,   // anygpt CPU per stream <= 1.3 x nginx
  translate_cpu_ratio_max: 1.5,  // translated requests (anthropic, openai-native) <= 1.5 x the OpenAI passthrough's CPU
  native_cpu_ratio_max: 1.1,     // same-protocol passthrough (native) <= 1.1 x the OpenAI passthrough's CPU
};
// Targets measured against the OpenAI passthrough (anygpt), with their limit.
const VERSUS_ANYGPT = { anthropic: 'translate_cpu_ratio_max', native: 'native_cpu_ratio_max', 'openai-native': 'translate_cpu_ratio_max' };

const mean = (xs) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);
const sum = (xs) => xs.reduce((s, x) => s + x, 0);
const fix = (x, d) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));
const ticksToUs = (t) => (t * 1e6) / CLK_TCK;
const wrkErrors = (w) => w.non2xx + w.errors.connect + w.errors.read + w.errors.write + w.errors.timeout;

// ------------------------------------------------------------------ non-streaming aggregation
const conns = [...new Set(runs.filter((r) => r.kind === 'wrk').map((r) => r.conns))];
const wrkSummary = {};
for (const c of conns) {
  wrkSummary[c] = {};
  for (const t of TARGETS) {
    const rs = runs.filter((r) => r.kind === 'wrk' && r.conns === c && r.target === t);
    if (!rs.length) continue;
    const reqs = sum(rs.map((r) => r.wrk.requests));
    const cpuKnown = rs.every((r) => r.cpu_ticks !== null);
    wrkSummary[c][t] = {
      runs: rs.length,
      rps: mean(rs.map((r) => r.wrk.requests / (r.wrk.duration_us / 1e6))),
      rps_each: rs.map((r) => r.wrk.requests / (r.wrk.duration_us / 1e6)),
      p50_ms: mean(rs.map((r) => r.wrk.latency_us.p50 / 1000)),
      p99_ms: mean(rs.map((r) => r.wrk.latency_us.p99 / 1000)),
      max_ms: Math.max(...rs.map((r) => r.wrk.latency_us.max / 1000)),
      requests: reqs,
      errors: sum(rs.map((r) => wrkErrors(r.wrk))),
      non2xx: sum(rs.map((r) => r.wrk.non2xx)),
      socket_errors: {
        connect: sum(rs.map((r) => r.wrk.errors.connect)), read: sum(rs.map((r) => r.wrk.errors.read)),
        write: sum(rs.map((r) => r.wrk.errors.write)), timeout: sum(rs.map((r) => r.wrk.errors.timeout)),
      },
      // pooled over the repetitions: total CPU / total requests (clock ticks are coarse)
      cpu_us_per_req: cpuKnown ? ticksToUs(sum(rs.map((r) => r.cpu_ticks))) / reqs : null,
      cpu_user_us_per_req: cpuKnown ? ticksToUs(sum(rs.map((r) => r.cpu_user_ticks))) / reqs : null,
      cpu_sys_us_per_req: cpuKnown ? ticksToUs(sum(rs.map((r) => r.cpu_sys_ticks))) / reqs : null,
      upstream_cpu_us_per_req: ticksToUs(sum(rs.map((r) => r.upstream_cpu_ticks))) / reqs,
    };
  }
  const s = wrkSummary[c];
  if (s.anygpt && s.nginx && s.direct) {
    s.ratios = {
      anygpt_nginx_cpu: s.anygpt.cpu_us_per_req / s.nginx.cpu_us_per_req,
      anygpt_rps_pct_of_direct: (100 * s.anygpt.rps) / s.direct.rps,
      anygpt_rps_pct_of_nginx: (100 * s.anygpt.rps) / s.nginx.rps,
      nginx_rps_pct_of_direct: (100 * s.nginx.rps) / s.direct.rps,
      anygpt_p50_minus_direct_ms: s.anygpt.p50_ms - s.direct.p50_ms,
    };
    for (const t of Object.keys(VERSUS_ANYGPT)) if (s[t]) s.ratios[`${t}_anygpt_cpu`] = s[t].cpu_us_per_req / s.anygpt.cpu_us_per_req;
  }
}

// ------------------------------------------------------------------ streaming aggregation
const streamSummary = {};
for (const t of TARGETS) {
  const r = runs.find((x) => x.kind === 'stream' && x.target === t);
  if (!r) continue;
  const cl = r.client;
  streamSummary[t] = {
    streams: cl.streams, streams_all: cl.streams_all, ok: cl.ok, errors: cl.error_total, error_kinds: cl.errors,
    statuses: cl.statuses,
    ttfc_p50_ms: cl.ttfc_ms.p50, ttfc_p99_ms: cl.ttfc_ms.p99, ttfc_max_ms: cl.ttfc_ms.max,
    ttft_p50_ms: cl.ttft_ms?.p50 ?? null, ttft_p99_ms: cl.ttft_ms?.p99 ?? null,
    headers_p50_ms: cl.headers_ms.p50,
    total_p50_ms: cl.total_ms.p50, total_p99_ms: cl.total_ms.p99,
    wall_s: cl.wall_ms / 1000,
    events_per_stream: cl.events_per_stream,
    cpu_us_per_stream: r.cpu_ticks === null ? null : ticksToUs(r.cpu_ticks) / cl.streams_all,
    cpu_user_us_per_stream: r.cpu_ticks === null ? null : ticksToUs(r.cpu_user_ticks) / cl.streams_all,
    cpu_sys_us_per_stream: r.cpu_ticks === null ? null : ticksToUs(r.cpu_sys_ticks) / cl.streams_all,
    ttfc_from_send_p50_ms: cl.ttfc_from_send_ms?.p50 ?? null,
    ttfc_from_send_p99_ms: cl.ttfc_from_send_ms?.p99 ?? null,
    upstream_cpu_us_per_stream: ticksToUs(r.upstream_cpu_ticks) / cl.streams_all,
  };
}
if (streamSummary.anygpt && streamSummary.nginx && streamSummary.direct) {
  streamSummary.ratios = {
    anygpt_ttfc_p50_minus_direct_ms: streamSummary.anygpt.ttfc_p50_ms - streamSummary.direct.ttfc_p50_ms,
    anygpt_ttfc_p99_minus_direct_ms: streamSummary.anygpt.ttfc_p99_ms - streamSummary.direct.ttfc_p99_ms,
    nginx_ttfc_p50_minus_direct_ms: streamSummary.nginx.ttfc_p50_ms - streamSummary.direct.ttfc_p50_ms,
    anygpt_ttft_p50_minus_direct_ms: streamSummary.anygpt.ttft_p50_ms - streamSummary.direct.ttft_p50_ms,
    nginx_ttft_p50_minus_direct_ms: streamSummary.nginx.ttft_p50_ms - streamSummary.direct.ttft_p50_ms,
    anygpt_nginx_cpu: streamSummary.anygpt.cpu_us_per_stream / streamSummary.nginx.cpu_us_per_stream,
  };
  for (const t of Object.keys(VERSUS_ANYGPT))
    if (streamSummary[t]) streamSummary.ratios[`${t}_anygpt_cpu`] = streamSummary[t].cpu_us_per_stream / streamSummary.anygpt.cpu_us_per_stream;
}

// ------------------------------------------------------------------ side facts
const readTail = (f, n) => (f && existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).slice(-n) : []);
const anygptStderr = env.BM_ANYGPT_STDERR && existsSync(env.BM_ANYGPT_STDERR)
  ? readFileSync(env.BM_ANYGPT_STDERR, 'utf8').split('\n').filter((l) => l.trim()) : [];
const nginxErr = readTail(env.BM_NGINX_ERRLOG, 1e6).filter((l) => /\[(error|crit|alert|emerg)\]/.test(l));
let keysMe = null;
try { keysMe = JSON.parse(env.BM_KEYS_ME || 'null'); } catch { keysMe = null; }
const viaAnygpt = (r) => ['anygpt', ...Object.keys(VERSUS_ANYGPT)].includes(r.target);
const anygptClientRequests = sum(runs.filter((r) => (r.kind === 'wrk' || r.kind === 'warmup') && viaAnygpt(r)).map((r) => r.wrk.requests))
  + sum(runs.filter((r) => r.kind === 'stream' && viaAnygpt(r)).map((r) => r.client.streams_all))
  + new Set(runs.filter(viaAnygpt).map((r) => r.target)).size; // one sanity request per anygpt target
const memory = {
  anygpt_peak_rss_mb: Number(env.BM_ANYGPT_HWM_KB) / 1024,
  anygpt_rss_start_mb: Number(env.BM_ANYGPT_RSS_START_KB) / 1024,
  anygpt_rss_end_mb: Number(env.BM_ANYGPT_RSS_END_KB) / 1024,
  anygpt_threads: Number(env.BM_ANYGPT_THREADS),
  nginx_worker_peak_rss_mb: Number(env.BM_NGINX_WORKER_HWM_KB) / 1024,
};

// ------------------------------------------------------------------ target checks
const checks = [];
const check = (name, value, ok, detail) => checks.push({ name, value, pass: ok, detail });
for (const c of conns) {
  const r = wrkSummary[c].ratios;
  if (r) check(`CPU/req anygpt <= ${GOALS.cpu_ratio_max}x nginx @${c}`, r.anygpt_nginx_cpu, r.anygpt_nginx_cpu <= GOALS.cpu_ratio_max, `${fix(r.anygpt_nginx_cpu, 2)}x`);
  for (const [t, goal] of Object.entries(VERSUS_ANYGPT)) {
    const v = r?.[`${t}_anygpt_cpu`];
    if (v !== undefined) check(`CPU/req ${t} <= ${GOALS[goal]}x anygpt @${c}`, v, v <= GOALS[goal], `${fix(v, 2)}x`);
  }
}
if (wrkSummary[GOALS.rps_pct_conns]?.ratios) {
  const v = wrkSummary[GOALS.rps_pct_conns].ratios.anygpt_rps_pct_of_direct;
  check(`RPS anygpt >= ${GOALS.rps_pct_of_direct_min}% of direct @${GOALS.rps_pct_conns}`, v, v >= GOALS.rps_pct_of_direct_min, `${fix(v, 1)}%`);
}
// (The p50 goal is the chat request's; an embeddings answer is several times larger.)
if (env.BM_SCENARIO !== 'embeddings' && wrkSummary[GOALS.p50_conns]?.anygpt) {
  const v = wrkSummary[GOALS.p50_conns].anygpt.p50_ms;
  check(`p50 anygpt <= ${GOALS.p50_ms_max} ms @${GOALS.p50_conns}`, v, v <= GOALS.p50_ms_max, `${fix(v, 3)} ms`);
}
{
  const via = ['anygpt', ...Object.keys(VERSUS_ANYGPT)];
  const e = sum(conns.flatMap((c) => via.map((t) => wrkSummary[c][t]?.errors ?? 0))) + sum(via.map((t) => streamSummary[t]?.errors ?? 0));
  check('errors through anygpt = 0', e, e <= GOALS.errors_max, String(e));
}
check(`anygpt peak RSS <= ${GOALS.rss_mb_max} MB`, memory.anygpt_peak_rss_mb, memory.anygpt_peak_rss_mb <= GOALS.rss_mb_max, `${fix(memory.anygpt_peak_rss_mb, 1)} MB`);
if (streamSummary.ratios) {
  // Time to first content (anygpt holds the head back until then: its first byte is its first content).
  const d = streamSummary.ratios.anygpt_ttft_p50_minus_direct_ms;
  check(`stream TTFT p50 anygpt <= direct + ${GOALS.ttfc_extra_ms_max} ms`, d, d <= GOALS.ttfc_extra_ms_max, `+${fix(d, 3)} ms`);
  const r = streamSummary.ratios.anygpt_nginx_cpu;
  check(`CPU/stream anygpt <= ${GOALS.stream_cpu_ratio_max}x nginx`, r, r <= GOALS.stream_cpu_ratio_max, `${fix(r, 2)}x`);
  for (const [t, goal] of Object.entries(VERSUS_ANYGPT)) {
    const v = streamSummary.ratios[`${t}_anygpt_cpu`];
    if (v !== undefined) check(`CPU/stream ${t} <= ${GOALS[goal]}x anygpt`, v, v <= GOALS[goal], `${fix(v, 2)}x`);
  }
}

// ------------------------------------------------------------------ print
const pad = (s, n) => String(s).padStart(n);
const out = [];
const p = (s = '') => out.push(s);
p();
p(`anygpt benchmark  scenario=${env.BM_SCENARIO}  upstream=${env.BM_UPSTREAM}  duration=${env.BM_DURATION} x ${env.BM_REPEAT}  wrk -t${env.BM_WRK_THREADS}  (load ${env.BM_LOAD_START} -> ${env.BM_LOAD_END})`);
for (const c of conns) {
  const s = wrkSummary[c];
  p();
  p(`== ${c} connections (mean of ${s.anygpt?.runs ?? '?'} run(s)) ==`);
  p(`${'target'.padEnd(14)}${pad('RPS', 10)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('errors', 8)}${pad('CPU-us/req', 12)}${pad('upstream CPU-us/req', 21)}`);
  for (const t of TARGETS) {
    const r = s[t];
    if (!r) continue;
    p(`${t.padEnd(14)}${pad(fix(r.rps, 0), 10)}${pad(fix(r.p50_ms, 3), 9)}${pad(fix(r.p99_ms, 3), 9)}${pad(r.errors, 8)}${pad(fix(r.cpu_us_per_req, 1), 12)}${pad(fix(r.upstream_cpu_us_per_req, 1), 21)}`);
  }
  const split = TARGETS.filter((t) => s[t]?.cpu_us_per_req != null)
    .map((t) => `${t} ${fix(s[t].cpu_user_us_per_req, 1)} usr + ${fix(s[t].cpu_sys_us_per_req, 1)} sys`);
  if (split.length) p(`CPU-us/req split: ${split.join(';  ')}`);
  if (s.ratios) {
    const vs = Object.keys(VERSUS_ANYGPT).filter((t) => s.ratios[`${t}_anygpt_cpu`] !== undefined);
    if (vs.length) p(`CPU per request vs anygpt (OpenAI passthrough): ${vs.map((t) => `${t} ${fix(s.ratios[`${t}_anygpt_cpu`], 2)}x`).join(', ')}`);
    p(`anygpt/nginx CPU per request: ${fix(s.ratios.anygpt_nginx_cpu, 2)}x   anygpt RPS: ${fix(s.ratios.anygpt_rps_pct_of_direct, 1)}% of direct, ${fix(s.ratios.anygpt_rps_pct_of_nginx, 1)}% of nginx   (nginx: ${fix(s.ratios.nginx_rps_pct_of_direct, 1)}% of direct)`);
  }
}
if (Object.keys(streamSummary).length) {
  p();
  p(`== streaming: ${env.BM_STREAM_CONCURRENCY} concurrent x ${env.BM_STREAM_ROUNDS} rounds, ${env.BM_STREAM_CHUNKS} chunks every ${env.BM_STREAM_CHUNK_MS} ms ==`);
  p(`${'target'.padEnd(14)}${pad('streams', 8)}${pad('errors', 8)}${pad('TTFC p50', 10)}${pad('TTFT p50', 10)}${pad('TTFC p99', 10)}${pad('sent->1st p50', 15)}${pad('total p50', 11)}${pad('total p99', 11)}${pad('wall s', 8)}${pad('CPU-us/stream', 15)}`);
  for (const t of TARGETS) {
    const r = streamSummary[t];
    if (!r) continue;
    p(`${t.padEnd(14)}${pad(r.streams, 8)}${pad(r.errors, 8)}${pad(fix(r.ttfc_p50_ms, 3), 10)}${pad(fix(r.ttft_p50_ms, 3), 10)}${pad(fix(r.ttfc_p99_ms, 3), 10)}${pad(fix(r.ttfc_from_send_p50_ms, 3), 15)}${pad(fix(r.total_p50_ms, 1), 11)}${pad(fix(r.total_p99_ms, 1), 11)}${pad(fix(r.wall_s, 2), 8)}${pad(fix(r.cpu_us_per_stream, 0), 15)}`);
  }
  const split = TARGETS.filter((t) => streamSummary[t]?.cpu_us_per_stream != null)
    .map((t) => `${t} ${fix(streamSummary[t].cpu_user_us_per_stream, 0)} usr + ${fix(streamSummary[t].cpu_sys_us_per_stream, 0)} sys`);
  if (split.length) p(`CPU-us/stream split: ${split.join(';  ')}`);
  const r = streamSummary.ratios;
  const vs = Object.keys(VERSUS_ANYGPT).filter((t) => r?.[`${t}_anygpt_cpu`] !== undefined);
  if (vs.length) p(`CPU per stream vs anygpt (OpenAI passthrough): ${vs.map((t) => `${t} ${fix(r[`${t}_anygpt_cpu`], 2)}x`).join(', ')}`);
  if (r) p(`TTFT p50 vs direct: anygpt ${r.anygpt_ttft_p50_minus_direct_ms >= 0 ? '+' : ''}${fix(r.anygpt_ttft_p50_minus_direct_ms, 3)} ms, nginx ${r.nginx_ttft_p50_minus_direct_ms >= 0 ? '+' : ''}${fix(r.nginx_ttft_p50_minus_direct_ms, 3)} ms; TTFC p50 vs direct: anygpt ${r.anygpt_ttfc_p50_minus_direct_ms >= 0 ? '+' : ''}${fix(r.anygpt_ttfc_p50_minus_direct_ms, 3)} ms, nginx ${r.nginx_ttfc_p50_minus_direct_ms >= 0 ? '+' : ''}${fix(r.nginx_ttfc_p50_minus_direct_ms, 3)} ms   anygpt/nginx CPU per stream: ${fix(r.anygpt_nginx_cpu, 2)}x   (times in ms)`);
}
p();
p(`anygpt memory: peak RSS (VmHWM) ${fix(memory.anygpt_peak_rss_mb, 1)} MB, RSS at start ${fix(memory.anygpt_rss_start_mb, 1)} MB, at end ${fix(memory.anygpt_rss_end_mb, 1)} MB, ${memory.anygpt_threads} threads;  nginx worker peak RSS ${fix(memory.nginx_worker_peak_rss_mb, 1)} MB`);
const counted = keysMe?.usage?.request_count;
p(`anygpt accounting: /v1/keys/me request_count ${counted ?? '?'} vs ${anygptClientRequests} responses seen by the clients (wrk stops with requests in flight, so a small excess is expected)`);
if (anygptStderr.length) p(`anygpt stderr: ${anygptStderr.length} line(s); last: ${anygptStderr.slice(-3).join(' | ').slice(0, 600)}`);
if (nginxErr.length) p(`nginx error log: ${nginxErr.length} error line(s); last: ${nginxErr.slice(-2).join(' | ').slice(0, 400)}`);
if ((env.BM_NGINX_WORKERS_START || '') !== (env.BM_NGINX_WORKERS_END || '')) p(`WARNING: nginx worker pids changed during the run (${env.BM_NGINX_WORKERS_START} -> ${env.BM_NGINX_WORKERS_END}): CPU of a dead worker is not counted`);
p();
p('targets (docs/PERFORMANCE.md):');
for (const c of checks) p(`  ${c.pass ? 'PASS' : 'FAIL'}  ${c.name.padEnd(44)} ${c.detail}`);
p();
p(`raw results: ${env.BM_OUT}`);
console.log(out.join('\n'));

// ------------------------------------------------------------------ write JSON
const result = {
  schema: 'anygpt-bench/1',
  date: new Date().toISOString(),
  params: {
    scenario: env.BM_SCENARIO, upstream: env.BM_UPSTREAM, duration: env.BM_DURATION, repeat: Number(env.BM_REPEAT), conns: conns,
    wrk_threads: Number(env.BM_WRK_THREADS), warmup: env.BM_WARMUP, mock_threads: Number(env.BM_MOCK_THREADS),
    anygpt_worker_threads: 1,
    stream: env.BM_SKIP_STREAM === '1' ? null : {
      concurrency: Number(env.BM_STREAM_CONCURRENCY), rounds: Number(env.BM_STREAM_ROUNDS),
      chunks: Number(env.BM_STREAM_CHUNKS), chunk_interval_ms: Number(env.BM_STREAM_CHUNK_MS),
    },
  },
  machine: {
    nproc: (await import('node:os')).cpus().length,
    cpu_model: (await import('node:os')).cpus()[0]?.model,
    loadavg_start: env.BM_LOAD_START, loadavg_end: env.BM_LOAD_END, clk_tck: CLK_TCK,
  },
  versions: {
    git_head: env.BM_GIT_HEAD, anygpt_sha256: env.BM_ANYGPT_SHA256, wrk: env.BM_WRK_VERSION,
    nginx: env.BM_NGINX_VERSION, node: env.BM_NODE_VERSION,
  },
  goals: GOALS,
  checks,
  summary: { wrk: wrkSummary, stream: streamSummary, memory },
  anygpt: {
    keys_me: keysMe, client_seen_requests: anygptClientRequests,
    stderr_lines: anygptStderr.length, stderr_tail: anygptStderr.slice(-20),
  },
  nginx_error_lines: nginxErr.slice(-20),
  runs,
};
writeFileSync(env.BM_OUT, JSON.stringify(result, null, 2) + '\n');
