// Azure OpenAI deployments: the official SDK's AzureOpenAI client (key in `api-key`, path
// /openai/deployments/{deployment}/chat/completions?api-version=...) against the gateway, which
// serves the deployment id as the model through the full chat route; /v1/deployments/... too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AzureOpenAI } from 'openai';
import { startMock, startGateway, mockProvider, userKeys, newKey, openTier } from './lib/harness.mjs';

const USER = newKey();
const API_VERSION = '2024-10-21';
let mock, gw;

before(async () => {
  mock = await startMock();
  const p = mockProvider(mock, 'azure-host', ['my-deployment']);
  p.models['my-deployment'].upstream_model = 'gpt-4o-2024-08-06';
  gw = await startGateway({
    files: { tiers: { enterprise: openTier() }, keys: userKeys({ [USER]: { userId: 'azure-user' } }), providers: [p] },
  });
});

after(async () => {
  await gw?.cleanup();
  await mock?.stop();
});

const azure = (deployment = 'my-deployment') =>
  new AzureOpenAI({ apiKey: USER, endpoint: gw.url, apiVersion: API_VERSION, deployment, maxRetries: 0, timeout: 10000 });

async function lastRequest() {
  const recs = (await mock.requests()).requests.filter((r) => r.method === 'POST');
  assert.ok(recs.length > 0, 'the mock got a request');
  return recs.at(-1);
}
const tokensUsed = async () =>
  (await (await fetch(`${gw.url}/v1/keys/me`, { headers: { 'api-key': USER } })).json()).usage.token_usage;

test('AzureOpenAI chat: the deployment is the model, the key comes from api-key', async () => {
  const before = await tokensUsed();
  const r = await azure().chat.completions.create({ model: 'whatever-the-caller-wrote', messages: [{ role: 'user', content: 'describe azure' }] });
  const rec = await lastRequest();
  assert.equal(rec.path, '/v1/chat/completions');
  assert.equal(rec.bodyJson.model, 'gpt-4o-2024-08-06', 'the deployment\'s provider model went upstream');
  assert.equal(rec.headers.authorization, 'Bearer provider-secret-azure-host');
  assert.ok(!JSON.stringify(rec.headers).includes(USER), 'the client key stays with the gateway');
  assert.equal(r.choices[0].message.content, 'Mock reply to: describe azure');
  assert.equal(await tokensUsed(), before + r.usage.total_tokens);
});

test('AzureOpenAI streamed chat with tools', async () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const stream = await azure().chat.completions.create({
    model: 'my-deployment', stream: true, tools,
    messages: [{ role: 'user', content: 'weather in Paris? use the tool' }],
  });
  const calls = [];
  let finish = null;
  for await (const chunk of stream) {
    for (const c of chunk.choices[0]?.delta?.tool_calls ?? []) calls.push(c);
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(calls[0]?.function?.name, 'get_weather', 'the tool call streamed back');
  assert.ok(JSON.parse(calls.map((c) => c.function?.arguments ?? '').join('')), 'its arguments are JSON');
  assert.equal(finish, 'tool_calls');
  const rec = await lastRequest();
  assert.equal(rec.bodyJson.stream, true);
  assert.deepEqual(rec.bodyJson.tools, tools);
  assert.equal(rec.bodyJson.model, 'gpt-4o-2024-08-06');
});

test('/v1/deployments/{id}/chat/completions, and a body without a model', async () => {
  const r = await fetch(`${gw.url}/v1/deployments/my-deployment/chat/completions?api-version=${API_VERSION}`, {
    method: 'POST', headers: { 'api-key': USER, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'no model field' }] }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  assert.equal((await r.json()).choices[0].message.content, 'Mock reply to: no model field');
  assert.equal((await lastRequest()).bodyJson.model, 'gpt-4o-2024-08-06');
});

test('without api-version: 400 naming it, nothing upstream', async () => {
  await mock.control('/mock/requests', 'DELETE');
  for (const path of ['/openai/deployments/my-deployment/chat/completions', '/v1/deployments/my-deployment/chat/completions']) {
    const r = await fetch(gw.url + path, {
      method: 'POST', headers: { 'api-key': USER, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(r.status, 400);
    const j = await r.json();
    assert.equal(j.error.param, 'api-version');
    assert.equal(j.error.type, 'invalid_request_error');
  }
  assert.equal((await mock.requests()).requests.filter((x) => x.method === 'POST').length, 0);
});

test('an unknown deployment is 404 model_not_found; a bad key 401', async () => {
  const e = await azure('no-such-deployment').chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'x' }] }).catch((x) => x);
  assert.equal(e.status, 404);
  assert.equal(e.error?.code, 'model_not_found');
  const bad = new AzureOpenAI({ apiKey: 'wrong', endpoint: gw.url, apiVersion: API_VERSION, deployment: 'my-deployment', maxRetries: 0 });
  const e2 = await bad.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'x' }] }).catch((x) => x);
  assert.equal(e2.status, 401);
});

test('both paths are in /openapi.json', async () => {
  const spec = await (await fetch(`${gw.url}/openapi.json`)).json();
  assert.ok(spec.paths['/openai/deployments/{deployment}/chat/completions']?.post);
  assert.ok(spec.paths['/v1/deployments/{deployment}/chat/completions']?.post);
});
