// Upstream failure behaviour: unreachable providers, failover, timeouts, client aborts,
// provider 4xx pass-through and streams cut mid-way. Real gateway, real mock providers.
import { test, describe, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startMock, startGateway, mockProvider, userKeys, newKey, sseEvents,
  freePort, waitFor, openAIError, openTier, postChat, establishedTo,
} from './lib/harness.mjs';

const USER = newKey();
const tiers = { open: openTier(), enterprise: openTier() };
const keys = userKeys({ [USER]: { userId: 'upstream-user', tier: 'open' } });
const ask = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra });
const countFor = async (mock, model) => (await mock.requests()).counts[model] ?? 0;

// A provider at a port where nothing listens.
const deadProvider = (id, port, models) => mockProvider({ url: `http://127.0.0.1:${port}` }, id, models);

describe('with short upstream timeouts', () => {
  let mockA, mockB, gw, closedPort;

  before(async () => {
    [mockA, mockB] = await Promise.all([startMock(), startMock()]);
    closedPort = await freePort();
  });
  after(async () => { await mockA?.stop(); await mockB?.stop(); });
  // A fresh gateway per test: health learnt in one test (scores, open circuits) must not steer
  // the next. Order is strict (no load spreading) so the first provider is always tried first.
  beforeEach(async () => {
    for (const m of [mockA, mockB]) { await m.control('/mock/faults', 'DELETE'); await m.control('/mock/requests', 'DELETE'); }
    gw = await startGateway({
      files: {
        tiers, keys,
        providers: [
          deadProvider('dead', closedPort, ['dead-model', 'down-first']),
          mockProvider(mockA, 'mock-a', ['mock-gpt-4', 'solo-model']),
          mockProvider(mockB, 'mock-b', ['mock-gpt-4', 'down-first']),
        ],
      },
      env: { UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '500', UPSTREAM_IDLE_TIMEOUT_MS: '500', UPSTREAM_CONNECT_TIMEOUT_MS: '1000',
             ROUTING_SPREAD_POINTS: '0' },
    });
  });
  afterEach(async () => { await gw?.cleanup(); });

  test('a provider on a closed port -> 503 in OpenAI shape, quickly, without leaking its key', async () => {
    const t0 = Date.now();
    const r = await postChat(gw, ask('dead-model'), USER);
    const text = await r.clone().text();
    const e = await openAIError(r, 503);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 2000, `took ${elapsed} ms`);
    assert.ok(!text.includes('provider-secret-dead'), 'provider key not in the error');
    assert.equal(e.type, 'upstream_error');
  });

  test('failover: the first provider answers 500 every time -> the second one serves 200', async () => {
    await mockA.fault({ fault: 'status', status: 500, model: 'mock-gpt-4' });
    const r = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.equal(r.status, 200);
    const body = await r.json();
    assert.equal(body.object, 'chat.completion');
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 2, 'first provider tried, then retried once');
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 1, 'second provider served');
    const admin = await postChat(gw, ask('mock-gpt-4'), gw.adminKey);
    assert.equal(admin.headers.get('x-anygpt-provider'), 'mock-b');
    await admin.json();
  });

  test('failover: the first provider is down (connection refused) -> the second one serves 200', async () => {
    const t0 = Date.now();
    const r = await postChat(gw, ask('down-first'), USER);
    assert.equal(r.status, 200);
    assert.equal((await r.json()).model, 'down-first');
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(await countFor(mockB, 'down-first'), 1);
  });

  test('failover: upstream 429 with a long Retry-After on the first provider -> the second one serves 200', async () => {
    await mockA.fault({ fault: 'status', status: 429, retryAfter: 5, model: 'mock-gpt-4' });
    const r = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.equal(r.status, 200);
    await r.json();
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 1);
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 1);
  });

  test('failover: a TCP reset from the first provider -> the second one serves 200', async () => {
    await mockA.fault({ fault: 'reset', model: 'mock-gpt-4' });
    const r = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.equal(r.status, 200);
    await r.json();
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 1);
  });

  test('failover also works for streams: 500 from the first, full SSE from the second', async () => {
    await mockA.fault({ fault: 'status', status: 500, model: 'mock-gpt-4' });
    const r = await postChat(gw, ask('mock-gpt-4', { stream: true }), USER);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/event-stream/);
    const events = await sseEvents(r);
    assert.equal(events.at(-1), '[DONE]');
    assert.ok(!events.some((e) => e.includes('"error"')));
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 2, 'tried and retried once');
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 1);
  });

  test('every provider failing -> one 5xx OpenAI error, each provider tried and retried once', async () => {
    await mockA.fault({ fault: 'status', status: 500, model: 'mock-gpt-4' });
    await mockB.fault({ fault: 'status', status: 503, model: 'mock-gpt-4' });
    const r = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.ok(r.status >= 500 && r.status <= 599, `status ${r.status}`);
    await openAIError(r, r.status);
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 2);
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 2);
  });

  test('an upstream that never answers -> 504 after UPSTREAM_FIRST_BYTE_TIMEOUT_MS', async () => {
    await mockA.fault({ fault: 'no_answer', model: 'solo-model' });
    const t0 = Date.now();
    const r = await postChat(gw, ask('solo-model'), USER);
    const e = await openAIError(r, 504);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 400 && elapsed < 1500, `took ${elapsed} ms`);
    assert.equal(e.type, 'upstream_error');
    assert.equal(await countFor(mockA, 'solo-model'), 1);
  });

  test('a stream whose upstream never answers -> 504 JSON error before any SSE', async () => {
    await mockA.fault({ fault: 'no_answer', model: 'solo-model' });
    const t0 = Date.now();
    const r = await postChat(gw, ask('solo-model', { stream: true }), USER);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    await openAIError(r, 504);
    assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
  });

  test('a 200 with a body that is not JSON from the first provider -> failover to the second', async () => {
    await mockA.fault({ fault: 'malformed_chunk', model: 'mock-gpt-4' });
    const r = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.equal(r.status, 200);
    assert.equal((await r.json()).object, 'chat.completion');
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 1);
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 1);
  });

  test("an upstream 401 (the provider's key) never reaches the client as 401", async () => {
    await mockA.fault({ fault: 'status', status: 401, model: 'solo-model' });
    const r = await postChat(gw, ask('solo-model'), USER);
    const text = await r.clone().text();
    assert.ok(r.status >= 500 && r.status <= 599, `status ${r.status}: ${text}`);
    const e = await openAIError(r, r.status);
    assert.notEqual(e.code, 'invalid_api_key');
    assert.ok(!text.includes('provider-secret'), 'provider key not leaked');
  });

  test('upstream 400 context_length_exceeded is passed through as 400, not retried nor failed over', async () => {
    const message = "This model's maximum context length is 8192 tokens.";
    await mockA.fault({ fault: 'status', status: 400, model: 'mock-gpt-4', code: 'context_length_exceeded', message });
    const r = await postChat(gw, ask('mock-gpt-4'), USER);
    const e = await openAIError(r, 400, 'context_length_exceeded');
    assert.equal(e.message, message);
    assert.equal(await countFor(mockA, 'mock-gpt-4'), 1);
    assert.equal(await countFor(mockB, 'mock-gpt-4'), 0, 'a client error is not failed over');
  });

  test('a provider error that echoes the provider key is relayed with the key masked', async () => {
    const message = 'Invalid value for temperature (key provider-secret-mock-a)';
    await mockA.fault({ fault: 'status', status: 400, model: 'solo-model', code: 'invalid_value', message, count: 1 });
    const r = await postChat(gw, ask('solo-model'), USER);
    const e = await openAIError(r, 400, 'invalid_value');
    assert.equal(e.message, 'Invalid value for temperature (key ***)');
  });

  test('stream cut after 3 chunks -> relayed chunks, then an error event and no [DONE]', async () => {
    await mockA.fault({ fault: 'stream_cut', afterChunks: 3, model: 'solo-model' });
    const r = await postChat(gw, ask('solo-model', { stream: true }), USER);
    assert.equal(r.status, 200);
    const events = await sseEvents(r);
    assert.ok(!events.includes('[DONE]'), `no [DONE]: ${JSON.stringify(events)}`);
    const parsed = events.map((e) => JSON.parse(e));
    const last = parsed.at(-1);
    assert.ok(last.error && typeof last.error.message === 'string' && last.error.message.length > 0, JSON.stringify(last));
    assert.equal(parsed.filter((p) => p.error).length, 1, 'exactly one error event');
    const chunks = parsed.filter((p) => p.object === 'chat.completion.chunk');
    assert.equal(chunks.length, 3, 'the 3 chunks before the cut are relayed');
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  });

  test('stream stalled mid-way -> error event after UPSTREAM_IDLE_TIMEOUT_MS, no [DONE]', async () => {
    await mockA.fault({ fault: 'stream_stall', afterChunks: 2, model: 'solo-model' });
    const t0 = Date.now();
    const r = await postChat(gw, ask('solo-model', { stream: true }), USER);
    assert.equal(r.status, 200);
    const events = await sseEvents(r);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 400 && elapsed < 2000, `took ${elapsed} ms`);
    assert.ok(!events.includes('[DONE]'));
    const last = JSON.parse(events.at(-1));
    assert.ok(last.error?.message, JSON.stringify(last));
    assert.equal(events.length, 3, '2 relayed chunks + the error event');
  });
});

