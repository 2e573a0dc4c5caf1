// The client protocols' own edges over raw HTTP (the SDK-driven scenarios are in
// protocols.matrix.test.mjs): where each takes its key, its error shapes and statuses, its paths
// and the original's doubled aliases, model-name resolution, model lists, token counts,
// embeddings, mid-stream failures, one budget for every route, and the route switches.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startGateway, mockProvider, userKeys, newKey, openTier } from './lib/harness.mjs';

const USER = newKey();
const LIMITED = newKey();
const SHARED = newKey();
let mock, gw;

const post = (path, body, headers = {}) => fetch(gw.url + path, {
  method: 'POST', headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const bearer = (key = USER) => ({ authorization: `Bearer ${key}` });
const lastUpstream = async () => (await mock.requests()).requests.at(-1);

const anthropicBody = (extra = {}) => ({ model: 'mock-gpt-4', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }], ...extra });
const geminiBody = { contents: [{ role: 'user', parts: [{ text: 'hello' }] }] };
const chatBody = (extra = {}) => ({ model: 'mock-gpt-4', messages: [{ role: 'user', content: 'hello' }], ...extra });
const ollamaBody = (extra = {}) => ({ model: 'mock-gpt-4', messages: [{ role: 'user', content: 'hello' }], stream: false, ...extra });

// One request per protocol, sent with `headers`.
const perProtocol = {
  anthropic: (h, b = anthropicBody()) => post('/v3/v1/messages', b, h),
  gemini: (h, b = geminiBody, q = '') => post(`/v2/v1beta/models/mock-gpt-4:generateContent${q}`, b, h),
  groq: (h, b = chatBody()) => post('/v4/openai/v1/chat/completions', b, h),
  ollama: (h, b = ollamaBody()) => post('/v5/api/chat', b, h),
  openrouter: (h, b = chatBody()) => post('/v6/chat/completions', b, h),
};

// Asserts the protocol's error shape and status; returns the parsed body.
async function expectShape(protocol, res, status) {
  const text = await res.text();
  assert.equal(res.status, status, `${protocol}: ${text}`);
  const b = JSON.parse(text);
  switch (protocol) {
    case 'anthropic':
      assert.equal(b.type, 'error', text);
      assert.equal(typeof b.error.type, 'string', text);
      assert.ok(b.error.message, text);
      break;
    case 'gemini':
      assert.equal(b.error.code, status, text);
      assert.match(b.error.status, /^[A-Z_]+$/, text);
      assert.ok(b.error.message, text);
      break;
    case 'groq':
      assert.ok(b.error.message && 'type' in b.error && 'code' in b.error, text);
      break;
    case 'ollama':
      assert.equal(typeof b.error, 'string', text);
      assert.ok(b.error, text);
      break;
    case 'openrouter':
      assert.equal(b.error.code, status, text);
      assert.ok(b.error.message, text);
      break;
  }
  assert.ok(res.headers.get('x-request-id'), `${protocol}: x-request-id on errors`);
  return b;
}

before(async () => {
  mock = await startMock();
  gw = await startGateway({
    files: {
      tiers: { open: openTier(), one: openTier({ rpm: 1 }), enterprise: openTier() },
      keys: userKeys({
        [USER]: { userId: 'proto-user', tier: 'open' },
        [LIMITED]: { userId: 'proto-limited', tier: 'one' },
        [SHARED]: { userId: 'proto-shared', tier: 'open' },
      }),
      providers: [mockProvider(mock, 'mock-a', ['mock-gpt-4', 'mock-embed'])],
    },
  });
});
after(async () => { await gw?.cleanup(); await mock?.stop(); });
beforeEach(async () => { await mock.control('/mock/faults', 'DELETE'); await mock.control('/mock/requests', 'DELETE'); });

describe('keys: where each protocol takes them', () => {
  test('anthropic: x-api-key and Bearer', async () => {
    for (const h of [{ 'x-api-key': USER }, bearer()]) assert.equal((await perProtocol.anthropic(h)).status, 200);
  });
  test('gemini: x-goog-api-key, ?key= and Bearer; the query key never reaches logs or the upstream', async () => {
    assert.equal((await perProtocol.gemini({ 'x-goog-api-key': USER })).status, 200);
    assert.equal((await perProtocol.gemini({}, geminiBody, `?key=${USER}`)).status, 200);
    assert.equal((await perProtocol.gemini(bearer())).status, 200);
    const seen = await lastUpstream();
    assert.equal(seen.headers.authorization, 'Bearer provider-secret-mock-a');
    assert.ok(!seen.path.includes(USER));
  });
  test('groq, ollama and openrouter: Bearer', async () => {
    for (const p of ['groq', 'ollama', 'openrouter']) assert.equal((await perProtocol[p](bearer())).status, 200, p);
  });
  test('missing and unknown keys: 401 in each protocol\'s shape, the key never echoed', async () => {
    for (const [p, send] of Object.entries(perProtocol)) {
      await expectShape(p, await send({}), 401);
      const bogus = 'sk-bogus-value-0123456789';
      const res = await send({ authorization: `Bearer ${bogus}` });
      const text = await res.clone().text();
      assert.ok(!text.includes(bogus), p);
      await expectShape(p, res, 401);
    }
    const a = await (await perProtocol.anthropic({})).json();
    assert.equal(a.error.type, 'authentication_error');
    const g = await (await perProtocol.gemini({})).json();
    assert.equal(g.error.status, 'UNAUTHENTICATED');
  });
});

