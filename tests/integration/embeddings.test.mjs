// POST /v1/embeddings through the official `openai` SDK: to an OpenAI-compatible provider (the
// client's bytes forwarded, the answer relayed as it is), to native Gemini (:batchEmbedContents)
// and Ollama (/api/embed) providers (floats rendered back in the encoding the client asked for,
// base64 by the SDK's default), usage billed, failover, and the 400/404 cases.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMock, startGateway, mockProvider, userKeys, newKey, openTier, tokensUsed as usedBy, modelPosts } from './lib/harness.mjs';

const USER = newKey();
const DIMS = 4;
let mock, flaky, gw, client;

function provider(id, protocol, m, models) {
  const p = mockProvider(m, id, models);
  p.protocol = protocol;
  p.provider_url = { openai: `${m.url}/v1/chat/completions`, gemini: `${m.url}/v1beta`, ollama: m.url }[protocol];
  return p;
}

before(async () => {
  mock = await startMock();
  flaky = await startMock();
  gw = await startGateway({
    files: {
      tiers: { enterprise: openTier() },
      keys: userKeys({ [USER]: { userId: 'embedder' } }),
      // emb-fo: the flaky mock's provider comes first in file order, so it is tried first.
      providers: [
        provider('flaky', 'openai', flaky, ['emb-fo']),
        provider('openai-e', 'openai', mock, ['emb-openai', 'emb-fo']),
        provider('gemini-e', 'gemini', mock, ['emb-gemini']),
        provider('ollama-e', 'ollama', mock, ['emb-ollama']),
      ],
    },
    env: { ROUTING_SPREAD_POINTS: '0' },
  });
  client = new OpenAI({ apiKey: USER, baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 10000 });
});

after(async () => {
  await gw?.cleanup();
  await mock?.stop();
  await flaky?.stop();
});

