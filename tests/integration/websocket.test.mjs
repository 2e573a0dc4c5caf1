// GET /ws with the `ws` client (issue 11): auth, ping, chat.completions answered whole and
// streamed (chat.delta per upstream chunk, in order), two streams interleaved on one socket,
// cancel, every error code, one rate budget shared with HTTP, usage billed, failover, frame caps,
// idle close, drain on SIGTERM.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { readFileSync } from 'node:fs';
import {
  startMock, startGateway, mockProvider, userKeys, newKey, openTier, postChat, sleep, waitFor, tokensUsed, modelPosts, establishedTo,
} from './lib/harness.mjs';

const KEY = newKey();
const LIMITED = newKey();  // rps 1, rpm 3: the shared budget
const BROKE = newKey();    // token quota used up

// A socket with a queue of received messages.
async function connect(gw, path = '/ws', options = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}${path}`, options);
  ws.inbox = [];
  ws.waiters = [];
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    ws.inbox.push(m);
    for (const w of ws.waiters.splice(0)) w();
  });
  ws.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  // The next message matching `pred` (removed from the inbox).
  ws.next = async (pred = () => true, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = ws.inbox.findIndex(pred);
      if (i >= 0) return ws.inbox.splice(i, 1)[0];
      if (Date.now() > deadline) throw new Error(`no such message; inbox: ${JSON.stringify(ws.inbox)}`);
      await new Promise((r) => { ws.waiters.push(r); setTimeout(r, 50); });
    }
  };
  ws.ask = (m) => ws.send(JSON.stringify(m));
  return ws;
}

async function authed(gw, key = KEY, extra = {}) {
  const ws = await connect(gw);
  ws.ask({ type: 'auth', apiKey: key, ...extra });
  const ok = await ws.next((m) => m.type === 'auth.ok' || m.type === 'error');
  assert.equal(ok.type, 'auth.ok', JSON.stringify(ok));
  return ws;
}

const chat = (requestId, content, extra = {}) => ({ type: 'chat.completions', requestId, model: 'mock-gpt-4', messages: [{ role: 'user', content }], ...extra });

describe('/ws', () => {
  let mock, mockB, slow, gw;
  before(async () => {
    [mock, mockB, slow] = await Promise.all([
      startMock({ MOCK_STREAM_CHUNKS: '6' }), startMock({ MOCK_STREAM_CHUNKS: '6' }),
      startMock({ MOCK_STREAM_CHUNKS: '20', MOCK_CHUNK_INTERVAL: '200' }),
    ]);
    const limitedTier = openTier({ rps: 1, rpm: 3 });
    gw = await startGateway({
      files: {
        tiers: { open: openTier(), limited: limitedTier, broke: openTier({ max_tokens: 10 }) }, excluded: { patterns: [] },
        keys: userKeys({
          [KEY]: { userId: 'u', tier: 'open' }, [LIMITED]: { userId: 'l', tier: 'limited' },
          [BROKE]: { userId: 'b', tier: 'broke', tokenUsage: 50 },
        }),
        providers: [mockProvider(mock, 'first', ['mock-gpt-4', 'flaky']), mockProvider(mockB, 'second', ['mock-gpt-4', 'flaky']),
          mockProvider(slow, 'slow', ['slow-model'])],
      },
      env: { ROUTING_SPREAD_POINTS: '0', WS_MAX_MESSAGE_BYTES: '65536', WS_MAX_IN_FLIGHT: '4' },
    });
  });
  after(async () => { await gw?.cleanup(); await mock?.stop(); await mockB?.stop(); await slow?.stop(); });

  test('auth answers tier and role; a second auth says already; ping gets pong', async () => {
    const ws = await connect(gw);
    ws.ask({ type: 'ping' });
    assert.deepEqual(await ws.next(), { type: 'pong' });
    ws.ask({ type: 'auth', apiKey: KEY });
    assert.deepEqual(await ws.next(), { type: 'auth.ok', tier: 'open', role: 'user' });
    ws.ask({ type: 'auth', apiKey: KEY });
    assert.deepEqual(await ws.next(), { type: 'auth.ok', tier: 'open', role: 'user', already: true });
    ws.ask({ type: 'auth', apiKey: gw.adminKey });
    assert.equal((await ws.next()).code, 'auth', 'another key on an authenticated socket is refused');
    ws.close();
  });

  test('chat.completions answered whole: chat.start then chat.complete with text, usage and the full completion', async () => {
    const ws = await authed(gw);
    ws.ask(chat('r1', 'good day there'));
    assert.deepEqual(await ws.next(), { type: 'chat.start', requestId: 'r1' });
    const done = await ws.next();
    assert.equal(done.type, 'chat.complete');
    assert.equal(done.requestId, 'r1');
    assert.equal(done.response, 'Mock reply to: good day there');
    assert.equal(done.completion.object, 'chat.completion');
    assert.equal(done.completion.choices[0].message.content, done.response);
    assert.ok(done.usage.total_tokens > 0);
    assert.equal(typeof done.latencyMs, 'number');
    assert.equal(done.providerId, null, 'provider ids are shown to admin keys only, as over HTTP');
    ws.close();
  });

  test('streamed: chat.delta per upstream chunk in order, then chat.complete with the whole text and usage', async () => {
    const ws = await authed(gw);
    const before = await tokensUsed(gw, KEY);
    ws.ask(chat('s1', 'stream me please', { stream: true, temperature: 0.25 }));
    assert.equal((await ws.next()).type, 'chat.start');
    const deltas = [];
    let m;
    while ((m = await ws.next()).type === 'chat.delta') { assert.equal(m.requestId, 's1'); deltas.push(m.delta.content); }
    assert.equal(m.type, 'chat.complete');
    assert.equal(deltas.length, 6, 'one chat.delta per content chunk of the mock');
    assert.equal(deltas.join(''), 'Mock reply to: stream me please');
    assert.equal(m.response, deltas.join(''));
    assert.ok(m.usage.total_tokens > 0);
    assert.equal(m.completion.choices[0].message.content, m.response);
    await waitFor(async () => (await tokensUsed(gw, KEY)) === before + m.usage.total_tokens);
    const posts = [...await modelPosts(mock), ...await modelPosts(mockB)];
    const sent = posts.map((p) => p.bodyJson ?? {}).find((b) => b.messages?.[0]?.content === 'stream me please');
    assert.equal(sent.temperature, 0.25, 'the options of the HTTP route reach the provider');
    assert.equal(sent.stream, true);
    ws.close();
  });

  test('tool calls stream as tool_calls deltas; chat.complete carries the assembled call', async () => {
    const ws = await authed(gw);
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    ws.ask(chat('tc', 'weather?', { stream: true, tools }));
    let args = '';
    let m;
    while ((m = await ws.next((x) => x.requestId === 'tc' && x.type !== 'chat.start')).type === 'chat.delta') {
      for (const t of m.delta.tool_calls ?? []) args += t.function?.arguments ?? '';
    }
    assert.equal(m.type, 'chat.complete');
    assert.equal(args, '{"location":"Paris"}');
    const call = m.completion.choices[0].message.tool_calls[0];
    assert.equal(call.function.name, 'get_weather');
    assert.equal(call.function.arguments, '{"location":"Paris"}');
    assert.match(call.id, /^call_mock_/);
    assert.equal(m.completion.choices[0].finish_reason, 'tool_calls');
    ws.close();
  });

  test('an admin key sees the serving provider in chat.complete', async () => {
    const ws = await authed(gw, gw.adminKey);
    ws.ask(chat('a1', 'who'));
    const done = await ws.next((x) => x.type === 'chat.complete');
    assert.ok(['first', 'second'].includes(done.providerId));
    ws.close();
  });

  test('two streams on one socket run at once, each answered under its own id', async () => {
    const ws = await authed(gw);
    ws.ask(chat('x', 'first stream text', { stream: true }));
    ws.ask(chat('y', 'second stream text', { stream: true }));
    const text = { x: '', y: '' };
    const done = {};
    while (!done.x || !done.y) {
      const m = await ws.next();
      if (m.type === 'chat.delta') text[m.requestId] += m.delta.content;
      if (m.type === 'chat.complete') done[m.requestId] = m;
    }
    assert.equal(text.x, 'Mock reply to: first stream text');
    assert.equal(text.y, 'Mock reply to: second stream text');
    assert.equal(done.x.response, text.x);
    ws.close();
  });

  test('chat.cancel stops that request and its upstream call', async () => {
    const ws = await authed(gw);
    ws.ask({ ...chat('slow', 'cancel me', { stream: true }), model: 'slow-model' });
    await ws.next((m) => m.type === 'chat.delta' && m.requestId === 'slow');
    ws.ask({ type: 'chat.cancel', requestId: 'slow' });
    assert.deepEqual(await ws.next((m) => m.requestId === 'slow' && !['chat.delta', 'chat.start'].includes(m.type)), { type: 'chat.cancelled', requestId: 'slow' });
    ws.inbox.length = 0;
    ws.ask({ type: 'ping' });
    assert.deepEqual(await ws.next(), { type: 'pong' }, 'the socket stays usable');
    // The upstream call ended at once (its 20 chunks x 200 ms would still be coming).
    await waitFor(() => establishedTo(slow.port, gw.proc.pid) === 0, { timeoutMs: 1000 });
    await sleep(500);
    assert.ok(!ws.inbox.some((m) => m.requestId === 'slow'), 'nothing more of the cancelled request');
    ws.close();
  });

  test('errors have stable codes and never close the socket', async () => {
    const ws = await connect(gw);
    ws.ask(chat('n1', 'hi'));
    assert.deepEqual(await ws.next(), { type: 'error', code: 'auth_required', message: 'Send {"type":"auth","apiKey":...} first', requestId: 'n1' });
    ws.ask({ type: 'auth', apiKey: 'nope' });
    assert.equal((await ws.next()).code, 'auth');
    ws.send('{not json');
    assert.equal((await ws.next()).code, 'bad_json');
    ws.ask({ type: 'auth', apiKey: KEY });
    await ws.next((m) => m.type === 'auth.ok');
    ws.ask({ type: 'dance' });
    assert.equal((await ws.next()).code, 'unknown_type');
    ws.ask({ type: 'chat.completions', requestId: 'b1', model: 'mock-gpt-4' });
    assert.deepEqual(await ws.next(), { type: 'error', code: 'bad_request', message: 'chat.completions needs "messages" (a non-empty array)', requestId: 'b1' });
    ws.ask({ ...chat('m1', 'hi'), model: 'no-such-model' });
    await ws.next((m) => m.type === 'chat.start');
    const nf = await ws.next();
    assert.equal(nf.code, 'model_not_found');
    assert.equal(nf.requestId, 'm1');
    ws.ask({ ...chat('t1', 'hi'), temperature: 'hot' });
    await ws.next((m) => m.type === 'chat.start');
    assert.equal((await ws.next()).code, 'bad_request');
    ws.ask({ type: 'chat.cancel', requestId: 'nothing' });
    assert.equal((await ws.next()).code, 'bad_request');
    ws.ask({ type: 'ping' });
    assert.deepEqual(await ws.next(), { type: 'pong' });
    ws.close();
  });

  test('quota_exhausted and the one rate budget shared with HTTP', async () => {
    const broke = await authed(gw, BROKE);
    broke.ask(chat('q', 'hi'));
    await broke.next((m) => m.type === 'chat.start');
    assert.equal((await broke.next()).code, 'quota_exhausted');
    broke.close();

    // rps 1: one HTTP request uses the second; a WebSocket request in the same second is refused.
    const ws = await authed(gw, LIMITED);
    await sleep(1100);
    const r = await postChat(gw, { model: 'mock-gpt-4', messages: [{ role: 'user', content: 'http' }] }, LIMITED);
    assert.equal(r.status, 200);
    ws.ask(chat('l1', 'ws'));
    await ws.next((m) => m.type === 'chat.start');
    const limited = await ws.next();
    assert.equal(limited.code, 'rate_limited', JSON.stringify(limited));
    assert.ok(limited.retryAfterMs >= 1000);
    // Another socket of the same key gains nothing.
    const other = await authed(gw, LIMITED);
    other.ask(chat('l2', 'ws'));
    await other.next((m) => m.type === 'chat.start');
    assert.equal((await other.next()).code, 'rate_limited');
    ws.close();
    other.close();
  });

  test('a failing provider fails over like HTTP', async () => {
    await fetch(`${mock.url}/mock/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fault: 'status', status: 503, model: 'flaky', count: 100 }) });
    const ws = await authed(gw);
    ws.ask({ ...chat('f1', 'fail over', { stream: true }), model: 'flaky' });
    const done = await ws.next((m) => m.type === 'chat.complete' || m.type === 'error');
    assert.equal(done.type, 'chat.complete', JSON.stringify(done));
    assert.equal(done.response, 'Mock reply to: fail over');
    ws.close();
  });

  test('usage is pushed after each request when asked', async () => {
    const ws = await authed(gw, KEY, { pushUsage: true });
    ws.ask(chat('u1', 'count me'));
    await ws.next((m) => m.type === 'chat.complete');
    const u = await ws.next((m) => m.type === 'usage');
    assert.equal(u.type, 'usage');
    assert.equal(u.requestId, 'u1');
    assert.ok(u.tokenUsage > 0 && u.requestCount > 0);
    ws.close();
  });

  test('in-flight cap per socket, duplicate ids refused', async () => {
    const ws = await authed(gw);
    for (let i = 0; i < 4; i++) ws.ask({ ...chat(`c${i}`, 'slow one', { stream: true }), model: 'slow-model' });
    ws.ask(chat('c0', 'again'));
    ws.ask(chat('c9', 'one too many'));
    const dup = await ws.next((m) => m.type === 'error' && m.requestId === 'c0');
    assert.equal(dup.code, 'bad_request');
    const over = await ws.next((m) => m.type === 'error' && m.requestId === 'c9');
    assert.equal(over.code, 'too_many_in_flight');
    ws.close();
  });

  test('a message over WS_MAX_MESSAGE_BYTES closes with 1009; a plain GET /ws is 426', async () => {
    const ws = await authed(gw);
    ws.send(JSON.stringify(chat('big', 'x'.repeat(70000))));
    const { code } = await ws.closed;
    assert.equal(code, 1009);
    const r = await fetch(`${gw.url}/ws`);
    assert.equal(r.status, 426);
    assert.equal((await r.json()).error.code, 'upgrade_required');
  });
});