describe('UPSTREAM_TIMEOUT_MS caps the whole upstream call', () => {
  let mock, gw;
  before(async () => {
    mock = await startMock();
    gw = await startGateway({
      files: { tiers, keys, providers: [mockProvider(mock, 'mock-a', ['mock-gpt-4'])] },
      env: { UPSTREAM_TIMEOUT_MS: '800', UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '60000', UPSTREAM_IDLE_TIMEOUT_MS: '60000' },
    });
  });
  after(async () => { await gw?.cleanup(); await mock?.stop(); });

  test('a slow first byte is cut at the total cap -> 504', async () => {
    await mock.fault({ fault: 'slow_first_token', delayMs: 3000, count: 1 });
    const t0 = Date.now();
    await openAIError(await postChat(gw, ask('mock-gpt-4'), USER), 504);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 700 && elapsed < 1800, `took ${elapsed} ms`);
  });

  test('a stream that keeps trickling past the cap ends with an error event, no [DONE]', async () => {
    await mock.control('/mock/config', 'POST', { streamChunks: 40, chunkIntervalMs: 100 });  // ~4 s stream
    try {
      const t0 = Date.now();
      const r = await postChat(gw, ask('mock-gpt-4', { stream: true }), USER);
      assert.equal(r.status, 200);
      const events = await sseEvents(r);
      const elapsed = Date.now() - t0;
      assert.ok(elapsed < 2500, `took ${elapsed} ms`);
      assert.ok(!events.includes('[DONE]'));
      assert.ok(JSON.parse(events.at(-1)).error?.message, events.at(-1));
      assert.ok(events.length > 2, 'some chunks relayed before the cap');
    } finally {
      await mock.control('/mock/config', 'POST', { streamChunks: 0, chunkIntervalMs: 0 });
    }
  });
});

