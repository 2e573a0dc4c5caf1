// The admin API's read-only provider views (issue 13, first part): providers with their keys
// masked (never the raw secret, nor a key in a URL's query), one provider by id, and the live
// health of every pair (score, averages, breaker state, next probe). Admin keys only.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startMock, startGateway, mockProvider, userKeys, newKey, openTier, postChat, openAIError, waitFor,
} from './lib/harness.mjs';

const USER = newKey();
const SECRET = 'sk-live-very-secret-provider-key-0123456789';
const URL_SECRET = 'AIzaSy-url-secret-9876543210';

describe('admin provider views', () => {
  let mockA, mockB, gw;
  const get = (path, key = gw.adminKey) => fetch(`${gw.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  before(async () => {
    [mockA, mockB] = await Promise.all([startMock(), startMock()]);
    const broken = mockProvider(mockA, 'broken', ['mock-gpt-4'], { apiKey: SECRET });
    const healthy = mockProvider(mockB, 'healthy', ['mock-gpt-4']);
    const gemini = mockProvider(mockB, 'gem', ['gemini-x'], {
      protocol: 'gemini', provider_url: `${mockB.url}/v1beta?key=${URL_SECRET}`,
    });
    gemini.models['gemini-x'].capability_skips = { tools: 'no tools here' };
    gw = await startGateway({
      files: {
        tiers: { open: openTier() }, excluded: { patterns: [] },
        keys: userKeys({ [USER]: { userId: 'u', tier: 'open' } }),
        providers: [broken, healthy, gemini],
      },
      env: { ROUTING_SPREAD_POINTS: '0', BREAKER_FAILURE_THRESHOLD: '2', BREAKER_COOLDOWN_MS: '60000', BREAKER_MAX_COOLDOWN_MS: '60000' },
    });
  });
  after(async () => { await gw?.cleanup(); await mockA?.stop(); await mockB?.stop(); });

  test('admin keys only: 401 without a key, 403 for a user key', async () => {
    for (const prefix of ['/admin', '/api/admin']) {
      await openAIError(await get(`${prefix}/providers`, null), 401);
      await openAIError(await get(`${prefix}/providers`, USER), 403, 'admin_required');
      await openAIError(await get(`${prefix}/health/providers`, USER), 403, 'admin_required');
    }
  });

  test('the providers, keys masked, a key in a URL masked', async () => {
    for (const prefix of ['/admin', '/api/admin']) {
      const r = await get(`${prefix}/providers`);
      assert.equal(r.status, 200);
      const text = await r.text();
      assert.ok(!text.includes(SECRET) && !text.includes(URL_SECRET), 'no secret in the answer');
      const { object, data } = JSON.parse(text);
      assert.equal(object, 'list');
      assert.deepEqual(data.map((p) => p.id), ['broken', 'healthy', 'gem']);
      const broken = data[0];
      assert.equal(broken.protocol, 'openai');
      assert.notEqual(broken.apiKey, SECRET);
      assert.ok(broken.apiKey.length < SECRET.length);
      assert.deepEqual(broken.models.map((m) => m.id), ['mock-gpt-4']);
      const gem = data[2];
      assert.equal(gem.protocol, 'gemini');
      assert.equal(gem.provider_url, `${mockB.url}/v1beta?***`);
      assert.deepEqual(gem.models[0].capability_skips, { tools: 'no tools here' });
    }
  });

  test('one provider by id; an unknown id is a 404 naming it', async () => {
    const r = await get('/admin/providers/healthy');
    assert.equal(r.status, 200);
    assert.equal((await r.json()).id, 'healthy');
    const e = await openAIError(await get('/api/admin/providers/nope'), 404, 'provider_not_found');
    assert.equal(e.param, 'id');
  });

  test('health: a failing pair shows its open circuit and next probe, the serving one its averages', async () => {
    await mockA.fault({ fault: 'status', status: 503, model: 'mock-gpt-4' });
    for (let i = 0; i < 2; i++) {
      const r = await postChat(gw, { model: 'mock-gpt-4', messages: [{ role: 'user', content: 'hi' }] }, USER);
      assert.equal(r.status, 200, 'served by the healthy provider');
      await r.json();
    }
    const health = await waitFor(async () => {
      const body = await (await get('/admin/health/providers')).json();
      const broken = body.data.find((p) => p.provider === 'broken').models[0];
      return broken.state === 'open' && body;
    });
    assert.ok(health, 'the broken pair is open');
    const broken = health.data.find((p) => p.provider === 'broken');
    assert.equal(broken.models[0].consecutive_errors, 2);
    assert.ok(broken.models[0].next_probe_in_ms > 50000, `probe in ${broken.models[0].next_probe_in_ms} ms`);
    const healthy = health.data.find((p) => p.provider === 'healthy');
    assert.equal(healthy.models[0].state, 'closed');
    assert.equal(typeof healthy.models[0].avg_provider_latency_ms, 'number');
    assert.ok(healthy.score > broken.score || broken.score === null);
    assert.equal(health.data.find((p) => p.provider === 'gem').models[0].state, 'closed');
  });
});
