// The gateway's HTTP surface against the real mock provider: auth, errors, forwarding,
// streaming, accounting, keys, OpenAPI.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startMock, startGateway, mockProvider, userKeys, newKey, sseEvents, sleep } from './lib/harness.mjs';

const USER = newKey();
const TINY = newKey();
const SLOW = newKey();
const tiers = {
  enterprise: { rps: 10000, rpm: 500000, rpd: 5000000, max_tokens: null, min_provider_score: 85, max_provider_score: null },
  free: { rps: 20, rpm: 1000, rpd: 10000, max_tokens: 5000000, min_provider_score: 0, max_provider_score: 70 },
  tiny: { rps: 100, rpm: 1000, rpd: 10000, max_tokens: 10, min_provider_score: null, max_provider_score: null },
  // A per-minute window: no slot comes back during the test, however slow the machine is.
  slow: { rps: 0, rpm: 2, rpd: 10000, max_tokens: null, min_provider_score: null, max_provider_score: null },
};

let mock, gw;
const chat = (body, key = USER, headers = {}) => fetch(`${gw.url}/v1/chat/completions`, {
  method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const hello = (extra = {}) => ({ model: 'mock-gpt-4', messages: [{ role: 'user', content: 'hello there' }], ...extra });

async function expectError(res, status, code) {
  assert.equal(res.status, status);
  const body = await res.json();
  assert.ok(body.error, 'OpenAI error shape');
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  assert.ok('type' in body.error && 'param' in body.error && 'code' in body.error);
  if (code) assert.equal(body.error.code, code);
  return body.error;
}

before(async () => {
  mock = await startMock();
  gw = await startGateway({
    files: {
      tiers,
      keys: userKeys({ [USER]: { userId: 'alice' }, [TINY]: { userId: 'tiny', tier: 'tiny' }, [SLOW]: { userId: 'slow', tier: 'slow' } }),
      providers: [mockProvider(mock, 'mock-a', ['mock-gpt-4', 'renamed-model'], {
        models: { 'mock-gpt-4': { id: 'mock-gpt-4' }, 'renamed-model': { id: 'renamed-model', upstream_model: 'mock-gpt-3.5-turbo' } },
      })],
      models: { object: 'list', data: [{ id: 'mock-gpt-4', object: 'model', created: 1767225600000, owned_by: 'mock', providers: 1 }] },
    },
    env: { MAX_BODY_LENGTH: '65536', CORS_ORIGIN: 'https://app.example' },
  });
});
after(async () => { await gw?.cleanup(); await mock?.stop(); });

describe('meta routes', () => {
  test('health and ready answer 200', async () => {
    assert.equal((await fetch(`${gw.url}/health`)).status, 200);
    const r = await fetch(`${gw.url}/ready`);
    assert.equal(r.status, 200);
    assert.equal((await r.json()).status, 'ready');
  });

  test('every response carries x-request-id, the client one when sent', async () => {
    const a = await fetch(`${gw.url}/health`);
    assert.match(a.headers.get('x-request-id'), /^req_[0-9a-f]{11}$/);
    const b = await fetch(`${gw.url}/health`, { headers: { 'x-request-id': 'my-trace-1' } });
    assert.equal(b.headers.get('x-request-id'), 'my-trace-1');
    const c = await fetch(`${gw.url}/nope`, { headers: { 'x-request-id': 'my-trace-2' } });
    assert.equal(c.headers.get('x-request-id'), 'my-trace-2');
  });

  test('models list uses seconds and includes provider models, at every alias', async () => {
    for (const p of ['/v1/models', '/api/v1/models', '/v1/chat/completions/models', '/v1/chat/completion/models']) {
      const r = await fetch(gw.url + p);
      assert.equal(r.status, 200, p);
      const body = await r.json();
      assert.equal(body.object, 'list');
      const m = body.data.find((x) => x.id === 'mock-gpt-4');
      assert.equal(m.created, 1767225600);
      assert.equal(m.object, 'model');
      const providerOnly = body.data.find((x) => x.id === 'renamed-model');
      assert.ok(providerOnly, 'provider-only model listed');
      assert.ok(providerOnly.created > 1700000000 && providerOnly.created < Date.now() / 1000 + 1, 'created in seconds');
    }
  });

  test('unknown route is 404 and wrong method 405 with Allow, both in OpenAI shape', async () => {
    await expectError(await fetch(`${gw.url}/v1/nothing-here`), 404, 'not_found');
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'GET' });
    assert.match(r.headers.get('allow'), /POST/);
    await expectError(r, 405, 'method_not_allowed');
  });

  test('CORS preflight is answered with the configured policy', async () => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.match(r.headers.get('access-control-allow-methods'), /POST/);
    assert.match(r.headers.get('access-control-allow-headers'), /Authorization/i);
    const other = await fetch(`${gw.url}/health`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  test('OpenAPI document lists exactly the routes that exist', async () => {
    const a = await (await fetch(`${gw.url}/openapi.json`)).json();
    const b = await (await fetch(`${gw.url}/api/openapi.json`)).json();
    assert.deepEqual(a, b);
    assert.equal(a.openapi, '3.1.0');
    const documented = [];
    for (const [path, item] of Object.entries(a.paths)) for (const method of Object.keys(item)) documented.push(`${method.toUpperCase()} ${path}`);
    for (const must of ['POST /v1/chat/completions', 'GET /v1/models', 'GET /v1/keys/me', 'POST /v1/generate_key', 'GET /health', 'GET /ready', 'GET /openapi.json',
      'POST /v2/v1beta/models/{model}:generateContent', 'POST /v2/v1beta/models/{model}:streamGenerateContent', 'GET /v2/v1beta/models',
      'POST /v3/v1/messages', 'POST /v3/v1/messages/count_tokens', 'GET /v3/v1/models', 'POST /v4/openai/v1/chat/completions',
      'POST /v5/api/chat', 'POST /v5/api/generate', 'GET /v5/api/tags', 'POST /v6/chat/completions', 'GET /v6/models'])
      assert.ok(documented.includes(must), `${must} documented`);
    // Every documented operation exists (not 404/405); an undocumented method on it is 405.
    for (const op of documented) {
      const [method, template] = op.split(' ');
      const path = template.replace('{model}', 'mock-gpt-4');
      const r = await fetch(gw.url + path, { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
      assert.notEqual(r.status, 404, op);
      assert.notEqual(r.status, 405, op);
      await r.arrayBuffer();
    }
  });
});

describe('auth and client errors', () => {
  test('missing and unknown keys are 401 in OpenAI shape; the key never echoes back', async () => {
    await expectError(await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: '{}' }), 401, 'missing_api_key');
    const bogus = 'sk-bogus-secret-value-123';
    const r = await chat(hello(), bogus);
    const text = await r.text();
    assert.equal(r.status, 401);
    assert.ok(!text.includes(bogus));
  });

  test('x-api-key and api-key headers are accepted', async () => {
    for (const h of ['x-api-key', 'api-key']) {
      const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { [h]: USER, 'content-type': 'application/json' }, body: JSON.stringify(hello()) });
      assert.equal(r.status, 200, h);
      await r.json();
    }
  });

  test('invalid JSON and bad fields are 400 naming the problem, never 500', async () => {
    const e1 = await expectError(await chat('{"model":'), 400, 'invalid_json');
    assert.match(e1.message, /JSON/);
    const e2 = await expectError(await chat({ model: 'mock-gpt-4', messages: [{ role: 'user', content: 5 }] }), 400);
    assert.equal(e2.param, 'messages[0].content');
    const e3 = await expectError(await chat({ messages: [] }), 400);
    assert.equal(e3.param, 'model');
  });

  test('unknown model is 404 model_not_found', async () => {
    const e = await expectError(await chat(hello({ model: 'no-such-model' })), 404, 'model_not_found');
    assert.match(e.message, /no-such-model/);
  });

  test('Expect: 100-continue gets its interim answer before the body is sent (as curl waits for it)', async () => {
    const body = JSON.stringify(hello({ messages: [{ role: 'user', content: 'x'.repeat(2000) }] }));
    const sock = connect(gw.port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => { got += d; });
    await new Promise((r) => sock.on('connect', r));
    sock.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${USER}\r\n` +
               `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`);
    const t0 = Date.now();
    while (!got.includes('100 Continue') && Date.now() - t0 < 2000) await sleep(10);
    assert.match(got, /^HTTP\/1\.1 100 Continue\r\n\r\n/, 'interim 100 sent before the body');
    assert.ok(Date.now() - t0 < 500);
    sock.write(body);
    while (!/HTTP\/1\.1 200/.test(got) && Date.now() - t0 < 3000) await sleep(10);
    sock.destroy();
    assert.match(got, /HTTP\/1\.1 200 OK/);
  });

  test('a body over MAX_BODY_LENGTH is 413', async () => {
    const big = JSON.stringify(hello({ messages: [{ role: 'user', content: 'x'.repeat(70000) }] }));
    await expectError(await chat(big), 413, 'payload_too_large');
  });
});

describe('forwarding to an OpenAI-compatible upstream', () => {
  test('non-stream: the request goes upstream complete, with the provider key, and the answer comes back', async () => {
    await mock.control('/mock/requests', 'DELETE');
    const body = hello({
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }],
      tool_choice: 'none', n: 1, stop: ['\n\n'], seed: 7, logprobs: false, user: 'u-1', max_completion_tokens: 50,
      response_format: { type: 'text' }, temperature: 0.2, some_future_field: { x: 1 },
      messages: [{ role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'hello' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' }],
    });
    const r = await chat(body);
    assert.equal(r.status, 200);
    const out = await r.json();
    assert.equal(out.object, 'chat.completion');
    assert.equal(typeof out.choices[0].message.content, 'string');
    assert.ok(out.usage.total_tokens > 0);
    assert.equal(r.headers.get('x-anygpt-provider'), null, 'provider header only for admins');
    const seen = (await mock.requests()).requests.at(-1);
    assert.equal(seen.headers.authorization, 'Bearer provider-secret-mock-a');
    assert.deepEqual(JSON.parse(seen.body), body);
  });

  test('model names are mapped per provider', async () => {
    await mock.control('/mock/requests', 'DELETE');
    const r = await chat(hello({ model: 'renamed-model' }));
    assert.equal(r.status, 200);
    await r.json();
    const seen = (await mock.requests()).requests.at(-1);
    assert.equal(JSON.parse(seen.body).model, 'mock-gpt-3.5-turbo');
  });

  test('stream: chunks relayed, usage chunk hidden unless asked for, [DONE] last', async () => {
    await mock.control('/mock/requests', 'DELETE');
    const r = await chat(hello({ stream: true }));
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/event-stream/);
    const events = await sseEvents(r);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    assert.ok(chunks.length >= 3);
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.choices.length > 0), 'no usage-only chunk');
    const seen = JSON.parse((await mock.requests()).requests.at(-1).body);
    assert.equal(seen.stream_options.include_usage, true, 'gateway asks upstream for usage');

    const r2 = await chat(hello({ stream: true, stream_options: { include_usage: true } }));
    const ev2 = await sseEvents(r2);
    const last = JSON.parse(ev2.at(-2));
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage.total_tokens > 0);
  });

  test('admins see which provider answered', async () => {
    const r = await chat(hello(), gw.adminKey);
    assert.equal(r.headers.get('x-anygpt-provider'), 'mock-a');
    await r.json();
  });
});

describe('accounting and keys', () => {
  test('usage from the upstream is counted per key and flushed to keys.json', async () => {
    const me0 = await (await fetch(`${gw.url}/v1/keys/me`, { headers: { authorization: `Bearer ${USER}` } })).json();
    const r = await chat(hello());
    const out = await r.json();
    const rs = await chat(hello({ stream: true }));
    await sseEvents(rs);
    const me1 = await (await fetch(`${gw.url}/v1/keys/me`, { headers: { authorization: `Bearer ${USER}` } })).json();
    assert.equal(me1.usage.request_count, me0.usage.request_count + 2);
    assert.ok(me1.usage.token_usage >= me0.usage.token_usage + out.usage.total_tokens + 1);
    assert.equal(me1.user.id, 'alice');
    assert.equal(me1.tier.id, 'enterprise');
    assert.equal(me1.api_key_hash.length, 64);
    assert.ok(!JSON.stringify(me1).includes(USER));
    let persisted;
    for (let i = 0; i < 50; i++) {
      persisted = gw.readJson('keys.json')[USER];
      if (persisted.requestCount === me1.usage.request_count) break;
      await sleep(50);
    }
    assert.equal(persisted.requestCount, me1.usage.request_count);
    assert.equal(persisted.tokenUsage, me1.usage.token_usage);
  });

  test('an exhausted quota is 429 insufficient_quota, and /v1/keys/me still works', async () => {
    const first = await chat(hello(), TINY);
    assert.equal(first.status, 200);
    await first.json();
    await expectError(await chat(hello(), TINY), 429, 'insufficient_quota');
    const me = await fetch(`${gw.url}/v1/keys/me`, { headers: { 'x-api-key': TINY } });
    assert.equal(me.status, 200);
    const body = await me.json();
    assert.equal(body.usage.remaining_tokens, 0);
  });

  test('generate_key: admin only, validated, one key per user, and the new key works', async () => {
    const gen = (body, key) => fetch(`${gw.url}/v1/generate_key`, { method: 'POST', headers: key ? { authorization: `Bearer ${key}` } : {}, body: JSON.stringify(body) });
    await expectError(await gen({ userId: 'bob' }), 401);
    await expectError(await gen({ userId: 'bob' }, USER), 403);
    assert.equal((await expectError(await gen({}, gw.adminKey), 400)).param, 'userId');
    assert.equal((await expectError(await gen({ userId: 'bob', role: 'root' }, gw.adminKey), 400)).param, 'role');
    assert.equal((await expectError(await gen({ userId: 'bob', tier: 'gold' }, gw.adminKey), 400)).param, 'tier');
    const r = await gen({ userId: 'bob', tier: 'free' }, gw.adminKey);
    assert.equal(r.status, 200);
    const created = await r.json();
    assert.match(created.apiKey, /^[0-9a-f]{64}$/);
    assert.equal(created.tier, 'free');
    assert.equal(created.role, 'user');
    await expectError(await gen({ userId: 'bob' }, gw.adminKey), 409);
    const c = await chat(hello(), created.apiKey);
    assert.equal(c.status, 200);
    await c.json();
    let stored;
    for (let i = 0; i < 50 && !stored; i++) { stored = gw.readJson('keys.json')[created.apiKey]; if (!stored) await sleep(50); }
    assert.equal(stored.userId, 'bob');
  });
});

describe('rate limits', () => {
  test('limits are enforced across routes with Retry-After and x-ratelimit headers', async () => {
    await mock.control('/mock/requests', 'DELETE');
    const a = await chat(hello(), SLOW);
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('x-ratelimit-limit-requests'), '2');
    assert.equal(a.headers.get('x-ratelimit-remaining-requests'), '1');
    assert.match(a.headers.get('x-ratelimit-reset-requests'), /^\d+(\.\d+)?s$/);
    await a.json();
    const b = await fetch(`${gw.url}/v1/keys/me`, { headers: { authorization: `Bearer ${SLOW}` } });
    assert.equal(b.status, 200, 'keys/me spends the same budget');
    assert.equal(b.headers.get('x-ratelimit-remaining-requests'), '0');
    await b.json();
    const denied = await chat(hello(), SLOW);
    const retryAfter = Number(denied.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 30, `Retry-After ${retryAfter}`);
    assert.equal(denied.headers.get('x-ratelimit-remaining-requests'), '0');
    const e = await expectError(denied, 429, 'rate_limit_exceeded');
    assert.match(e.message, /slow/);
    await expectError(await fetch(`${gw.url}/v1/keys/me`, { headers: { authorization: `Bearer ${SLOW}` } }), 429, 'rate_limit_exceeded');
    assert.equal((await mock.requests()).requests.length, 1, 'the denied request never reached the provider');
  });

  test('the token quota is reported in x-ratelimit-*-tokens', async () => {
    const r = await fetch(`${gw.url}/v1/keys/me`, { headers: { authorization: `Bearer ${TINY}` } });
    assert.equal(r.headers.get('x-ratelimit-limit-tokens'), '10');
    assert.ok(Number(r.headers.get('x-ratelimit-remaining-tokens')) >= 0);
    await r.json();
  });
});

describe('tiers.json reload', () => {
  const limitOf = async (key) => {
    const r = await fetch(`${gw.url}/v1/keys/me`, { headers: { authorization: `Bearer ${key}` } });
    await r.arrayBuffer();
    return r.headers.get('x-ratelimit-limit-requests');
  };
  const waitForLimit = async (key, want) => {
    for (let i = 0; i < 60; i++) {
      if ((await limitOf(key)) === want) return true;
      await sleep(50);
    }
    return false;
  };

  test('a changed tiers.json applies without a restart; a broken edit keeps the previous tiers', async () => {
    const file = join(gw.dir, 'tiers.json');
    const faster = { ...tiers, enterprise: { ...tiers.enterprise, rps: 7777 } };
    writeFileSync(file, JSON.stringify(faster, null, 2));
    assert.ok(await waitForLimit(USER, '7777'), 'new rps applied');
    writeFileSync(file, '{ "enterprise": { "rps": ');
    await sleep(400);
    assert.equal(await limitOf(USER), '7777', 'broken file ignored');
    const r = await chat(hello());
    assert.equal(r.status, 200, 'still serving');
    await r.json();
    writeFileSync(file, JSON.stringify(tiers, null, 2));
    assert.ok(await waitForLimit(USER, '10000'), 'restored');
  });
});