describe('client aborts', () => {
  let mock, gw;
  const me = async () => (await (await fetch(`${gw.url}/v1/keys/me`, { headers: { authorization: `Bearer ${USER}` } })).json()).usage;

  before(async () => {
    mock = await startMock();
    gw = await startGateway({
      files: { tiers, keys, providers: [mockProvider(mock, 'mock-a', ['mock-gpt-4'])] },
      // Long timeouts: anything closed promptly here was closed because the client left.
      env: { UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '60000', UPSTREAM_IDLE_TIMEOUT_MS: '30000' },
    });
  });
  after(async () => { await gw?.cleanup(); await mock?.stop(); });
  beforeEach(async () => { await mock.control('/mock/faults', 'DELETE'); await mock.control('/mock/requests', 'DELETE'); });

  test('aborting a request held by the upstream closes the upstream connection promptly; nothing billed', async () => {
    const usage0 = await me();
    assert.equal(establishedTo(mock.port, gw.proc.pid), 0, 'no upstream connection yet');
    await mock.fault({ fault: 'no_answer', model: 'mock-gpt-4', count: 1 });
    const ac = new AbortController();
    const pending = postChat(gw, ask('mock-gpt-4'), USER, { signal: ac.signal }).then(
      (r) => ({ status: r.status }), (e) => ({ error: e }));
    assert.ok(await waitFor(async () => (await mock.requests()).total === 1), 'the mock received the request');
    assert.equal(establishedTo(mock.port, gw.proc.pid), 1, 'one open upstream connection while held');
    ac.abort();
    const res = await pending;
    assert.equal(res.error?.name, 'AbortError');
    const t0 = Date.now();
    const closed = await waitFor(() => establishedTo(mock.port, gw.proc.pid) === 0, { timeoutMs: 3000 });
    assert.ok(closed, 'the gateway closed its upstream connection');
    assert.ok(Date.now() - t0 < 1000, `closed after ${Date.now() - t0} ms`);
    const usage1 = await me();
    assert.equal(usage1.request_count, usage0.request_count, 'an aborted request is not billed');
    assert.equal(usage1.token_usage, usage0.token_usage);
    // Still healthy and serving.
    const r = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.equal(r.status, 200);
    await r.json();
    assert.equal((await me()).request_count, usage0.request_count + 1);
  });

  test('aborting a stream before the upstream answers closes the upstream connection promptly', async () => {
    await waitFor(() => establishedTo(mock.port, gw.proc.pid) <= 1);
    const base = establishedTo(mock.port, gw.proc.pid);  // an idle pooled connection may remain from the previous test
    await mock.fault({ fault: 'no_answer', model: 'mock-gpt-4', count: 1 });
    const ac = new AbortController();
    const pending = postChat(gw, ask('mock-gpt-4', { stream: true }), USER, { signal: ac.signal }).then(
      (r) => ({ status: r.status }), (e) => ({ error: e }));
    assert.ok(await waitFor(async () => (await mock.requests()).total === 1));
    const during = establishedTo(mock.port, gw.proc.pid);
    assert.ok(during >= 1);
    ac.abort();
    assert.equal((await pending).error?.name, 'AbortError');
    const closed = await waitFor(() => establishedTo(mock.port, gw.proc.pid) < during, { timeoutMs: 2000 });
    assert.ok(closed, 'the gateway closed the held upstream connection within 2 s');
    assert.ok(establishedTo(mock.port, gw.proc.pid) <= base);
    const r = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.equal(r.status, 200);
    await r.json();
  });

  test('aborting a stream while chunks still flow closes the upstream connection promptly', async () => {
    await mock.control('/mock/config', 'POST', { streamChunks: 60, chunkIntervalMs: 100 });  // ~6 s stream
    try {
      const ac = new AbortController();
      const r = await postChat(gw, ask('mock-gpt-4', { stream: true }), USER, { signal: ac.signal });
      assert.equal(r.status, 200);
      const reader = r.body.getReader();
      await reader.read();
      const during = establishedTo(mock.port, gw.proc.pid);
      assert.ok(during >= 1);
      ac.abort();
      await reader.read().catch(() => {});
      const t0 = Date.now();
      const closed = await waitFor(() => establishedTo(mock.port, gw.proc.pid) < during, { timeoutMs: 5000 });
      assert.ok(closed && Date.now() - t0 < 1500, `upstream closed after ${Date.now() - t0} ms`);
    } finally {
      await mock.control('/mock/config', 'POST', { streamChunks: 0, chunkIntervalMs: 0 });
    }
  });

  // The relay races the whole stream against the client's EOF, so a silent upstream is dropped too.
  test('aborting a stream stalled mid-way closes the upstream connection promptly', async () => {
    await mock.fault({ fault: 'stream_stall', afterChunks: 2, model: 'mock-gpt-4', count: 1 });
    const before = establishedTo(mock.port, gw.proc.pid);
    const ac = new AbortController();
    const r = await postChat(gw, ask('mock-gpt-4', { stream: true }), USER, { signal: ac.signal });
    assert.equal(r.status, 200);
    const reader = r.body.getReader();
    let got = '';
    while (!got.includes('"role"')) {
      const { value, done } = await reader.read();
      assert.ok(!done, 'stream ended early');
      got += new TextDecoder().decode(value);
    }
    const during = establishedTo(mock.port, gw.proc.pid);
    assert.ok(during >= 1);
    ac.abort();
    await reader.read().catch(() => {});
    const t0 = Date.now();
    const closed = await waitFor(() => establishedTo(mock.port, gw.proc.pid) < during, { timeoutMs: 5000 });
    const elapsed = Date.now() - t0;
    assert.ok(closed && elapsed < 2000,
      `upstream connection still open ${elapsed} ms after the client left (before=${before}, during=${during}, now=${establishedTo(mock.port, gw.proc.pid)})`);
    const ok = await postChat(gw, ask('mock-gpt-4'), USER);
    assert.equal(ok.status, 200);
    await ok.json();
  });
});