describe('/ws lifetime', () => {
  let mock, gw;
  before(async () => {
    mock = await startMock({ MOCK_STREAM_CHUNKS: '10', MOCK_CHUNK_INTERVAL: '100' });
    gw = await startGateway({
      files: {
        tiers: { open: openTier() }, excluded: { patterns: [] },
        keys: userKeys({ [KEY]: { userId: 'u', tier: 'open' } }),
        providers: [mockProvider(mock, 'only', ['mock-gpt-4'])],
      },
      env: { WS_IDLE_TIMEOUT_MS: '800', WS_PING_INTERVAL_MS: '300' },
    });
  });
  after(async () => { await gw?.cleanup(); await mock?.stop(); });

  test('the server pings; a client that answers stays; one that does not is closed 4000', async () => {
    const alive = await authed(gw);  // ws answers pings by itself
    let pings = 0;
    alive.on('ping', () => { pings++; });
    const silent = await connect(gw, '/ws', { autoPong: false });
    const { code, reason } = await silent.closed;
    assert.equal(code, 4000);
    assert.equal(reason, 'idle timeout');
    assert.ok(pings >= 1, 'the server pinged');
    assert.equal(alive.readyState, WebSocket.OPEN);
    alive.close();
  });

  test('SIGTERM: a socket with a stream running gets its answer, then 1012', async () => {
    const ws = await authed(gw);
    ws.ask(chat('d1', 'drain me', { stream: true }));
    await ws.next((m) => m.type === 'chat.delta');
    const stopped = gw.stop('SIGTERM', 10000);
    const done = await ws.next((m) => m.type === 'chat.complete');
    assert.equal(done.response, 'Mock reply to: drain me');
    const { code } = await ws.closed;
    assert.equal(code, 1012);
    assert.equal((await stopped).code, 0, 'the gateway exits cleanly once the socket is closed');
  });
});