async function lastRequest(m = mock) {
  const recs = await modelPosts(m);
  assert.ok(recs.length > 0, 'the mock got a request');
  return recs.at(-1);
}
const clearRequests = () => mock.control('/mock/requests', 'DELETE');
const tokensUsed = () => usedBy(gw, USER);
// The mock's own answer to a recorded request, asked directly.
async function direct(rec) {
  const r = await fetch(mock.url + rec.path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': 'k' }, body: rec.body });
  assert.equal(r.status, 200);
  return r.json();
}
const f32 = (v) => v.map((x) => Math.fround(x));

describe('openai-compatible provider', () => {
  test('the SDK default (base64) goes upstream as sent and comes back as the provider answered', async () => {
    await clearRequests();
    const before = await tokensUsed();
    const r = await client.embeddings.create({ model: 'emb-openai', input: ['alpha', 'beta'], dimensions: DIMS });
    const rec = await lastRequest();
    assert.equal(rec.path, '/v1/embeddings');
    assert.deepEqual(rec.bodyJson, { model: 'emb-openai', input: ['alpha', 'beta'], dimensions: DIMS, encoding_format: 'base64' });
    assert.equal(rec.headers.authorization, 'Bearer provider-secret-openai-e');
    const want = await (await fetch(`${mock.url}/v1/embeddings`, { method: 'POST', body: rec.body.replace('"base64"', '"float"') })).json();
    assert.equal(r.data.length, 2);
    r.data.forEach((d, i) => assert.deepEqual(Array.from(d.embedding), f32(want.data[i].embedding)));
    assert.deepEqual(r.usage, want.usage);
    assert.equal(await tokensUsed(), before + want.usage.total_tokens);
  });

  test('floats, token ids and token-id arrays', async () => {
    const floats = await client.embeddings.create({ model: 'emb-openai', input: 'one text', encoding_format: 'float' });
    assert.equal(floats.data.length, 1);
    assert.ok(floats.data[0].embedding.every((x) => typeof x === 'number'));
    const ids = await client.embeddings.create({ model: 'emb-openai', input: [1, 2, 3], encoding_format: 'float' });
    assert.equal(ids.data.length, 1);
    assert.equal(ids.usage.total_tokens, 3);
    const lists = await client.embeddings.create({ model: 'emb-openai', input: [[1, 2], [3]], encoding_format: 'float' });
    assert.equal(lists.data.length, 2);
    assert.deepEqual((await lastRequest()).bodyJson.input, [[1, 2], [3]]);
  });

  test('a 503 from the first provider fails over to the next', async () => {
    await flaky.fault({ fault: 'status', status: 503, model: 'emb-fo' });
    await clearRequests();
    const r = await client.embeddings.create({ model: 'emb-fo', input: 'fail over' });
    assert.equal(r.data.length, 1);
    assert.equal((await lastRequest(flaky)).path, '/v1/embeddings');
    assert.equal((await lastRequest()).bodyJson.input, 'fail over');
    await flaky.control('/mock/faults', 'DELETE');
  });
});

describe('native providers', () => {
  for (const [pv, model, path] of [['gemini', 'emb-gemini', '/v1beta/models/emb-gemini:batchEmbedContents'], ['ollama', 'emb-ollama', '/api/embed']]) {
    test(`${pv}: vectors come back in the encoding the client asked for`, async () => {
      await clearRequests();
      const r = await client.embeddings.create({ model, input: ['alpha', 'beta'], dimensions: DIMS });  // base64
      const rec = await lastRequest();
      assert.equal(rec.path, path);
      const native = await direct(rec);
      const vectors = pv === 'gemini' ? native.embeddings.map((e) => e.values) : native.embeddings;
      assert.equal(vectors[0].length, DIMS, 'dimensions reached the provider');
      assert.equal(r.data.length, 2);
      r.data.forEach((d, i) => {
        assert.equal(d.index, i);
        assert.deepEqual(Array.from(d.embedding), f32(vectors[i]));
      });
      const floats = await client.embeddings.create({ model, input: ['alpha', 'beta'], dimensions: DIMS, encoding_format: 'float' });
      // (Floats are printed and read back by the gateway: equal to within 1 ulp.)
      floats.data.forEach((d, i) => d.embedding.forEach((x, k) => assert.ok(Math.abs(x - vectors[i][k]) <= 2e-16 * Math.max(1, Math.abs(x)), `${x} vs ${vectors[i][k]}`)));
    });
  }

  test('usage: the provider\'s count (Ollama), else an estimate of the input (Gemini reports none)', async () => {
    let before = await tokensUsed();
    await client.embeddings.create({ model: 'emb-ollama', input: ['alpha', 'beta'] });
    const native = await direct(await lastRequest());
    assert.equal(await tokensUsed(), before + native.prompt_eval_count);
    before = await tokensUsed();
    await client.embeddings.create({ model: 'emb-gemini', input: ['alpha', 'beta gamma'] });
    assert.equal(await tokensUsed(), before + Math.ceil(5 / 4) + Math.ceil(10 / 4));
  });

  for (const model of ['emb-gemini', 'emb-ollama']) {
    test(`token ids cannot be sent to a native provider (${model}): 400 naming the input`, async () => {
      await clearRequests();
      const e = await client.embeddings.create({ model, input: [1, 2, 3] }).catch((x) => x);
      assert.equal(e.status, 400, String(e));
      assert.match(e.error?.param ?? '', /^input/);
      assert.equal((await modelPosts(mock)).length, 0, 'nothing went upstream');
    });
  }
});

describe('bad requests', () => {
  const post = (body) => fetch(`${gw.url}/v1/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${USER}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  for (const [name, body, param] of [
    ['no input', { model: 'emb-openai' }, 'input'],
    ['an empty string', { model: 'emb-openai', input: '' }, 'input'],
    ['an empty array', { model: 'emb-openai', input: [] }, 'input'],
    ['a mixed array', { model: 'emb-openai', input: ['a', 1] }, 'input[1]'],
    ['an empty token list', { model: 'emb-openai', input: [[1], []] }, 'input[1]'],
    ['no model', { input: 'x' }, 'model'],
    ['an unknown encoding', { model: 'emb-openai', input: 'x', encoding_format: 'int8' }, 'encoding_format'],
    ['zero dimensions', { model: 'emb-openai', input: 'x', dimensions: 0 }, 'dimensions'],
  ]) {
    test(`${name}: 400 naming ${param}, nothing upstream`, async () => {
      await clearRequests();
      const r = await post(body);
      assert.equal(r.status, 400);
      const j = await r.json();
      assert.equal(j.error.type, 'invalid_request_error');
      assert.equal(j.error.param, param);
      assert.equal((await modelPosts(mock)).length, 0);
    });
  }

  test('an unknown model is 404 in OpenAI\'s shape', async () => {
    const e = await client.embeddings.create({ model: 'no-such-embedder', input: 'x' }).catch((x) => x);
    assert.equal(e.status, 404);
    assert.equal(e.error?.code, 'model_not_found');
  });

  test('the route is in /openapi.json', async () => {
    const spec = await (await fetch(`${gw.url}/openapi.json`)).json();
    assert.ok(spec.paths['/v1/embeddings']?.post, 'POST /v1/embeddings documented');
  });
});
