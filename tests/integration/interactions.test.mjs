// Interactions (Gemini's Interactions API) on /v1 and /v2: POST runs the interaction once at the
// provider (as a chat completion), billed once; every GET returns the kept result without
// running or billing again; the id is bound to the key that created it; the 400/404 cases send
// nothing upstream; in Redis mode any instance answers the poll; @google/genai's
// ai.interactions works unchanged. Real gateway, real mock.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleGenAI } from '@google/genai';
import {
  startMock, startGateway, startRedis, mockProvider, userKeys, newKey, openTier, tokensUsed, modelPosts, waitFor,
  digestOf,
} from './lib/harness.mjs';

const USER = newKey();
const OTHER = newKey();
const files = (mock) => ({
  tiers: { enterprise: openTier() },
  keys: userKeys({ [USER]: { userId: 'interactions-user' }, [OTHER]: { userId: 'interactions-other' } }),
  providers: [mockProvider(mock, 'mock-provider', ['mock-gpt-4'])],
});

const bearer = (key) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
const post = (gw, path, body, headers = bearer(USER)) =>
  fetch(gw.url + path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
const get = (gw, path, headers = bearer(USER)) => fetch(gw.url + path, { headers });

describe('one gateway', () => {
  let mock, gw;
  before(async () => {
    mock = await startMock();
    gw = await startGateway({ files: files(mock) });
  });
  after(async () => { await gw?.cleanup(); await mock?.stop(); });
  const clear = () => mock.control('/mock/requests', 'DELETE');

  test('POST runs once and answers the completed interaction; every GET returns it without running or billing again', async () => {
    await clear();
    const before = await tokensUsed(gw, USER);
    const r = await post(gw, '/v1/interactions', { model: 'mock-gpt-4', input: 'Tell me about foxes', system_instruction: 'Be brief.' });
    assert.equal(r.status, 200, await r.clone().text());
    const created = await r.json();
    assert.match(created.id, /^int_[0-9a-f]{32}$/, 'an opaque random id');
    assert.equal(created.object, 'interaction');
    assert.equal(created.status, 'completed');
    assert.equal(created.model, 'mock-gpt-4');
    assert.equal(created.outputs.length, 1);
    assert.equal(created.outputs[0].type, 'text');
    assert.equal(created.outputs[0].text, 'Mock reply to: Tell me about foxes');
    assert.equal(created.output_text, created.outputs[0].text);
    assert.deepEqual(created.steps, [{ type: 'model_output', content: [{ type: 'text', text: created.output_text }] }]);
    const { total_input_tokens: input, total_output_tokens: output, total_tokens: total } = created.usage;
    assert.ok(input > 0 && output > 0 && total === input + output, JSON.stringify(created.usage));

    const posts = await modelPosts(mock);
    assert.equal(posts.length, 1, 'run once');
    assert.equal(posts[0].path, '/v1/chat/completions');
    assert.deepEqual(posts[0].bodyJson.messages,
      [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Tell me about foxes' }]);
    assert.equal(posts[0].headers.authorization, 'Bearer provider-secret-mock-provider');
    assert.equal(await tokensUsed(gw, USER), before + total, 'billed once, the provider\'s usage');

    for (let i = 0; i < 2; i++) {
      const p = await get(gw, `/v1/interactions/${created.id}`);
      assert.equal(p.status, 200);
      assert.deepEqual(await p.json(), created, 'the kept result, as POST answered it');
    }
    assert.equal((await modelPosts(mock)).length, 1, 'polls never reach the provider');
    assert.equal(await tokensUsed(gw, USER), before + total, 'polls are not billed');
  });

  test("another key's poll, an unknown id and a malformed id are 404; a bad key is 401", async () => {
    const r = await post(gw, '/v1/interactions', { model: 'mock-gpt-4', input: 'mine' });
    const { id } = await r.json();
    const other = await get(gw, `/v1/interactions/${id}`, bearer(OTHER));
    assert.equal(other.status, 404);
    const e = (await other.json()).error;
    assert.equal(e.param, 'id');
    assert.equal(e.code, 'not_found');
    assert.equal((await get(gw, `/v1/interactions/int_${'0'.repeat(32)}`)).status, 404);
    assert.equal((await get(gw, '/v1/interactions/not-an-id')).status, 404);
    assert.equal((await get(gw, `/v1/interactions/${id}`, bearer('wrong-key'))).status, 401);
    assert.equal((await get(gw, `/v1/interactions/${id}`)).status, 200, 'still there for its key');
  });

  test('missing model or input: 400 naming it, nothing upstream; unknown model: 404', async () => {
    await clear();
    for (const [body, param] of [[{ input: 'x' }, 'model'], [{ model: 'mock-gpt-4' }, 'input'],
                                 [{ model: 'mock-gpt-4', input: '' }, 'input'],
                                 [{ model: 'mock-gpt-4', input: 'x', stream: true }, 'stream'],
                                 [{ model: 'mock-gpt-4', input: 'x', tools: [{ type: 'google_search' }] }, 'tools[0].type']]) {
      const r = await post(gw, '/v1/interactions', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal((await r.json()).error.param, param);
    }
    const bad = await post(gw, '/v1/interactions', '{not json');
    assert.equal(bad.status, 400);
    const unknown = await post(gw, '/v1/interactions', { model: 'no-such-model', input: 'x' });
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json()).error.code, 'model_not_found');
    assert.equal((await modelPosts(mock)).length, 0, 'nothing went upstream');
  });

  test('function tools: the call comes back as requires_action, and its result can be sent in the next interaction', async () => {
    await clear();
    const tools = [{ type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } }];
    const r = await post(gw, '/v1/interactions', { model: 'mock-gpt-4', input: 'Weather in Paris?', tools });
    assert.equal(r.status, 200);
    const first = await r.json();
    assert.equal(first.status, 'requires_action');
    const call = first.outputs.find((o) => o.type === 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(call.arguments, { location: 'Paris' });
    const [sent] = await modelPosts(mock);
    assert.equal(sent.bodyJson.tools[0].function.name, 'get_weather');
    const r2 = await post(gw, '/v1/interactions', {
      model: 'mock-gpt-4', tools,
      input: [{ type: 'user_input', content: [{ type: 'text', text: 'Weather in Paris?' }] }, call,
              { type: 'function_result', call_id: call.id, name: 'get_weather', result: 'sunny' }],
    });
    assert.equal(r2.status, 200, await r2.clone().text());
    const msgs = (await modelPosts(mock))[1].bodyJson.messages;
    assert.deepEqual(msgs.map((m) => m.role), ['user', 'assistant', 'tool']);
    assert.equal(msgs[2].tool_call_id, call.id);
  });

  test('/v2/interactions: Gemini keys and error shape; also where @google/genai sends them', async () => {
    const r = await post(gw, '/v2/interactions', { model: 'models/mock-gpt-4', input: [{ type: 'text', text: 'from gemini' }] },
      { 'x-goog-api-key': USER, 'content-type': 'application/json' });
    assert.equal(r.status, 200, await r.clone().text());
    const created = await r.json();
    assert.equal(created.output_text, 'Mock reply to: from gemini');
    const polled = await get(gw, `/v2/interactions/${created.id}?key=${USER}`, {});
    assert.equal(polled.status, 200);
    assert.deepEqual(await polled.json(), created);
    const sdkPath = await get(gw, `/v2/v1beta/interactions/${created.id}`, { 'x-goog-api-key': USER });
    assert.deepEqual(await sdkPath.json(), created);
    const missing = await post(gw, '/v2/v1beta/interactions', { model: 'mock-gpt-4' }, { 'x-goog-api-key': USER, 'content-type': 'application/json' });
    assert.equal(missing.status, 400);
    assert.equal((await missing.json()).error.status, 'INVALID_ARGUMENT');
    const other = await get(gw, `/v2/interactions/${created.id}`, { 'x-goog-api-key': OTHER });
    assert.equal(other.status, 404);
    assert.equal((await other.json()).error.status, 'NOT_FOUND');
  });

  test('@google/genai: ai.interactions.create() and .get() against /v2', async () => {
    await clear();
    const ai = new GoogleGenAI({ apiKey: USER, httpOptions: { baseUrl: `${gw.url}/v2` } });
    const created = await ai.interactions.create({ model: 'mock-gpt-4', input: 'hello from the sdk' });
    assert.match(created.id, /^int_[0-9a-f]{32}$/);
    assert.equal(created.status, 'completed');
    assert.equal(created.output_text, 'Hello! I am the anygpt mock provider. How can I help you today?');
    const got = await ai.interactions.get(created.id);
    assert.equal(got.id, created.id);
    assert.equal(got.output_text, created.output_text);
    assert.equal(got.usage.total_tokens, created.usage.total_tokens);
    const [sent, ...more] = await modelPosts(mock);
    assert.equal(more.length, 0, 'run once');
    assert.equal(sent.headers.authorization, 'Bearer provider-secret-mock-provider', "the provider's key, never the client's");
  });

  test('every interactions route is in /openapi.json', async () => {
    const spec = await (await fetch(`${gw.url}/openapi.json`)).json();
    for (const p of ['/v1/interactions', '/v1/interactions/{id}', '/v2/interactions', '/v2/interactions/{id}',
                     '/v2/v1beta/interactions', '/v2/v1beta/interactions/{id}'])
      assert.ok(spec.paths[p], `${p} documented`);
  });
});

describe('two instances on one Redis', () => {
  let mock, redis, gws = [];
  before(async () => {
    [mock, redis] = await Promise.all([startMock(), startRedis()]);
    for (let i = 0; i < 2; i++)
      gws.push(await startGateway({ files: files(mock), env: { DATA_SOURCE_PREFERENCE: 'redis', REDIS_URL: redis.url, REDIS_SYNC_INTERVAL_MS: '50', INTERACTIONS_TTL_MS: '60000' } }));
  });
  after(async () => { for (const g of gws) await g.cleanup(); await mock?.stop(); await redis?.stop(); });

  test('an interaction run on one instance is returned by the other, to its key only', async () => {
    const r = await post(gws[0], '/v1/interactions', { model: 'mock-gpt-4', input: 'shared' });
    assert.equal(r.status, 200);
    const created = await r.json();
    const key = `anygpt:interaction:${created.id}`;
    assert.ok(await waitFor(() => redis.cli('EXISTS', key) === '1'), 'written to Redis');
    assert.equal(redis.cli('HGET', key, 'key'), digestOf(USER));
    const pttl = Number(redis.cli('PTTL', key));
    assert.ok(pttl > 0 && pttl <= 60000, `PTTL ${pttl}`);
    await mock.control('/mock/requests', 'DELETE');
    const p = await get(gws[1], `/v1/interactions/${created.id}`);
    assert.equal(p.status, 200);
    assert.deepEqual(await p.json(), created);
    assert.equal((await get(gws[1], `/v1/interactions/${created.id}`, bearer(OTHER))).status, 404);
    assert.equal((await modelPosts(mock)).length, 0, 'not run again');
  });
});
