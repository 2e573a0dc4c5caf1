// Routing, retries, health and failover, one test per provider fault. Each test gets its own
// gateway (health state must not leak between tests) in front of two real mock providers, and
// asserts what the client received, how many calls each upstream saw, and what was billed.
import { test, describe, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startMock, startGateway, mockProvider, userKeys, newKey, sseEvents, waitFor, openAIError, openTier, postChat, sleep,
} from './lib/harness.mjs';

const USER = newKey();
const tiers = { open: openTier(), enterprise: openTier() };
const keys = userKeys({ [USER]: { userId: 'routing-user', tier: 'open' } });
const ask = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra });
const countFor = async (mock, model) => (await mock.requests()).counts[model] ?? 0;
const usage = async (gw) =>
  (await (await fetch(`${gw.url}/v1/keys/me`, { headers: { authorization: `Bearer ${USER}` } })).json()).usage;
// Code points of the assistant text in a list of SSE payloads.
const deliveredChars = (events) => events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e))
  .flatMap((p) => p.choices ?? []).reduce((n, c) => n + [...(c.delta?.content ?? '')].length, 0);

// Fast-moving health for tests: circuits open after 4 failures and probe after 400 ms.
const FAST = {
  UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '500', UPSTREAM_IDLE_TIMEOUT_MS: '500', UPSTREAM_CONNECT_TIMEOUT_MS: '1000',
  ROUTING_SPREAD_POINTS: '0', BREAKER_FAILURE_THRESHOLD: '4', BREAKER_COOLDOWN_MS: '400', LOG_LEVEL: 'debug',
};

