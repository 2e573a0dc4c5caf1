// Streamed chat over /ws against the same streams over HTTP SSE (issue 11): anygpt's CPU per
// streamed request on each path, in the same run, alternating, on one gateway and one mock.
// Target: /ws at most 1.2x the SSE path's CPU per stream.
//
//   node bench/ws_stream.mjs          # needs build/anygpt and build/anygpt-mock (BUILD_DIR overrides)
//   CONCURRENCY=64 ROUNDS=10 REPEAT=3 CHUNKS=50 CHUNK_MS=10 node bench/ws_stream.mjs
//
// CPU is the gateway's utime+stime from /proc/<pid>/stat around each measured phase (the clients
// and the mock are other processes). Prints one JSON line per phase and a summary line.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import WebSocket from '../tests/integration/node_modules/ws/wrapper.mjs';
import { startMock, startGateway, mockProvider, userKeys, newKey, openTier } from '../tests/integration/lib/harness.mjs';

const CONCURRENCY = Number(process.env.CONCURRENCY ?? 64);
const ROUNDS = Number(process.env.ROUNDS ?? 10);
const REPEAT = Number(process.env.REPEAT ?? 3);
const CHUNKS = process.env.CHUNKS ?? '50';
const CHUNK_MS = process.env.CHUNK_MS ?? '10';
const key = newKey();
const mock = await startMock({ MOCK_STREAM_CHUNKS: CHUNKS, MOCK_CHUNK_INTERVAL: CHUNK_MS });
const gw = await startGateway({
  files: {
    tiers: { open: openTier() }, excluded: { patterns: [] },
    keys: userKeys({ [key]: { userId: 'bench', tier: 'open' } }),
    providers: [mockProvider(mock, 'bench', ['bench-model'])],
  },
  env: { LOG_LEVEL: 'warn', FLUSH_INTERVAL_MS: '1000' },
});
const request = { model: 'bench-model', stream: true, messages: [{ role: 'user', content: 'a streamed benchmark answer' }] };

function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10000;  // utime + stime, 100 ticks/s
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const body = JSON.stringify(request);
function sseStream() {
  return new Promise((resolve, reject) => {
    const req = http.request(`${gw.url}/v1/chat/completions`, {
      method: 'POST', agent,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => (text.includes('[DONE]') ? resolve() : reject(new Error('stream without [DONE]'))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function openSocket() {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws`);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const pending = new Map();
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === 'chat.complete' || m.type === 'error') {
      const p = pending.get(m.requestId);
      pending.delete(m.requestId);
      if (m.type === 'error') p?.reject(new Error(m.message)); else p?.resolve();
    }
    if (m.type === 'auth.ok') pending.get('auth')?.resolve();
  });
  await new Promise((resolve, reject) => { pending.set('auth', { resolve, reject }); ws.send(JSON.stringify({ type: 'auth', apiKey: key })); });
  let n = 0;
  ws.stream = () => new Promise((resolve, reject) => {
    const id = `r${++n}`;
    pending.set(id, { resolve, reject });
    ws.send(JSON.stringify({ type: 'chat.completions', requestId: id, ...request }));
  });
  return ws;
}

const sockets = await Promise.all(Array.from({ length: CONCURRENCY }, openSocket));
const modes = {
  sse: () => Promise.all(Array.from({ length: CONCURRENCY }, sseStream)),
  ws: () => Promise.all(sockets.map((s) => s.stream())),
};

for (const run of Object.values(modes)) await run();  // warm-up of both paths
const results = { sse: [], ws: [] };
for (let r = 0; r < REPEAT; r++) {
  for (const [mode, run] of Object.entries(modes)) {
    const cpu0 = cpuMicros(gw.proc.pid);
    const t0 = performance.now();
    for (let i = 0; i < ROUNDS; i++) await run();
    const cpu = cpuMicros(gw.proc.pid) - cpu0;
    const perStream = cpu / (ROUNDS * CONCURRENCY);
    results[mode].push(perStream);
    console.log(JSON.stringify({ mode, repeat: r, streams: ROUNDS * CONCURRENCY, cpu_us_per_stream: Math.round(perStream), wall_ms: Math.round(performance.now() - t0) }));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sse = median(results.sse);
const ws = median(results.ws);
console.log(JSON.stringify({ summary: true, concurrency: CONCURRENCY, chunks: Number(CHUNKS), sse_cpu_us_per_stream: Math.round(sse), ws_cpu_us_per_stream: Math.round(ws), ratio: Number((ws / sse).toFixed(2)), target: 1.2 }));
for (const s of sockets) s.close();
await gw.cleanup();
await mock.stop();
process.exit(0);
