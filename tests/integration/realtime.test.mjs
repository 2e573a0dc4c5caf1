// GET /v1/realtime (issue 11): the OpenAI Realtime relay with the `ws` client (the headers the
// official SDK's Node client sends): the four ways of giving the key, the provider's key upstream
// and never the client's, frames byte-identical both ways, response.create counted against the
// key's budget, usage billed from response.done, refusals as Realtime error events, failover
// while the upstream has not opened, close propagation, metrics.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { startMock, startGateway, mockProvider, userKeys, newKey, openTier, tokensUsed, waitFor, sleep } from './lib/harness.mjs';

const KEY = newKey();
const LIMITED = newKey();
const BROKE = newKey();

function open(gw, { query = 'model=gpt-realtime', headers = {}, protocols } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/v1/realtime?${query}`, protocols, { headers });
  ws.inbox = [];
  ws.on('message', (data, isBinary) => ws.inbox.push(isBinary ? { binary: Buffer.from(data) } : { text: data.toString() }));
  ws.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.opened = new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.next = async (pred = () => true, timeoutMs = 5000) => {
    await waitFor(() => ws.inbox.some(pred), { timeoutMs });
    return ws.inbox.splice(ws.inbox.findIndex(pred), 1)[0];
  };
  ws.event = async (type) => JSON.parse((await ws.next((m) => m.text && JSON.parse(m.text).type === type)).text);
  return ws;
}

const upgrades = async (mock) => (await mock.requests()).requests.filter((r) => r.path.startsWith('/v1/realtime'));

describe('/v1/realtime', () => {
  let mockA, mockB, gw;
  before(async () => {
    [mockA, mockB] = await Promise.all([startMock(), startMock()]);
    gw = await startGateway({
      files: {
        tiers: { open: openTier(), limited: openTier({ rps: 100, rpm: 2 }), broke: openTier({ max_tokens: 10 }) },
        excluded: { patterns: [] },
        keys: userKeys({
          [KEY]: { userId: 'u', tier: 'open' }, [LIMITED]: { userId: 'l', tier: 'limited' },
          [BROKE]: { userId: 'b', tier: 'broke', tokenUsage: 50 },
        }),
        providers: [mockProvider(mockA, 'first', ['gpt-realtime', 'rt-failover']), mockProvider(mockB, 'second', ['rt-failover'])],
      },
      env: { ROUTING_SPREAD_POINTS: '0' },
    });
  });
  after(async () => { await gw?.cleanup(); await mockA?.stop(); await mockB?.stop(); });

  test('the key by Bearer, api-key, ?api-key=, ?apikey= or the browser subprotocol; the provider key goes upstream', async () => {
    const ways = [
      { headers: { authorization: `Bearer ${KEY}` } },
      { headers: { 'api-key': KEY } },
      { query: `model=gpt-realtime&api-key=${KEY}` },
      { query: `model=gpt-realtime&apikey=${KEY}` },
      { protocols: ['realtime', `openai-insecure-api-key.${KEY}`, 'openai-beta.realtime-v1'] },
    ];
    for (const way of ways) {
      const before = (await upgrades(mockA)).length;
      const ws = open(gw, way);
      await ws.opened;
      const created = await ws.next();
      assert.match(created.text, /^\{"type":"session.created","event_id":"evt_mock_\d+_0","session":\{"id":"sess_mock_\d+","object":"realtime.session","model":"gpt-realtime"\}\}$/,
        'the upstream\'s first frame, byte for byte');
      if (way.protocols) assert.equal(ws.protocol, 'realtime');
      const up = (await upgrades(mockA)).slice(before);
      assert.equal(up.length, 1);
      assert.equal(up[0].path, '/v1/realtime?model=gpt-realtime');
      const h = JSON.parse(up[0].headers_json ?? 'null') ?? up[0].headers;
      assert.equal(h.authorization, 'Bearer provider-secret-first');
      assert.equal(h['openai-beta'], 'realtime=v1');
      assert.ok(!JSON.stringify(up[0]).includes(KEY), 'the client key never goes upstream');
      ws.close();
      await ws.closed;
    }
  });

  test('frames are relayed unchanged both ways, text and binary', async () => {
    const ws = open(gw, { headers: { authorization: `Bearer ${KEY}` } });
    await ws.opened;
    await ws.event('session.created');
    const odd = '{"type" : "input_audio_buffer.append",   "audio":"AAAA\\u00e9" }';
    ws.send(odd);
    const echo = await ws.event('mock.echo');
    assert.equal(echo.received, odd, 'the upstream got the client\'s exact text');
    const bytes = randomBytes(3000);
    ws.send(bytes);
    const back = await ws.next((m) => m.binary);
    assert.ok(back.binary.equals(bytes), 'binary frames pass untouched both ways');
    ws.close();
  });

  test('response.create: the events relayed in order, the usage of response.done billed', async () => {
    const before = await tokensUsed(gw, KEY);
    const ws = open(gw, { headers: { authorization: `Bearer ${KEY}` } });
    await ws.opened;
    await ws.event('session.created');
    ws.send(JSON.stringify({ type: 'response.create' }));
    const types = [];
    let text = '';
    for (;;) {
      const m = JSON.parse((await ws.next()).text);
      types.push(m.type);
      if (m.type === 'response.output_text.delta') text += m.delta;
      if (m.type === 'response.done') break;
    }
    assert.deepEqual(types, ['response.created', 'response.output_text.delta', 'response.output_text.delta', 'response.output_text.delta', 'response.done']);
    assert.equal(text, 'Mock realtime reply');
    await waitFor(async () => (await tokensUsed(gw, KEY)) === before + 17);
    ws.close();
  });

  test('refusals are Realtime error events, then a close; nothing goes upstream', async () => {
    const before = (await upgrades(mockA)).length + (await upgrades(mockB)).length;
    const cases = [
      [{ headers: { authorization: 'Bearer nope' } }, 'invalid_api_key'],
      [{ query: 'model=gpt-realtime' }, 'missing_api_key'],
      [{ query: '', headers: { authorization: `Bearer ${KEY}` } }, 'missing_model'],
      [{ query: 'model=no-such', headers: { authorization: `Bearer ${KEY}` } }, 'model_not_found'],
      [{ headers: { authorization: `Bearer ${BROKE}` } }, 'insufficient_quota'],
    ];
    for (const [way, code] of cases) {
      const ws = open(gw, way);
      await ws.opened;
      const e = JSON.parse((await ws.next()).text);
      assert.equal(e.type, 'error');
      assert.equal(e.error.code, code);
      assert.ok(!e.error.message.includes(KEY));
      assert.equal((await ws.closed).code, 1008);
    }
    assert.equal((await upgrades(mockA)).length + (await upgrades(mockB)).length, before);
  });

  test('the session is one request and each response.create one more, on the key\'s one budget', async () => {
    const ws = open(gw, { headers: { authorization: `Bearer ${LIMITED}` } });  // rpm 2: this is the first
    await ws.opened;
    await ws.event('session.created');
    ws.send(JSON.stringify({ type: 'response.create' }));  // the second
    await ws.event('response.done');
    ws.inbox.length = 0;
    ws.send(JSON.stringify({ type: 'response.create' }));  // the third: refused, not forwarded
    const e = await ws.event('error');
    assert.equal(e.error.type, 'rate_limit_exceeded');
    await sleep(300);
    assert.ok(!ws.inbox.some((m) => m.text?.includes('response.created')), 'the refused response.create never reached the provider');
    ws.close();
    // And the HTTP routes of the key see the same budget.
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${LIMITED}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-realtime', messages: [{ role: 'user', content: 'x' }] }) });
    assert.equal(r.status, 429);
  });

  test('an upstream that refuses the upgrade is failed over before the session opens', async () => {
    await fetch(`${mockA.url}/mock/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fault: 'status', status: 503, model: 'rt-failover', count: 1000 }) });
    const beforeB = (await upgrades(mockB)).length;
    const ws = open(gw, { query: 'model=rt-failover', headers: { authorization: `Bearer ${KEY}` } });
    await ws.opened;
    const created = await ws.event('session.created');
    assert.equal(created.session.model, 'rt-failover');
    const up = (await upgrades(mockB)).slice(beforeB);
    assert.equal(up.length, 1, 'the second provider serves it');
    assert.equal(JSON.parse(up[0].headers_json ?? 'null')?.authorization ?? up[0].headers.authorization, 'Bearer provider-secret-second');
    ws.close();
  });

  test('either side closing closes the other; sessions show in metrics', async () => {
    const metric = async (name) => Number((await (await fetch(`${gw.url}/metrics`)).text()).match(new RegExp(`^${name} (\\d+)$`, 'm'))[1]);
    await waitFor(async () => (await metric('anygpt_realtime_sessions')) === 0);  // the earlier tests' sessions
    const total = await metric('anygpt_realtime_sessions_total');
    const ws = open(gw, { headers: { authorization: `Bearer ${KEY}` } });
    await ws.opened;
    await ws.event('session.created');
    assert.equal(await metric('anygpt_realtime_sessions'), 1);
    assert.equal(await metric('anygpt_realtime_sessions_total'), total + 1);
    ws.send(JSON.stringify({ type: 'mock.drop' }));  // the upstream drops the connection
    assert.equal((await ws.closed).code, 1011);
    await waitFor(async () => (await metric('anygpt_realtime_sessions')) === 0);
    const ws2 = open(gw, { headers: { authorization: `Bearer ${KEY}` } });
    await ws2.opened;
    await ws2.event('session.created');
    ws2.close(1000);
    await waitFor(async () => (await metric('anygpt_realtime_sessions')) === 0);
  });

  test('a plain GET is 426', async () => {
    const r = await fetch(`${gw.url}/v1/realtime?model=gpt-realtime`, { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(r.status, 426);
  });
});