describe('routing and failover, one fault at a time', () => {
  let mockA, mockB, gw;
  // No excluded patterns unless a test writes some: the shipped defaults exempt 5xx texts.
  const start = (env = {}, files = {}) => startGateway({
    files: {
      tiers, keys, excluded: { patterns: [] },
      providers: [mockProvider(mockA, 'mock-a', ['mock-gpt-4', 'solo']), mockProvider(mockB, 'mock-b', ['mock-gpt-4'])],
      ...files,
    },
    env: { ...FAST, ...env },
  });

  before(async () => { [mockA, mockB] = await Promise.all([startMock(), startMock()]); });
  after(async () => { await mockA?.stop(); await mockB?.stop(); });
  beforeEach(async () => {
    for (const m of [mockA, mockB]) { await m.control('/mock/faults', 'DELETE'); await m.control('/mock/requests', 'DELETE'); }
  });
  afterEach(async () => { await gw?.cleanup(); gw = undefined; });

  test('429 with a short Retry-After: waits for it and retries the same provider', async () => {
    gw = await start();
    await mockA.fault({ fault: 'status', status: 429, retryAfter: 1, model: 'mock-gpt-4', count: 1 });
    const t0 = Date.now();
    const r = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.equal(r.status, 200);
    const body = await r.json();
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 950 && elapsed < 2500, `waited ${elapsed} ms`);
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 2);
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 0);
    assert.equal((await usage(gw)).token_usage, body.usage.total_tokens, 'billed once');
  });

  test('429 without Retry-After: fails over at once', async () => {
    gw = await start();
    await mockA.fault({ fault: 'status', status: 429, model: 'mock-gpt-4' });
    const t0 = Date.now();
    const r = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.equal(r.status, 200);
    await r.json();
    assert.ok(Date.now() - t0 < 500, `took ${Date.now() - t0} ms`);
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 1);
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 1);
  });

  test('429 with a long Retry-After: fails over, and the provider rests for that long', async () => {
    gw = await start();
    await mockA.fault({ fault: 'status', status: 429, retryAfter: 30, model: 'mock-gpt-4' });
    for (let i = 0; i < 3; i++) {
      const r = await postChat(gw, ask('mock-gpt-4'), USER);
      assert.equal(r.status, 200);
      await r.json();
    }
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 1, 'not asked again while resting');
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 3);
  });

  test('500 once: retried on the same provider after a short backoff, billed once', async () => {
    gw = await start();
    await mockA.fault({ fault: 'status', status: 500, model: 'mock-gpt-4', count: 1 });
    const t0 = Date.now();
    const r = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.equal(r.status, 200);
    const body = await r.json();
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 45 && elapsed < 1000, `took ${elapsed} ms (backoff 50-150 ms)`);
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 2);
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 0);
    assert.equal((await usage(gw)).token_usage, body.usage.total_tokens);
  });

  test('503 persistent: served by the other provider, which the scores then prefer', async () => {
    gw = await start();
    await mockA.fault({ fault: 'status', status: 503, model: 'mock-gpt-4' });
    for (let i = 0; i < 5; i++) {
      const r = await postChat(gw, ask('mock-gpt-4'), USER);
      assert.equal(r.status, 200);
      assert.equal((await r.json()).object, 'chat.completion');
    }
    // Request 1: try + retry on A, then B. A's error rate now ranks it last: B serves the rest.
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 2);
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 5);
  });

  test('503 persistent on the only provider: the circuit opens, then requests fail fast with Retry-After', async () => {
    gw = await start();
    await mockA.fault({ fault: 'status', status: 503, model: 'solo' });
    for (let i = 0; i < 2; i++) await openAIError(await postChat(gw, ask('solo'), USER), 502, 'upstream_error');
    assert.equal(await countFor(mockA, 'solo'), 4, 'two requests, each tried and retried: 4 failures');
    const t0 = Date.now();
    const r = await postChat(gw, ask('solo'), USER);
    await openAIError(r, 503, 'no_healthy_provider');
    assert.ok(Date.now() - t0 < 100, 'answered without calling the provider');
    assert.equal(r.headers.get('retry-after'), '1');
    assert.equal(await countFor(mockA, 'solo'), 4);
    // The open circuit reaches providers.json in the original's fields, marked as ours.
    const pa = await waitFor(() => {
      const p = gw.readJson('providers.json').find((x) => x.id === 'mock-a');
      return p.models.solo.disabled && p;
    });
    const m = pa.models.solo;
    assert.equal(m.disabled_by, 'anygpt-health');
    assert.equal(m.errors, 4);
    assert.equal(m.consecutive_errors, 4);
    assert.equal(pa.disabled, false, 'one model out does not take the provider out (DISABLE_PROVIDER_AFTER_MODELS=2)');
  });

  test('TCP reset before the headers: fails over without retrying the same provider', async () => {
    gw = await start();
    await mockA.fault({ fault: 'reset', model: 'mock-gpt-4' });
    const r = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.equal(r.status, 200);
    await r.json();
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 1);
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 1);
  });

  test('no answer: gives up after the first-byte timeout and fails over', async () => {
    gw = await start();
    await mockA.fault({ fault: 'no_answer', model: 'mock-gpt-4' });
    const t0 = Date.now();
    const r = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.equal(r.status, 200);
    await r.json();
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 450 && elapsed < 1500, `took ${elapsed} ms`);
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 1);
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 1);
  });

  test('slow first token: within the timeout it is served; past it, the next provider serves', async () => {
    gw = await start();
    await mockA.fault({ fault: 'slow_first_token', delayMs: 200, model: 'mock-gpt-4', count: 1 });
    let r = await postChat(gw, ask('mock-gpt-4'), gw.adminKey);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-anygpt-provider'), 'mock-a');
    await r.json();
    await mockA.fault({ fault: 'slow_first_token', delayMs: 3000, model: 'solo', count: 1 });
    const t0 = Date.now();
    r = await postChat(gw, ask('solo', { stream: true }), USER);
    await openAIError(r, 504);
    assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
  });

  test('first content late after the headers: nothing sent yet, so the next provider serves the whole stream', async () => {
    gw = await start({ UPSTREAM_FIRST_TOKEN_TIMEOUT_MS: '400', UPSTREAM_IDLE_TIMEOUT_MS: '5000' });
    await mockA.fault({ fault: 'stream_stall', afterChunks: 1, model: 'mock-gpt-4', count: 1 });  // role chunk, then silence
    const t0 = Date.now();
    const r = await postChat(gw, ask('mock-gpt-4', { stream: true }), gw.adminKey);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-anygpt-provider'), 'mock-b', 'the head names the provider that served');
    const events = await sseEvents(r);
    const elapsed = Date.now() - t0;
    assert.equal(events.at(-1), '[DONE]');
    assert.equal(events.filter((e) => e !== '[DONE]').filter((e) => JSON.parse(e).choices?.[0]?.delta?.role).length, 1, 'one role chunk: nothing of the abandoned attempt leaked');
    assert.ok(deliveredChars(events) > 0);
    assert.ok(elapsed >= 380 && elapsed < 2500, `failed over after the deadline (${elapsed} ms)`);
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 1);
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 1);
  });

  test('first content late and no other provider: a 504 in the protocol\'s shape, not a 200 with an error event', async () => {
    gw = await start({ UPSTREAM_FIRST_TOKEN_TIMEOUT_MS: '300', UPSTREAM_IDLE_TIMEOUT_MS: '5000' });
    await mockA.fault({ fault: 'stream_stall', afterChunks: 1, model: 'solo' });
    const r = await postChat(gw, ask('solo', { stream: true }), USER);
    const e = await openAIError(r, 504, 'first_token_timeout');
    assert.match(e.message, /no content within 300 ms/);
    assert.equal((await usage(gw)).token_usage, 0, 'nothing delivered, nothing billed');
  });

  test('a stream cut before its first content fails over invisibly', async () => {
    gw = await start();
    await mockA.fault({ fault: 'stream_cut', afterChunks: 1, model: 'mock-gpt-4', count: 1 });
    const r = await postChat(gw, ask('mock-gpt-4', { stream: true }), gw.adminKey);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-anygpt-provider'), 'mock-b');
    const events = await sseEvents(r);
    assert.equal(events.at(-1), '[DONE]');
    assert.ok(deliveredChars(events) > 0);
  });

  test('stream cut mid-way: error event, no [DONE], counted as a provider error, only delivered text billed', async () => {
    gw = await start();
    await mockA.fault({ fault: 'stream_cut', afterChunks: 4, model: 'solo' });
    const r = await postChat(gw, ask('solo', { stream: true }), USER);
    assert.equal(r.status, 200);
    const events = await sseEvents(r);
    assert.ok(!events.includes('[DONE]'));
    const last = JSON.parse(events.at(-1));
    assert.ok(last.error?.message.includes('mock-a'), JSON.stringify(last));
    const chars = deliveredChars(events.slice(0, -1));
    assert.ok(chars > 0);
    const u = await usage(gw);
    assert.equal(u.token_usage, Math.ceil(chars / 4), 'billed the delivered text, not the whole answer');
    const pa = await waitFor(() => gw.readJson('providers.json').find((p) => p.id === 'mock-a').models.solo.errors === 1);
    assert.ok(pa, 'the cut counts as an error of mock-a/solo');
    const logged = await waitFor(() => {
      try { return JSON.parse(readFileSync(join(gw.dir, 'logs', 'api-error.jsonl'), 'utf8').trim().split('\n')[0]); } catch { return null; }
    });
    assert.equal(logged?.status, 200, 'the broken stream is in the error log');
    assert.equal(logged.provider, 'mock-a');
  });

  test('stream stall: error event after the idle timeout, no [DONE], delivered text billed', async () => {
    gw = await start();
    await mockA.fault({ fault: 'stream_stall', afterChunks: 3, model: 'solo' });
    const t0 = Date.now();
    const r = await postChat(gw, ask('solo', { stream: true }), USER);
    const events = await sseEvents(r);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 450 && elapsed < 2000, `took ${elapsed} ms`);
    assert.ok(!events.includes('[DONE]'));
    assert.ok(JSON.parse(events.at(-1)).error);
    assert.equal((await usage(gw)).token_usage, Math.ceil(deliveredChars(events.slice(0, -1)) / 4));
  });

  test('malformed chunk: skipped, the rest of the stream arrives, billed from usage, gateway healthy', async () => {
    gw = await start();
    await mockA.fault({ fault: 'malformed_chunk', afterChunks: 2, model: 'solo', count: 1 });
    const r = await postChat(gw, ask('solo', { stream: true, stream_options: { include_usage: true } }), USER);
    assert.equal(r.status, 200);
    const events = await sseEvents(r);
    assert.equal(events.at(-1), '[DONE]');
    assert.ok(!events.some((e) => e.includes('this is not json')), 'the malformed chunk is not relayed');
    const parsed = events.slice(0, -1).map((e) => JSON.parse(e));
    const u = parsed.at(-1).usage;
    assert.ok(u?.total_tokens > 0);
    assert.equal(deliveredChars(events), [...'Hello! I am the anygpt mock provider. How can I help you today?'].length);
    assert.equal((await usage(gw)).token_usage, u.total_tokens);
    const again = await postChat(gw, ask('solo'), USER);
    assert.equal(again.status, 200);
    await again.json();
  });

  test('missing [DONE]: finalised at once with [DONE], usage billed', async () => {
    gw = await start();
    await mockA.fault({ fault: 'missing_done', model: 'solo', count: 1 });
    const t0 = Date.now();
    const r = await postChat(gw, ask('solo', { stream: true, stream_options: { include_usage: true } }), USER);
    const events = await sseEvents(r);
    assert.ok(Date.now() - t0 < 400, `took ${Date.now() - t0} ms: no wait for an idle timeout`);
    assert.equal(events.at(-1), '[DONE]');
    const u = JSON.parse(events.at(-2)).usage;
    assert.ok(u?.total_tokens > 0);
    assert.equal((await usage(gw)).token_usage, u.total_tokens);
  });

  test('context length exceeded: the provider reason reaches the client as 400, nothing retried or billed', async () => {
    gw = await start();
    const message = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.";
    await mockA.fault({ fault: 'status', status: 400, model: 'mock-gpt-4', code: 'context_length_exceeded', message });
    const r = await postChat(gw, ask('mock-gpt-4'), USER);
    const e = await openAIError(r, 400, 'context_length_exceeded');
    assert.equal(e.message, message);
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 1);
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 0);
    assert.equal((await usage(gw)).token_usage, 0);
  });

  test('context length exceeded with fallbacks: never resent to the model, the larger-window fallback answers', async () => {
    const model = (id, extra) => ({ id, object: 'model', created: 1, owned_by: 'x', ...extra });
    gw = await start({}, {
      providers: [mockProvider(mockA, 'mock-a', ['mock-gpt-4']), mockProvider(mockB, 'mock-b', ['mock-gpt-4', 'small-ctx', 'big-ctx'])],
      models: { object: 'list', data: [
        model('mock-gpt-4', { context_length: 8192, fallbacks: ['small-ctx', 'big-ctx'] }),
        model('small-ctx', { context_length: 4096 }), model('big-ctx', { context_length: 128000 }),
      ] },
    });
    const message = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.";
    await mockA.fault({ fault: 'status', status: 400, model: 'mock-gpt-4', code: 'context_length_exceeded', message });
    const r = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.equal(r.status, 200);
    const body = await r.json();
    assert.equal(body.model, 'big-ctx', 'the fallback with the larger window answered');
    assert.equal(await countFor(mockA, 'mock-gpt-4') + await countFor(mockB, 'mock-gpt-4'), 1, 'the model was tried once, on one provider');
    assert.equal(await countFor(mockB, 'small-ctx'), 0, 'the smaller window is not tried first');
    assert.equal((await usage(gw)).token_usage, body.usage.total_tokens, 'billed the answer only');
  });

  test('content policy rejection: relayed as 400 with the reason, even for a stream request', async () => {
    gw = await start();
    const message = 'Your request was rejected as a result of our safety system.';
    await mockA.fault({ fault: 'status', status: 400, model: 'mock-gpt-4', code: 'content_policy_violation', message });
    const r = await postChat(gw, ask('mock-gpt-4', { stream: true }), USER);
    const e = await openAIError(r, 400, 'content_policy_violation');
    assert.equal(e.message, message);
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 0);
  });

  test('a primary down for a while is served around, then back in rotation right after it recovers', async () => {
    gw = await start({ ROUTING_SPREAD_POINTS: '10' });
    await mockA.fault({ fault: 'status', status: 503, model: 'mock-gpt-4' });
    for (let i = 0; i < 6; i++) {
      const r = await postChat(gw, ask('mock-gpt-4'), USER);
      assert.equal(r.status, 200, 'no client sees the outage');
      await r.json();
    }
    const aDuringOutage = await countFor(mockA, 'mock-gpt-4');
    assert.ok(aDuringOutage <= 4, `circuit opened after 4 failures (A saw ${aDuringOutage})`);
    // Still down when the cool-down ends: one probe, which fails over invisibly, and a longer wait.
    await sleep(450);
    let r = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.equal(r.status, 200);
    await r.json();
    assert.equal(await countFor(mockA, 'mock-gpt-4'), aDuringOutage + 1, 'exactly one probe');
    // Recovery: after the (doubled) cool-down the probe succeeds and A takes traffic again.
    await mockA.control('/mock/faults', 'DELETE');
    await mockA.control('/mock/requests', 'DELETE');
    await sleep(850);
    r = await postChat(gw, ask('mock-gpt-4'), gw.adminKey);
    assert.equal(r.headers.get('x-anygpt-provider'), 'mock-a', 'the probe goes to the recovered provider');
    await r.json();
    for (let i = 0; i < 20; i++) await (await postChat(gw, ask('mock-gpt-4'), USER)).json();
    const a = await countFor(mockA, 'mock-gpt-4');
    assert.ok(a >= 4, `A is back in rotation (${a} of 21 requests)`);
  });

  test('a flapping primary serves again within BREAKER_MAX_COOLDOWN_MS of its recovery under steady traffic', async () => {
    gw = await start({ BREAKER_COOLDOWN_MS: '150', BREAKER_MAX_COOLDOWN_MS: '600' });
    const steady = async (ms) => {  // a request every ~40 ms; the provider that served each one
      const seen = [];
      for (const end = Date.now() + ms; Date.now() < end;) {
        const r = await postChat(gw, ask('mock-gpt-4'), gw.adminKey);
        assert.equal(r.status, 200, 'no client sees the outage');
        await r.json();
        seen.push({ at: Date.now(), by: r.headers.get('x-anygpt-provider') });
        await sleep(40);
      }
      return seen;
    };
    // Down, up, down again, then up for good: the cool-down doubles 150 -> 300 -> 600 and stays there.
    await mockA.fault({ fault: 'status', status: 503, model: 'mock-gpt-4' });
    await steady(2500);
    await mockA.control('/mock/faults', 'DELETE');
    await steady(800);
    await mockA.fault({ fault: 'status', status: 503, model: 'mock-gpt-4' });
    await steady(2500);
    await mockA.control('/mock/faults', 'DELETE');
    const recovered = Date.now();
    const after = await steady(1500);
    const back = after.find((s) => s.by === 'mock-a');
    assert.ok(back, `mock-a served again (${after.length} requests after its recovery)`);
    assert.ok(back.at - recovered <= 600 + 250, `back ${back.at - recovered} ms after recovering (cap 600 ms)`);
  });

  test('fallback model: when every provider of the model fails, the next model answers and is billed', async () => {
    gw = await start({}, {
      models: { object: 'list', data: [{ id: 'solo', object: 'model', created: 1, owned_by: 'x', fallbacks: ['mock-gpt-4'] }] },
    });
    await mockA.fault({ fault: 'status', status: 500, model: 'solo' });
    const r = await postChat(gw, ask('solo'), USER);
    assert.equal(r.status, 200);
    const body = await r.json();
    assert.equal(body.model, 'mock-gpt-4', 'the model that answered');
    assert.equal(await countFor(mockA, 'solo'), 2, 'the requested model: tried and retried');
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 1, 'then the fallback on the first of its providers');
    assert.equal((await usage(gw)).token_usage, body.usage.total_tokens, 'billed the fallback answer only');
  });

  test('per-request fallbacks: the chain extended for one request, the field never sent upstream', async () => {
    gw = await start();
    await mockA.fault({ fault: 'status', status: 500, model: 'solo' });
    const r = await postChat(gw, ask('solo', { fallbacks: ['mock-gpt-4'] }), USER);
    assert.equal(r.status, 200);
    const body = await r.json();
    assert.equal(body.model, 'mock-gpt-4');
    for (const m of [mockA, mockB])
      for (const rec of (await m.requests()).requests) assert.ok(!('fallbacks' in (rec.bodyJson ?? {})), `no fallbacks upstream: ${rec.body}`);
    // The same through a translated protocol (Anthropic Messages).
    const a = await fetch(`${gw.url}/v3/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': USER, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'solo', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], fallbacks: ['mock-gpt-4'] }),
    });
    assert.equal(a.status, 200, await a.clone().text());
    assert.equal((await a.json()).model, 'mock-gpt-4');
    // Bad lists: 400 naming the entry, nothing upstream.
    await mockA.control('/mock/requests', 'DELETE');
    for (const [fallbacks, param] of [[['no-such-model'], 'fallbacks[0]'], [['mock-gpt-4', 7], 'fallbacks[1]'], ['mock-gpt-4', 'fallbacks']]) {
      const bad = await postChat(gw, ask('solo', { fallbacks }), USER);
      const e = await openAIError(bad, 400);
      assert.equal(e.param, param);
    }
    assert.equal(await countFor(mockA, 'solo'), 0);
  });

  test("upstream 401: the provider's credentials are bad, it is taken out at once", async () => {
    gw = await start();
    await mockA.fault({ fault: 'status', status: 401, model: 'mock-gpt-4' });
    for (let i = 0; i < 3; i++) {
      const r = await postChat(gw, ask('mock-gpt-4'), USER);
      assert.equal(r.status, 200);
      await r.json();
    }
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 1, 'never asked again');
    // Its other models are out too: the credentials are the provider's.
    const r = await postChat(gw, ask('solo'), USER);
    const e = await openAIError(r, 503, 'no_healthy_provider');
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.ok(!e.message.includes('provider-secret'));
    const p = await waitFor(() => gw.readJson('providers.json').find((x) => x.id === 'mock-a' && x.disabled));
    assert.equal(p.disabled_by, 'anygpt-health');
  });

  test('DISABLE_PROVIDER_AUTO_DISABLE=true: a 401 does not take the whole provider out', async () => {
    gw = await start({ DISABLE_PROVIDER_AUTO_DISABLE: 'true' });
    await mockA.fault({ fault: 'status', status: 401, model: 'mock-gpt-4', count: 1 });
    const r1 = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.equal(r1.status, 200);
    await r1.json();
    const r = await postChat(gw, ask('solo'), USER);
    assert.equal(r.status, 200);
    await r.json();
  });

  test('the request budget bounds attempts and time', async () => {
    gw = await start({ ROUTING_MAX_ATTEMPTS: '3' });
    await mockA.fault({ fault: 'status', status: 502, model: 'mock-gpt-4' });
    await mockB.fault({ fault: 'status', status: 502, model: 'mock-gpt-4' });
    let r = await postChat(gw, ask('mock-gpt-4'), USER);
    await openAIError(r, 502);
    assert.equal((await countFor(mockA, 'mock-gpt-4')) + (await countFor(mockB, 'mock-gpt-4')), 3);
    await gw.cleanup();
    for (const m of [mockA, mockB]) await m.control('/mock/faults', 'DELETE');
    gw = await start({ ROUTING_BUDGET_MS: '700', UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '5000' });
    await mockA.fault({ fault: 'no_answer', model: 'mock-gpt-4' });
    await mockB.fault({ fault: 'no_answer', model: 'mock-gpt-4' });
    const t0 = Date.now();
    r = await postChat(gw, ask('mock-gpt-4'), USER);
    await openAIError(r, 504);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 650 && elapsed < 1300, `answered after ${elapsed} ms for a 700 ms budget`);
  });

  test('excluded-errors.json (hot-reloaded) exempts matching failures from health', async () => {
    gw = await start();
    writeFileSync(join(gw.dir, 'excluded-errors.json'), JSON.stringify({ patterns: ['Currently OVERLOADED'] }));
    await sleep(250);  // the Housekeeper reloads within one flush interval (100 ms in tests)
    await mockA.fault({ fault: 'status', status: 503, model: 'solo', message: 'The engine is currently overloaded' });
    for (let i = 0; i < 4; i++) await openAIError(await postChat(gw, ask('solo'), USER), 502, 'upstream_error');
    assert.equal(await countFor(mockA, 'solo'), 8, 'tried and retried every time: no circuit opened');
    await sleep(250);
    const m = gw.readJson('providers.json').find((x) => x.id === 'mock-a').models.solo;
    assert.notEqual(m.disabled, true);
    assert.equal(m.errors ?? 0, 0, 'not counted as errors');
  });

  test('capabilities: a model declared without image input refuses images; capability_skips route around', async () => {
    const providers = [
      mockProvider(mockA, 'mock-a', ['mock-gpt-4', 'solo']),
      mockProvider(mockB, 'mock-b', ['mock-gpt-4']),
    ];
    providers[0].models['mock-gpt-4'].capability_skips = { image_input: 'not supported by this host' };
    gw = await start({}, {
      providers,
      models: { object: 'list', data: [{ id: 'solo', object: 'model', created: 1, owned_by: 'x', capabilities: ['text'] }] },
    });
    const image = { role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: 'https://example.test/a.png' } }] };
    let r = await postChat(gw, { model: 'solo', messages: [image] }, USER);
    const e = await openAIError(r, 400, 'model_capability_missing');
    assert.match(e.message, /image_input/);
    r = await postChat(gw, { model: 'mock-gpt-4', messages: [image] }, USER);
    assert.equal(r.status, 200);
    await r.json();
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 0, 'the provider that skips image input is not asked');
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 1);
  });

  test('stats reach providers.json in the original fields, without any user key', async () => {
    gw = await start();
    for (let i = 0; i < 3; i++) await (await postChat(gw, ask('solo'), USER)).json();
    const p = await waitFor(() => {
      const x = gw.readJson('providers.json').find((y) => y.id === 'mock-a');
      return x.models.solo.response_times.length === 3 && x;
    });
    const m = p.models.solo;
    for (const entry of m.response_times) {
      assert.equal(entry.apiKey, undefined);
      assert.ok(entry.response_time >= 0 && entry.tokens_generated === entry.input_tokens + entry.output_tokens);
    }
    assert.ok(typeof m.avg_response_time === 'number' && typeof m.avg_provider_latency === 'number');
    assert.ok(typeof p.provider_score === 'number' && p.provider_score > 50, `score ${p.provider_score}`);
    assert.equal(p.apiKey, 'provider-secret-mock-a', 'the rest of the file is untouched');
    const text = JSON.stringify(gw.readJson('providers.json'));
    assert.ok(!text.includes(USER), 'no user key in stats');
  });

  test('every attempt is logged at debug (provider, outcome, latency) without secrets', async () => {
    gw = await start();
    await mockA.fault({ fault: 'status', status: 500, model: 'mock-gpt-4', count: 2 });
    await (await postChat(gw, ask('mock-gpt-4'), USER)).json();
    const lines = await waitFor(() => {
      const l = gw.stderr().split('\n').filter((x) => x.includes('upstream attempt'));
      return l.length >= 3 && l;
    });
    const parsed = lines.map((l) => JSON.parse(l));
    assert.deepEqual(parsed.map((p) => [p.provider, p.outcome]), [['mock-a', 'failure'], ['mock-a', 'failure'], ['mock-b', 'success']]);
    for (const p of parsed) assert.ok(typeof p.latency_ms === 'number');
    assert.ok(!gw.stderr().includes('provider-secret') && !gw.stderr().includes(USER));
  });
});

describe('model updater', () => {
  let mock, gw;
  before(async () => { mock = await startMock(); });
  after(async () => { await gw?.cleanup(); await mock?.stop(); });

  test('POST /admin/models/refresh-provider-counts refreshes models.json (admin only)', async () => {
    gw = await startGateway({
      files: {
        tiers, keys,
        providers: [mockProvider(mock, 'mock-a', ['mock-gpt-4', 'claude-x']), mockProvider(mock, 'mock-b', ['mock-gpt-4'])],
        models: { object: 'list', data: [{ id: 'gone-model', object: 'model', created: 1, owned_by: 'x', providers: 3 }] },
      },
      env: { MODEL_CAPS_REFRESH_MS: '3600000' },
    });
    for (const prefix of ['/admin', '/api/admin']) {
      const denied = await fetch(`${gw.url}${prefix}/models/refresh-provider-counts`, { method: 'POST', headers: { authorization: `Bearer ${USER}` } });
      await openAIError(denied, 403);
      const r = await fetch(`${gw.url}${prefix}/models/refresh-provider-counts`, { method: 'POST', headers: { authorization: `Bearer ${gw.adminKey}` } });
      assert.equal(r.status, 200);
      const body = await r.json();
      assert.equal(body.provider_counts['mock-gpt-4'], 2);
    }
    const models = gw.readJson('models.json').data;
    const byId = Object.fromEntries(models.map((m) => [m.id, m]));
    assert.equal(byId['gone-model'], undefined, 'a model nobody serves is dropped');
    assert.equal(byId['mock-gpt-4'].providers, 2);
    assert.equal(byId['claude-x'].owned_by, 'anthropic');
    const listed = await (await fetch(`${gw.url}/v1/models`)).json();
    assert.deepEqual(listed.data.map((m) => m.id).sort(), ['claude-x', 'mock-gpt-4']);
  });
});
