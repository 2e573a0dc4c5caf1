// Hedged streams (issue 12 item 5, docs/ROUTING.md "Hedged streams"): a stream whose first
// content is late starts the next candidate in parallel; the first to send content serves, the
// other is cancelled at once, and only the winner is billed. A gateway per test (health and
// counters must not leak), in front of two mocks; mock-a is tried first.
import { test, describe, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startMock, startGateway, mockProvider, userKeys, newKey, sseEvents, openTier, postChat, tokensUsed, establishedTo,
  waitFor,
} from './lib/harness.mjs';

const USER = newKey();
const GREETING = 'Hello! I am the anygpt mock provider. How can I help you today?';
const ask = (extra = {}) => ({
  model: 'mock-gpt-4', messages: [{ role: 'user', content: 'hello there' }], stream: true,
  stream_options: { include_usage: true }, ...extra,
});
const text = (events) => events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e))
  .flatMap((p) => p.choices ?? []).map((c) => c.delta?.content ?? '').join('');
const countFor = async (mock) => (await mock.requests()).counts['mock-gpt-4'] ?? 0;
async function metric(gw, name) {
  const body = await (await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${gw.adminKey}` } })).text();
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : undefined;
}

describe('hedged streams', () => {
  let mockA, mockB, gw;
  const start = (env = {}) => startGateway({
    files: {
      tiers: { open: openTier() }, excluded: { patterns: [] },
      keys: userKeys({ [USER]: { userId: 'hedge', tier: 'open' } }),
      providers: [mockProvider(mockA, 'mock-a', ['mock-gpt-4']), mockProvider(mockB, 'mock-b', ['mock-gpt-4'])],
    },
    env: { ROUTING_SPREAD_POINTS: '0', ...env },
  });

  before(async () => { [mockA, mockB] = await Promise.all([startMock(), startMock()]); });
  after(async () => { await mockA?.stop(); await mockB?.stop(); });
  beforeEach(async () => {
    for (const m of [mockA, mockB]) { await m.control('/mock/faults', 'DELETE'); await m.control('/mock/requests', 'DELETE'); }
  });
  afterEach(async () => { await gw?.cleanup(); gw = undefined; });

  test('off by default: a slow first token is waited for, the next provider is not asked', async () => {
    gw = await start();
    await mockA.fault({ fault: 'slow_first_token', delayMs: 700, model: 'mock-gpt-4', count: 1 });
    const t0 = Date.now();
    const events = await sseEvents(await postChat(gw, ask(), USER));
    assert.ok(Date.now() - t0 >= 650);
    assert.equal(text(events), GREETING);
    assert.equal(await countFor(mockB), 0);
    assert.equal(await metric(gw, 'anygpt_hedges_total'), 0);
  });

  test('late first token: the hedge serves, the slow attempt is cancelled at once, only the winner is billed', async () => {
    gw = await start({ ROUTING_HEDGE_AFTER_MS: '200' });
    await mockA.fault({ fault: 'slow_first_token', delayMs: 5000, model: 'mock-gpt-4', count: 1 });
    const before = await tokensUsed(gw, USER);
    const t0 = Date.now();
    const r = await postChat(gw, ask(), gw.adminKey);
    assert.equal(r.headers.get('x-anygpt-provider'), 'mock-b');
    const events = await sseEvents(r);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 180 && elapsed < 1500, `served by the hedge after ${elapsed} ms`);
    assert.equal(text(events), GREETING);
    assert.equal(events.at(-1), '[DONE]');
    // The losing call to mock-a is closed, not left waiting for its 5 s answer.
    await waitFor(() => establishedTo(mockA.port, gw.proc.pid) === 0, { timeoutMs: 500 });
    assert.equal(await countFor(mockA), 1);
    assert.equal(await countFor(mockB), 1);
    assert.equal(await metric(gw, 'anygpt_hedges_total'), 1);
    assert.equal(await metric(gw, 'anygpt_hedge_wins_total'), 1);
    assert.ok((await metric(gw, 'anygpt_hedge_loser_tokens_total')) > 0, 'the loser\'s prompt is counted');
    assert.equal(await tokensUsed(gw, USER), before, 'the admin request billed the admin key only');
  });

  test('billing: the user pays the winner once', async () => {
    gw = await start({ ROUTING_HEDGE_AFTER_MS: '150' });
    await mockA.fault({ fault: 'stream_stall', afterChunks: 1, model: 'mock-gpt-4', count: 1 });  // head, role, silence
    const before = await tokensUsed(gw, USER);
    const events = await sseEvents(await postChat(gw, ask(), USER));
    assert.equal(text(events), GREETING);
    const usage = JSON.parse(events.at(-2)).usage;
    await waitFor(async () => (await tokensUsed(gw, USER)) - before === usage.total_tokens);
    assert.equal((await tokensUsed(gw, USER)) - before, usage.total_tokens);
  });

  test('the first attempt still wins when its content comes before the hedge\'s', async () => {
    gw = await start({ ROUTING_HEDGE_AFTER_MS: '150' });
    await mockA.fault({ fault: 'slow_first_token', delayMs: 400, model: 'mock-gpt-4', count: 1 });
    await mockB.fault({ fault: 'slow_first_token', delayMs: 5000, model: 'mock-gpt-4', count: 1 });
    const r = await postChat(gw, ask(), gw.adminKey);
    assert.equal(r.headers.get('x-anygpt-provider'), 'mock-a');
    const events = await sseEvents(r);
    assert.equal(text(events), GREETING);
    await waitFor(() => establishedTo(mockB.port, gw.proc.pid) === 0, { timeoutMs: 500 });
    assert.equal(await countFor(mockB), 1, 'the hedge was sent');
    assert.equal(await metric(gw, 'anygpt_hedges_total'), 1);
    assert.equal(await metric(gw, 'anygpt_hedge_wins_total'), 0);
  });

  test('a prompt answer is never hedged', async () => {
    gw = await start({ ROUTING_HEDGE_AFTER_MS: '150' });
    for (let i = 0; i < 3; i++) assert.equal(text(await sseEvents(await postChat(gw, ask(), USER))), GREETING);
    assert.equal((await countFor(mockA)) + (await countFor(mockB)), 3, 'one upstream call per request');
    assert.equal(await metric(gw, 'anygpt_hedges_total'), 0);
  });

  test('requests with side effects the gateway cannot see are never hedged', async () => {
    gw = await start({ ROUTING_HEDGE_AFTER_MS: '150' });
    const slow = () => mockA.fault({ fault: 'slow_first_token', delayMs: 500, model: 'mock-gpt-4', count: 1 });
    await slow();
    assert.equal(text(await sseEvents(await postChat(gw, ask({ store: true }), USER))), GREETING);
    await slow();
    assert.equal(text(await sseEvents(await postChat(gw, ask({ web_search_options: {} }), USER))), GREETING);
    assert.equal((await countFor(mockA)) + (await countFor(mockB)), 2, 'one upstream call per request');
    assert.equal(await metric(gw, 'anygpt_hedges_total'), 0);
  });

  test('a non-stream request is never hedged', async () => {
    gw = await start({ ROUTING_HEDGE_AFTER_MS: '150' });
    await mockA.fault({ fault: 'slow_first_token', delayMs: 500, model: 'mock-gpt-4', count: 1 });
    const r = await postChat(gw, { ...ask(), stream: false, stream_options: undefined }, USER);
    assert.equal((await r.json()).choices[0].message.content, GREETING);
    assert.equal(await countFor(mockB), 0);
  });
});