describe('/ws backpressure', () => {
  let mock, gw;
  before(async () => {
    mock = await startMock();
    gw = await startGateway({
      files: {
        tiers: { open: openTier() }, excluded: { patterns: [] },
        keys: userKeys({ [KEY]: { userId: 'u', tier: 'open' } }),
        providers: [mockProvider(mock, 'only', ['mock-gpt-4'])],
      },
      // (Under ASan, a small quarantine: freed memory would otherwise count as growth.)
      env: { CLIENT_WRITE_TIMEOUT_MS: '1000', WS_SEND_BUFFER_BYTES: '4096', ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ''}:quarantine_size_mb=1:thread_local_quarantine_size_kb=64` },
    });
  });
  after(async () => { await gw?.cleanup(); await mock?.stop(); });

  test('a client that never reads stalls only itself, with bounded memory, and is cut by the write deadline', async () => {
    const connections = async () => Number((await (await fetch(`${gw.url}/metrics`)).text()).match(/^anygpt_client_connections (\d+)$/m)[1]);
    const rss = () => Number(readFileSync(`/proc/${gw.proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
    const ws = await authed(gw);
    ws._socket.pause();  // reads nothing from now on
    const rssBefore = rss();
    const ping = JSON.stringify({ type: 'ping' });
    for (let i = 0; i < 300000; i++) ws.send(ping);  // ~5 MB of pongs it will never read
    // Meanwhile another client is served as usual.
    const other = await authed(gw);
    other.ask({ type: 'ping' });
    assert.deepEqual(await other.next(), { type: 'pong' });
    const r = await postChat(gw, { model: 'mock-gpt-4', messages: [{ role: 'user', content: 'x' }] }, KEY);
    assert.equal(r.status, 200);
    await waitFor(async () => (await connections()) <= 2, { timeoutMs: 8000 });  // the stuck socket is gone
    const grown = rss() - rssBefore;
    console.log(`# gateway RSS grew by ${grown} KiB while a client refused to read`);
    assert.ok(grown < 16 * 1024, `bounded memory (grew ${grown} KiB)`);
    other.close();
    ws.terminate();
  });
});