describe('errors: the right status in the caller\'s shape', () => {
  test('malformed JSON is 400 everywhere, never 500', async () => {
    for (const [p, send] of Object.entries(perProtocol)) await expectShape(p, await send(bearer(), '{"model":'), 400);
  });
  test('a field the protocol requires is named: anthropic max_tokens, gemini contents', async () => {
    const a = await expectShape('anthropic', await perProtocol.anthropic(bearer(), { model: 'mock-gpt-4', messages: [{ role: 'user', content: 'x' }] }), 400);
    assert.equal(a.error.type, 'invalid_request_error');
    assert.match(a.error.message, /max_tokens/);
    const g = await expectShape('gemini', await perProtocol.gemini(bearer(), { contents: [] }), 400);
    assert.equal(g.error.status, 'INVALID_ARGUMENT');
    assert.match(g.error.message, /contents/);
  });
  test('unknown model is 404 in each shape', async () => {
    await expectShape('anthropic', await perProtocol.anthropic(bearer(), anthropicBody({ model: 'nope' })), 404);
    await expectShape('gemini', await post('/v2/v1beta/models/nope:generateContent', geminiBody, bearer()), 404);
    await expectShape('groq', await perProtocol.groq(bearer(), chatBody({ model: 'nope' })), 404);
    await expectShape('ollama', await perProtocol.ollama(bearer(), ollamaBody({ model: 'nope' })), 404);
    await expectShape('openrouter', await perProtocol.openrouter(bearer(), chatBody({ model: 'vendor/nope' })), 404);
  });
  test('an unknown path under a prefix is 404 in that prefix\'s shape', async () => {
    const a = await expectShape('anthropic', await post('/v3/v1/nothing', {}, bearer()), 404);
    assert.equal(a.error.type, 'not_found_error');
    const g = await expectShape('gemini', await post('/v2/v1beta/nothing', {}, bearer()), 404);
    assert.equal(g.error.status, 'NOT_FOUND');
    await expectShape('ollama', await post('/v5/api/nothing', {}, bearer()), 404);
  });
  test('rate limited: 429 with Retry-After in each shape, one budget for every route', async () => {
    const routes = Object.entries(perProtocol);
    const first = await routes[0][1](bearer(LIMITED));
    assert.equal(first.status, 200);
    await first.arrayBuffer();
    for (const [p, send] of routes) {
      const res = await send(bearer(LIMITED));
      assert.ok(Number(res.headers.get('retry-after')) >= 1, p);
      const b = await expectShape(p, res, 429);
      if (p === 'anthropic') assert.equal(b.error.type, 'rate_limit_error');
      if (p === 'gemini') assert.equal(b.error.status, 'RESOURCE_EXHAUSTED');
    }
    const v1 = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { ...bearer(LIMITED), 'content-type': 'application/json' }, body: JSON.stringify(chatBody()) });
    assert.equal(v1.status, 429, '/v1 shares the budget');
  });
  test('a provider\'s 400 reaches the client as an invalid-request error in its shape, with the provider\'s reason', async () => {
    for (const [p, send] of Object.entries(perProtocol)) {
      await mock.fault({ fault: 'status', status: 400, count: 1, message: 'bad temperature value', code: 'invalid_value' });
      const b = await expectShape(p, await send(bearer()), 400);
      const text = JSON.stringify(b);
      assert.match(text, /bad temperature value/, p);
      assert.ok(!text.includes('provider-secret'), p);
    }
  });
  test('every provider failing: 5xx in each shape, never the provider key', async () => {
    for (const [p, send] of Object.entries(perProtocol)) {
      await mock.fault({ fault: 'status', status: 500, count: 2 });
      const res = await send(bearer());
      assert.ok(res.status >= 500 && res.status < 600, `${p}: ${res.status}`);
      const b = await expectShape(p, res, res.status);
      assert.ok(!JSON.stringify(b).includes('provider-secret'), p);
      await mock.control('/mock/faults', 'DELETE');
    }
  });
});

