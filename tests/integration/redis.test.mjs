// Shared state on Redis: import of the original's layout, several instances behaving as one
// gateway (rate limits, keys, usage), Redis killed under load, and crash safety of the files.
// Real redis-server, real gateways, real mock provider.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import {
  startMock, startGateway, mockProvider, userKeys, newKey, openAIError, openTier, postChat, sleep, waitFor,
  startRedis, digestOf,
} from './lib/harness.mjs';

const ask = (extra = {}) => ({ model: 'mock-gpt-4', messages: [{ role: 'user', content: 'hello there' }], ...extra });
const me = async (gw, key) => fetch(`${gw.url}/v1/keys/me`, { headers: { authorization: `Bearer ${key}` } });
const redisEnv = (redis, extra = {}) => ({ DATA_SOURCE_PREFERENCE: 'redis', REDIS_URL: redis.url, REDIS_SYNC_INTERVAL_MS: '50', ...extra });

describe('import of an AnyGPT deployment', () => {
  let mock, redis, gw;
  before(async () => { [mock, redis] = await Promise.all([startMock(), startRedis()]); });
  after(async () => { await gw?.cleanup(); await mock?.stop(); await redis?.stop(); });

  test("the original's api:data hash (p, k, m) is imported on first start and served", async () => {
    const key = newKey();
    redis.cli('HSET', 'api:data',
      'k', JSON.stringify(userKeys({ [key]: { userId: 'legacy-user', tier: 'open', tokenUsage: 7, requestCount: 3 } })),
      'p', JSON.stringify([mockProvider(mock, 'legacy-provider', ['mock-gpt-4'])]),
      'm', JSON.stringify({ object: 'list', data: [{ id: 'mock-gpt-4', object: 'model', created: 1767225600000, owned_by: 'openai', providers: 1 }] }),
      '__legacy_migrated_v1', '1');
    gw = await startGateway({ files: { tiers: { open: openTier(), enterprise: openTier() } }, env: redisEnv(redis) });
    const r = await postChat(gw, ask(), key);
    assert.equal(r.status, 200, await r.clone().text());
    const body = await r.json();
    const u = await (await me(gw, key)).json();
    assert.equal(u.usage.request_count, 4);
    assert.equal(u.usage.token_usage, 7 + body.usage.total_tokens);
    const d = digestOf(key);
    await waitFor(() => redis.cli('HGET', 'anygpt:usage', `${d}:r`) === '4');
    assert.equal(redis.cli('HGET', 'anygpt:usage', `${d}:t`), String(7 + body.usage.total_tokens));
    assert.equal(redis.cli('HGET', 'anygpt:meta', 'imported_from'), 'api:data');
    // Mirrored into the files, so a start without Redis serves the same data.
    const files = await waitFor(() => { const k = gw.readJson('keys.json'); return k[key] && k; });
    assert.equal(files[key].userId, 'legacy-user');
    assert.equal(gw.readJson('providers.json')[0].id, 'legacy-provider');
  });
});

describe('error log', () => {
  let mock, redis, gw;
  const KEY = newKey();
  before(async () => {
    [mock, redis] = await Promise.all([startMock(), startRedis()]);
    gw = await startGateway({
      files: { tiers: { open: openTier(), enterprise: openTier() }, keys: userKeys({ [KEY]: { userId: 'err-user', tier: 'open' } }),
               providers: [mockProvider(mock)], excluded: { patterns: [] } },
      env: redisEnv(redis, { ERROR_LOG_TO_REDIS: 'true', REDIS_ERROR_LOG_MAX_ENTRIES: '2' }),
    });
  });
  after(async () => { await gw?.cleanup(); await mock?.stop(); await redis?.stop(); });

  test('failed requests go to logs/api-error.jsonl and a capped Redis list, without the key', async () => {
    await mock.fault({ fault: 'status', status: 503, model: 'mock-gpt-4' });
    for (let i = 0; i < 3; i++) await openAIError(await postChat(gw, `{"model":"mock-gpt-4","messages":[{"role":"user","content":"x"}]}`, KEY), 502);
    const lines = await waitFor(() => {
      try { return readFileSync(join(gw.dir, 'logs', 'api-error.jsonl'), 'utf8').trim().split('\n'); } catch { return null; }
    });
    assert.ok(lines && lines.length >= 3, 'three lines in the file');
    const entry = JSON.parse(lines[0]);
    assert.equal(entry.status, 502);
    assert.equal(entry.requestUrl, '/v1/chat/completions');
    assert.equal(entry.provider, 'mock-provider');
    assert.equal(entry.apiKeyHash.length, 12);
    assert.ok(!lines.join('').includes(KEY), 'never the key');
    const listed = await waitFor(() => Number(redis.cli('LLEN', 'api:error_logs')) === 2);
    assert.ok(listed, 'the Redis list is capped at REDIS_ERROR_LOG_MAX_ENTRIES');
    assert.equal(JSON.parse(redis.cli('LINDEX', 'api:error_logs', '0')).status, 502);
  });
});

