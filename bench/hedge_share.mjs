// Hedged streams under a long tail of first-token times (issue 12 item 5): how many requests
// were hedged, and so how much extra load the upstreams got, and what hedging did to the tail.
// Two mocks whose calls each wait MOCK_SLOW_DELAY ms more with probability MOCK_SLOW_RATE; the
// same streamed requests through anygpt with hedging off and on.
//
//   node bench/hedge_share.mjs        # needs build/anygpt and build/anygpt-mock (BUILD_DIR overrides)
//   REQUESTS=400 CONCURRENCY=8 SLOW_RATE=0.1 SLOW_MS=1500 HEDGE_MS=300 node bench/hedge_share.mjs
//
// Prints one JSON line per mode: requests, upstream calls, hedges and hedge wins (/metrics), the
// hedged share, upstream calls per request, and p50/p95/p99 time to first content (ms).
import { startMock, startGateway, mockProvider, userKeys, newKey, openTier } from '../tests/integration/lib/harness.mjs';

const REQUESTS = Number(process.env.REQUESTS ?? 400);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const SLOW_RATE = process.env.SLOW_RATE ?? '0.1';
const SLOW_MS = process.env.SLOW_MS ?? '1500';
const HEDGE_MS = process.env.HEDGE_MS ?? '300';
const key = newKey();
const mocks = await Promise.all([0, 1].map(() => startMock({ MOCK_SLOW_RATE: SLOW_RATE, MOCK_SLOW_DELAY: SLOW_MS })));
const body = JSON.stringify({ model: 'mock-gpt-4', stream: true, messages: [{ role: 'user', content: 'hello there' }] });

async function metric(gw, name) {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  return Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? 0);
}

// One streamed request: ms until its first content chunk reached the client.
async function firstContentMs(gw) {
  const t0 = performance.now();
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST', body, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  });
  let first;
  const decoder = new TextDecoder();
  for await (const piece of res.body) {
    if (first === undefined && decoder.decode(piece).includes('"content":"H')) first = performance.now() - t0;
  }
  return first ?? Infinity;
}

const pct = (sorted, p) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]);

async function run(mode, env) {
  for (const m of mocks) await m.control('/mock/requests', 'DELETE');
  const gw = await startGateway({
    files: {
      tiers: { enterprise: openTier() },
      keys: userKeys({ [key]: { userId: 'bench' } }),
      providers: mocks.map((m, i) => mockProvider(m, `mock-${i}`, ['mock-gpt-4'])),
    },
    env,
  });
  const times = [];
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) {
      next += 1;
      times.push(await firstContentMs(gw));
    }
  }));
  const calls = (await Promise.all(mocks.map(async (m) => (await m.requests()).counts['mock-gpt-4'] ?? 0)))
    .reduce((a, b) => a + b, 0);
  const hedges = await metric(gw, 'anygpt_hedges_total');
  const wins = await metric(gw, 'anygpt_hedge_wins_total');
  await gw.cleanup();
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({
    mode, requests: REQUESTS, concurrency: CONCURRENCY, slow_rate: Number(SLOW_RATE), slow_ms: Number(SLOW_MS),
    upstream_calls: calls, hedges, hedge_wins: wins, hedged_share: +(hedges / REQUESTS).toFixed(3),
    calls_per_request: +(calls / REQUESTS).toFixed(3),
    ttfc_ms: { p50: pct(times, 0.5), p95: pct(times, 0.95), p99: pct(times, 0.99) },
  }));
}

await run('off', {});
await run(`hedge after ${HEDGE_MS} ms`, { ROUTING_HEDGE_AFTER_MS: HEDGE_MS });
for (const m of mocks) await m.stop();