describe('paths, aliases and model names', () => {
  test('the original\'s doubled paths are aliases', async () => {
    assert.equal((await post('/v3/v3/messages', anthropicBody(), bearer())).status, 200);
    assert.equal((await post('/v4/v4/chat/completions', chatBody(), bearer())).status, 200);
    assert.equal((await post('/v5/v5/api/chat', ollamaBody(), bearer())).status, 200);
    assert.equal((await post('/v6/v6/chat/completions', chatBody(), bearer())).status, 200);
    assert.equal((await post('/v3/messages', anthropicBody(), bearer())).status, 200);
    assert.equal((await post('/v2/v1/models/mock-gpt-4:generateContent', geminiBody, bearer())).status, 200);
    assert.equal((await post('/v2/models/mock-gpt-4:generateContent', geminiBody, bearer())).status, 200);
  });
  test('openrouter: a vendor-prefixed id resolves to the catalogue model, sent upstream by its own name', async () => {
    const res = await perProtocol.openrouter(bearer(), chatBody({ model: 'openai/mock-gpt-4' }));
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.object, 'chat.completion');
    assert.ok('system_fingerprint' in body);
    assert.equal((await lastUpstream()).bodyJson.model, 'mock-gpt-4');
  });
  test('ollama: name:latest is accepted; no "stream" field means an NDJSON stream', async () => {
    const res = await post('/v5/api/chat', { model: 'mock-gpt-4:latest', messages: [{ role: 'user', content: 'hello' }] }, bearer());
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /application\/x-ndjson/);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.length >= 2);
    const last = lines.at(-1);
    assert.equal(last.done, true);
    assert.equal(last.done_reason, 'stop');
    assert.ok(last.eval_count > 0 && last.prompt_eval_count > 0);
    assert.ok(lines.slice(0, -1).every((l) => l.done === false));
    assert.equal((await lastUpstream()).bodyJson.model, 'mock-gpt-4');
  });
  test('streaming follows the body (or Gemini\'s path), never Accept', async () => {
    const a = await post('/v3/v1/messages', anthropicBody({ stream: true }), { ...bearer(), accept: 'application/json' });
    assert.match(a.headers.get('content-type'), /text\/event-stream/);
    await a.arrayBuffer();
    const g = await post('/v2/v1beta/models/mock-gpt-4:generateContent', geminiBody, { ...bearer(), accept: 'text/event-stream' });
    assert.match(g.headers.get('content-type'), /application\/json/);
    await g.arrayBuffer();
  });
});

describe('model lists, token counts and embeddings', () => {
  test('each protocol lists the catalogue in its own shape', async () => {
    const a = await (await fetch(`${gw.url}/v3/v1/models`)).json();
    assert.ok(a.data.some((m) => m.id === 'mock-gpt-4' && m.type === 'model'));
    const g = await (await fetch(`${gw.url}/v2/v1beta/models`)).json();
    assert.ok(g.models.some((m) => m.name === 'models/mock-gpt-4'));
    const one = await (await fetch(`${gw.url}/v2/v1beta/models/mock-gpt-4`)).json();
    assert.equal(one.name, 'models/mock-gpt-4');
    const q = await (await fetch(`${gw.url}/v4/openai/v1/models`)).json();
    assert.ok(q.data.some((m) => m.id === 'mock-gpt-4'));
    const o = await (await fetch(`${gw.url}/v5/api/tags`)).json();
    assert.ok(o.models.some((m) => m.name === 'mock-gpt-4' && m.model === 'mock-gpt-4'));
    const r = await (await fetch(`${gw.url}/v6/models`)).json();
    assert.ok(r.data.some((m) => m.id === 'mock-gpt-4'));
    const v = await (await fetch(`${gw.url}/v5/api/version`)).json();
    assert.match(v.version, /^\d+\.\d+\.\d+$/);
    const show = await post('/v5/api/show', { model: 'mock-gpt-4' }, bearer());
    assert.equal(show.status, 200);
    await show.arrayBuffer();
    await expectShape('ollama', await post('/v5/api/show', { model: 'nope' }, bearer()), 404);
  });
  test('token counts are estimates that grow with the prompt, without an upstream call', async () => {
    const count = async (text) => (await (await post('/v3/v1/messages/count_tokens', { model: 'mock-gpt-4', messages: [{ role: 'user', content: text }] }, bearer())).json()).input_tokens;
    const small = await count('hi');
    const big = await count('hi '.repeat(400));
    assert.ok(small > 0 && big > small + 200, `${small} ${big}`);
    const g = await (await post('/v2/v1beta/models/mock-gpt-4:countTokens', { contents: [{ parts: [{ text: 'hello world '.repeat(50) }] }] }, bearer())).json();
    assert.ok(g.totalTokens > 100, JSON.stringify(g));
    assert.equal((await mock.requests()).total, 0);
  });
  test('gemini and ollama embeddings go to the provider\'s /embeddings', async () => {
    const one = await (await post('/v2/v1beta/models/mock-embed:embedContent', { content: { parts: [{ text: 'abc' }] } }, bearer())).json();
    assert.ok(Array.isArray(one.embedding.values) && one.embedding.values.length > 0, JSON.stringify(one));
    const seen = await lastUpstream();
    assert.equal(seen.path, '/v1/embeddings');
    assert.equal(seen.bodyJson.input, 'abc');
    const batch = await (await post('/v2/v1beta/models/mock-embed:batchEmbedContents', { requests: [{ model: 'models/mock-embed', content: { parts: [{ text: 'a' }] } }, { model: 'models/mock-embed', content: { parts: [{ text: 'b' }] } }] }, bearer())).json();
    assert.equal(batch.embeddings.length, 2);
    const o = await (await post('/v5/api/embed', { model: 'mock-embed', input: ['x', 'y', 'z'] }, bearer())).json();
    assert.equal(o.embeddings.length, 3);
    assert.equal(o.model, 'mock-embed');
    const legacy = await (await post('/v5/api/embeddings', { model: 'mock-embed', prompt: 'x' }, bearer())).json();
    assert.deepEqual(legacy.embedding, o.embeddings[0]);
  });
});