describe('three instances on one Redis', () => {
  let mock, redis, gws = [];
  const R = 30;
  const SHARED = newKey();
  const WS_KEY = newKey();
  const tiers = { open: openTier(), enterprise: openTier(), shared: openTier({ rps: 1000, rpm: R, rpd: 100000 }) };
  const keys = userKeys({ [SHARED]: { userId: 'shared-user', tier: 'shared' }, [WS_KEY]: { userId: 'ws-user', tier: 'shared' } });

  before(async () => {
    [mock, redis] = await Promise.all([startMock(), startRedis()]);
    const adminKey = newKey();
    // One after the other: the first imports the files, the others find the shared data.
    for (let i = 0; i < 3; i++)
      gws.push(await startGateway({
        files: { tiers, keys, providers: [mockProvider(mock)] },
        env: redisEnv(redis, { DEFAULT_ADMIN_API_KEY: adminKey }),
      }));
  });
  after(async () => { for (const g of gws) await g.cleanup(); await mock?.stop(); await redis?.stop(); });

  test(`a key allowed ${R} requests per minute gets ${R} in total through all three, hit concurrently`, async () => {
    const all = [];
    for (let i = 0; i < 3 * R; i++) all.push(postChat(gws[i % 3], ask(), SHARED).then(async (r) => { await r.text(); return r.status; }));
    const statuses = await Promise.all(all);
    const admitted = statuses.filter((s) => s === 200).length;
    const denied = statuses.filter((s) => s === 429).length;
    console.log(`# shared rate limit: ${admitted} admitted, ${denied} denied of ${3 * R} (limit ${R}/min, 3 instances)`);
    assert.equal(admitted + denied, 3 * R);
    assert.ok(admitted >= R && admitted <= R + 3, `admitted ${admitted}, limit ${R} (+1 per instance at most)`);
    // The denial carries Retry-After and the x-ratelimit headers in OpenAI's shape.
    const r = await postChat(gws[0], ask(), SHARED);
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.equal(r.headers.get('x-ratelimit-limit-requests'), String(R));
    await openAIError(r, 429, 'rate_limit_exceeded');
  });

  test(`over /ws too: ${R} requests per minute in total through sockets on all three instances (and HTTP)`, async () => {
    const sockets = await Promise.all(gws.map(async (g) => {
      const ws = new WebSocket(`ws://127.0.0.1:${g.port}/ws`);
      ws.done = [];
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString());
        if (m.type === 'chat.complete' || m.type === 'error') ws.done.push(m);
      });
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      ws.send(JSON.stringify({ type: 'auth', apiKey: WS_KEY }));
      return ws;
    }));
    await sleep(100);
    const http = [];
    for (let i = 0; i < R; i++) {
      sockets[i % 3].send(JSON.stringify({ type: 'chat.completions', requestId: `r${i}`, ...ask() }));
      if (i % 3 === 0) http.push(postChat(gws[(i + 1) % 3], ask(), WS_KEY).then(async (r) => { await r.text(); return r.status; }));
    }
    const statuses = await Promise.all(http);
    await waitFor(() => sockets.reduce((n, ws) => n + ws.done.length, 0) === R, { timeoutMs: 10000 });
    const answers = sockets.flatMap((ws) => ws.done);
    const admitted = answers.filter((m) => m.type === 'chat.complete').length + statuses.filter((s) => s === 200).length;
    assert.ok(answers.filter((m) => m.type === 'error').every((m) => m.code === 'rate_limited'));
    console.log(`# shared rate limit over /ws + HTTP: ${admitted} admitted of ${R + http.length} (limit ${R}/min, 3 instances)`);
    assert.ok(admitted >= R && admitted <= R + 3, `admitted ${admitted}, limit ${R} (+1 per instance at most)`);
    for (const ws of sockets) ws.close();
  });

  test('usage is shared: every instance reports the total', async () => {
    const created = await fetch(`${gws[0].url}/v1/generate_key`, {
      method: 'POST', headers: { authorization: `Bearer ${gws[0].adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'usage-user', tier: 'open' }),
    });
    const { apiKey } = await created.json();
    await waitFor(async () => (await me(gws[1], apiKey)).status === 200, { timeoutMs: 1000 });
    let tokens = 0;
    for (const g of gws) tokens += (await (await postChat(g, ask(), apiKey)).json()).usage.total_tokens;
    const seen = await waitFor(async () => {
      const u = (await (await me(gws[2], apiKey)).json()).usage;
      return u.request_count === 3 && u;
    }, { timeoutMs: 2000 });
    assert.ok(seen, 'instance 3 sees the 3 requests made through the three instances');
    assert.equal(seen.token_usage, tokens);
  });

  test('a key created on one instance works on all within a second; revoked, it fails on all within a second', async () => {
    const created = await fetch(`${gws[1].url}/v1/generate_key`, {
      method: 'POST', headers: { authorization: `Bearer ${gws[1].adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'roaming-user', tier: 'open' }),
    });
    assert.equal(created.status, 200);
    const { apiKey } = await created.json();
    const t0 = Date.now();
    for (const g of [gws[0], gws[2]]) {
      const ok = await waitFor(async () => (await me(g, apiKey)).status === 200, { timeoutMs: 1000, intervalMs: 20 });
      assert.ok(ok, 'valid on the other instance');
    }
    console.log(`# key propagation: ${Date.now() - t0} ms`);
    const revoked = await fetch(`${gws[2].url}/admin/api-keys/revoke`, {
      method: 'POST', headers: { authorization: `Bearer ${gws[2].adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey }),
    });
    assert.equal(revoked.status, 200);
    const t1 = Date.now();
    for (const g of gws) {
      const gone = await waitFor(async () => (await me(g, apiKey)).status === 401, { timeoutMs: 1000, intervalMs: 20 });
      assert.ok(gone, 'invalid everywhere');
    }
    console.log(`# revocation propagation: ${Date.now() - t1} ms`);
  });

  test('a provider circuit opened by one instance is open on all', async () => {
    // Admin-only header shows who answered; make mock-provider fail its credentials on one instance.
    await mock.fault({ fault: 'status', status: 401, model: 'gpt-3.5-turbo', count: 1 });
    const r = await postChat(gws[0], ask({ model: 'gpt-3.5-turbo' }), gws[0].adminKey);
    assert.equal(r.status, 502);
    await r.text();
    await sleep(100);  // the event travels through Redis pub/sub
    await mock.control('/mock/requests', 'DELETE');
    // The other instances skip it without asking the provider.
    for (const g of [gws[1], gws[2]]) {
      const out = await waitFor(async () => {
        const x = await postChat(g, ask({ model: 'gpt-3.5-turbo' }), g.adminKey);
        await x.text();
        return x.status === 503 && x;
      }, { timeoutMs: 1000, intervalMs: 50 });
      assert.ok(out, 'provider out of rotation on the other instance');
    }
    assert.equal((await mock.requests()).total, 0, 'no instance called the provider again');
  });
});

describe('rate windows on the shared budget', () => {
  let mock, redis, gw;
  const PER_S = newKey(), PER_D = newKey(), QUOTA = newKey();
  before(async () => {
    [mock, redis] = await Promise.all([startMock(), startRedis()]);
    gw = await startGateway({
      files: {
        tiers: { open: openTier(), enterprise: openTier(), two_per_s: openTier({ rps: 2 }), two_per_day: openTier({ rpd: 2 }),
                 tiny: openTier({ max_tokens: 10 }) },
        keys: userKeys({ [PER_S]: { userId: 's', tier: 'two_per_s' }, [PER_D]: { userId: 'd', tier: 'two_per_day' }, [QUOTA]: { userId: 'q', tier: 'tiny' } }),
        providers: [mockProvider(mock)],
      },
      env: redisEnv(redis),
    });
  });
  after(async () => { await gw?.cleanup(); await mock?.stop(); await redis?.stop(); });

  const status = async (key) => { const r = await postChat(gw, ask(), key); await r.text(); return r; };

  test('rps: a burst of 2, then one per half second', async () => {
    assert.equal((await status(PER_S)).status, 200);
    assert.equal((await status(PER_S)).status, 200);
    const denied = await status(PER_S);
    assert.equal(denied.status, 429);
    assert.equal(denied.headers.get('retry-after'), '1');
    await sleep(550);
    assert.equal((await status(PER_S)).status, 200);
  });

  test('rpd: 2 per day, then a Retry-After of hours', async () => {
    assert.equal((await status(PER_D)).status, 200);
    assert.equal((await status(PER_D)).status, 200);
    const denied = await status(PER_D);
    assert.equal(denied.status, 429);
    assert.ok(Number(denied.headers.get('retry-after')) > 3600);
  });

  test('token quota: refused with insufficient_quota once used up', async () => {
    assert.equal((await status(QUOTA)).status, 200);
    await openAIError(await postChat(gw, ask(), QUOTA), 429, 'insufficient_quota');
  });
});

describe('video jobs across instances', () => {
  let flaky, host, redis, gws = [];
  const USER = newKey(), OTHER = newKey();
  const ttlMs = 600000;
  const videoCalls = async (m, method) => (await m.requests()).requests.filter((x) => x.method === method && x.path.startsWith('/v1/videos/'));
  const poll = (g, id, key = USER) => fetch(`${g.url}/v1/videos/${id}`, { headers: { authorization: `Bearer ${key}` } });
  const create = (g, body) => fetch(`${g.url}/v1/videos/generations`, {
    method: 'POST', headers: { authorization: `Bearer ${USER}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });

  before(async () => {
    [flaky, host, redis] = await Promise.all([startMock(), startMock(), startRedis()]);
    // Both instances try 'flaky' first (file order, no spread): a poll that went to a provider
    // other than the job's creator would reach it.
    const files = {
      tiers: { open: openTier(), enterprise: openTier() },
      keys: userKeys({ [USER]: { userId: 'video-user' }, [OTHER]: { userId: 'video-other' } }),
      providers: [mockProvider(flaky, 'flaky', ['video-x']), mockProvider(host, 'video-host', ['video-x'])],
    };
    for (let i = 0; i < 2; i++)
      gws.push(await startGateway({ files, env: redisEnv(redis, { ROUTING_SPREAD_POINTS: '0', VIDEO_REQUEST_CACHE_TTL_MS: String(ttlMs) }) }));
  });
  after(async () => { for (const g of gws) await g.cleanup(); await flaky?.stop(); await host?.stop(); await redis?.stop(); });

  test('a job created on one instance is polled on another, on the provider that created it, for its key only', async () => {
    await flaky.fault({ fault: 'status', status: 503, model: 'video-x' });
    const r = await create(gws[0], { model: 'video-x', prompt: 'a fox in the snow' });
    assert.equal(r.status, 200, await r.clone().text());
    const job = await r.json();
    await flaky.control('/mock/faults', 'DELETE');
    assert.equal((await videoCalls(host, 'POST')).length, 1, 'created on video-host after flaky failed');
    // Shared through Redis: the provider and the creator's key digest, with the TTL.
    const key = `anygpt:video:${job.request_id}`;
    const stored = await waitFor(() => redis.cli('HGET', key, 'provider') === 'video-host');
    assert.ok(stored, 'the job is in Redis');
    assert.equal(redis.cli('HGET', key, 'key'), digestOf(USER));
    const pttl = Number(redis.cli('PTTL', key));
    assert.ok(pttl > ttlMs - 60000 && pttl <= ttlMs, `PTTL ${pttl}`);

    const p = await poll(gws[1], job.request_id);
    assert.equal(p.status, 200, await p.clone().text());
    assert.equal((await p.json()).status, 'done');
    const gets = await videoCalls(host, 'GET');
    assert.equal(gets.length, 1, 'the poll on the second instance went to the creating provider');
    assert.equal(gets[0].path, `/v1/videos/${job.request_id}`);
    assert.equal(gets[0].headers.authorization, 'Bearer provider-secret-video-host');
    assert.equal((await videoCalls(flaky, 'GET')).length, 0, 'never to another provider');

    assert.equal((await poll(gws[1], job.request_id, OTHER)).status, 404, "another key's poll is a 404");
    assert.equal((await poll(gws[0], job.request_id, OTHER)).status, 404, '... on the creating instance too');
    assert.equal((await poll(gws[1], 'vid_unknown')).status, 404);
    assert.equal((await videoCalls(host, 'GET')).length, 1, 'nothing asked upstream for those');
  });

  test('with Redis down, the instance that knows the job still answers and the other says 404', async () => {
    await flaky.fault({ fault: 'status', status: 503, model: 'video-x' });  // (each mock numbers its own jobs)
    const r = await create(gws[0], { model: 'video-x', prompt: 'a second fox' });
    await flaky.control('/mock/faults', 'DELETE');
    assert.equal(r.status, 200);
    const job = await r.json();
    await waitFor(() => redis.cli('EXISTS', `anygpt:video:${job.request_id}`) === '1');
    await redis.stop('SIGKILL');
    assert.equal((await poll(gws[0], job.request_id)).status, 200, 'the local answer stands');
    const t0 = Date.now();
    const other = await poll(gws[1], job.request_id);
    assert.equal(other.status, 404, 'unknown here and Redis cannot be asked');
    assert.ok(Date.now() - t0 < 3000, 'answered without waiting long on Redis');
  });
});

describe('Redis killed under load', () => {
  let mock, redis, gw;
  const KEY = newKey();
  before(async () => {
    mock = await startMock();
    redis = await startRedis({ appendonly: true });
    gw = await startGateway({
      files: { tiers: { open: openTier(), enterprise: openTier() }, keys: userKeys({ [KEY]: { userId: 'load-user', tier: 'open' } }),
               providers: [mockProvider(mock)] },
      env: redisEnv(redis),
    });
  });
  after(async () => { await gw?.cleanup(); await mock?.stop(); await redis?.stop(); });

  test('no request fails, /ready shows the outage, and afterwards Redis counts exactly the requests served', async () => {
    let served = 0, failed = 0, stop = false, sawDegraded = false;
    const worker = async () => {
      while (!stop) {
        const r = await postChat(gw, ask(), KEY);
        await r.text();
        if (r.status === 200) served++; else failed++;
      }
    };
    const load = Promise.all([worker(), worker(), worker(), worker()]);
    await sleep(500);
    await redis.stop('SIGKILL');
    const down = Date.now();
    sawDegraded = !!await waitFor(async () => (await (await fetch(`${gw.url}/ready`)).json()).status === 'degraded', { timeoutMs: 3000 });
    await sleep(700);
    redis = await startRedis({ port: redis.port, dir: redis.dir, appendonly: true });
    console.log(`# redis down for ${Date.now() - down} ms`);
    const back = await waitFor(async () => (await (await fetch(`${gw.url}/ready`)).json()).redis === 'connected', { timeoutMs: 5000 });
    await sleep(500);
    stop = true;
    await load;
    assert.ok(back, 'reconnected');
    assert.ok(sawDegraded, '/ready reported the degraded state');
    assert.equal(failed, 0, `${failed} requests failed`);
    assert.ok(served > 50, `served ${served}`);
    const d = digestOf(KEY);
    const counted = await waitFor(() => Number(redis.cli('HGET', 'anygpt:usage', `${d}:r`)) === served && served, { timeoutMs: 3000 });
    assert.equal(Number(redis.cli('HGET', 'anygpt:usage', `${d}:r`)), served, 'usage in Redis equals requests served');
    assert.ok(counted);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /anygpt_redis_up 1/);
    assert.match(metrics, /anygpt_redis_outages_total [1-9]/);
    console.log(`# redis outage under load: ${served} served, 0 failed, totals equal`);
  });
});

describe('kill -9 in filesystem mode under load', () => {
  let mock, gw;
  const KEY = newKey();
  before(async () => {
    mock = await startMock();
    gw = await startGateway({
      files: { tiers: { open: openTier(), enterprise: openTier() }, keys: userKeys({ [KEY]: { userId: 'crash-user', tier: 'open' } }),
               providers: [mockProvider(mock)] },
      env: { FLUSH_INTERVAL_MS: '100' },
    });
  });
  after(async () => { await gw?.cleanup(); await mock?.stop(); });

  test('files are never corrupt, and at most the last flush interval of usage is lost', async () => {
    let served = 0, stop = false;
    const t0 = Date.now();
    const worker = async () => {
      while (!stop) {
        try {
          const r = await postChat(gw, ask(), KEY);
          await r.text();
          if (r.status === 200) served++;
        } catch { return; }
      }
    };
    const load = Promise.all([worker(), worker(), worker(), worker()]);
    await sleep(1500);
    gw.proc.kill('SIGKILL');
    stop = true;
    await load;
    const rate = served / ((Date.now() - t0) / 1000);
    for (const f of ['keys.json', 'providers.json', 'models.json', 'tiers.json']) JSON.parse(readFileSync(join(gw.dir, f), 'utf8'));
    const persisted = JSON.parse(readFileSync(join(gw.dir, 'keys.json'), 'utf8'))[KEY].requestCount;
    const lost = served - persisted;
    console.log(`# kill -9: served ${served}, persisted ${persisted}, lost ${lost} (${Math.round(rate)} req/s, flush every 100 ms)`);
    assert.ok(persisted <= served);
    // One flush interval of traffic, plus the write in progress and scheduling slack.
    assert.ok(lost <= Math.ceil(rate * 0.25) + 8, `lost ${lost} requests at ${Math.round(rate)} req/s`);
  });
});