describe('streams that break and budgets that are shared', () => {
  const cut = () => mock.fault({ fault: 'stream_cut', afterChunks: 3, count: 1 });
  test('anthropic: a cut stream ends with an error event, never message_stop', async () => {
    await cut();
    const text = await (await post('/v3/v1/messages', anthropicBody({ stream: true }), bearer())).text();
    assert.match(text, /event: message_start/);
    assert.match(text, /event: error\ndata: \{"type":"error"/);
    assert.doesNotMatch(text, /message_stop/);
  });
  test('gemini: a cut stream ends with an error event and no finishReason', async () => {
    await cut();
    const text = await (await post('/v2/v1beta/models/mock-gpt-4:streamGenerateContent?alt=sse', geminiBody, bearer())).text();
    const events = text.split(/\r?\n\r?\n/).filter((e) => e.trim()).map((e) => JSON.parse(e.replace(/^data: /, '')));
    assert.ok(events.at(-1).error, text);
    assert.ok(!events.some((e) => e.candidates?.[0]?.finishReason), text);
    assert.doesNotMatch(text, /\[DONE\]/);
  });
  test('ollama: a cut stream ends with an error line, never done:true', async () => {
    await cut();
    const text = await (await post('/v5/api/chat', ollamaBody({ stream: true }), bearer())).text();
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(typeof lines.at(-1).error, 'string');
    assert.ok(!lines.some((l) => l.done === true));
  });
  test('usage through every protocol lands on the same key counters, as the upstream counted it', async () => {
    // Every protocol's request above is one user turn "hello": the mock's own count for it, asked directly.
    const direct = await (await fetch(`${mock.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(chatBody()) })).json();
    const me = async () => (await (await fetch(`${gw.url}/v1/keys/me`, { headers: bearer(SHARED) })).json()).usage;
    const before = await me();
    for (const [p, send] of Object.entries(perProtocol)) {
      const res = await send(bearer(SHARED));
      assert.equal(res.status, 200, p);
      await res.arrayBuffer();
    }
    const after = await me();
    assert.equal(after.request_count - before.request_count, 5);
    assert.equal(after.token_usage - before.token_usage, 5 * direct.usage.total_tokens);
  });
});

describe('route switches', () => {
  test('ENABLE_*_ROUTES=false removes a family (its paths 404)', async () => {
    const off = await startGateway({ env: { ENABLE_ANTHROPIC_ROUTES: 'false', ENABLE_OLLAMA_ROUTES: '0' } });
    try {
      assert.equal((await fetch(`${off.url}/v3/v1/messages`, { method: 'POST', body: '{}' })).status, 404);
      assert.equal((await fetch(`${off.url}/v5/api/chat`, { method: 'POST', body: '{}' })).status, 404);
      assert.equal((await fetch(`${off.url}/v4/openai/v1/chat/completions`, { method: 'POST', body: '{}' })).status, 401);
      const doc = await (await fetch(`${off.url}/openapi.json`)).json();
      assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/v3/')));
      assert.ok(Object.keys(doc.paths).includes('/v2/v1beta/models/{model}:generateContent'));
    } finally {
      await off.cleanup();
    }
  });
});
