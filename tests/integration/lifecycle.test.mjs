// Start-up and shutdown of the real binary: --help, configuration errors, corrupt data files,
// first start on an empty data dir, .env, and graceful drain + usage flush on SIGTERM.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUILD_DIR, runToExit, startMock, startGateway, mockProvider, userKeys, newKey, sleep,
  freePort, waitFor, openTier, postChat,
} from './lib/harness.mjs';

const GATEWAY = join(BUILD_DIR, 'anygpt');
const dirs = [];
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'anygpt-life-')); dirs.push(d); return d; };
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

// Environment for a run that must fail before listening: everything inside `dir`.
const runEnv = (dir, extra = {}) => ({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'warn', ...extra });
const hello = { model: 'mock-gpt-4', messages: [{ role: 'user', content: 'hello there' }] };

// Resolves 'connected' or the error code of a fresh TCP connection attempt.
function tryConnect(port) {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve('connected'); });
    s.once('error', (e) => resolve(e.code));
  });
}

describe('command line and configuration', () => {
  test('--help exits 0 and lists the variables', async () => {
    const r = await runToExit(GATEWAY, { args: ['--help'], cwd: tmp() });
    assert.equal(r.code, 0, r.stderr);
    for (const v of ['PORT', 'HOST', 'DATA_DIR', 'LOG_LEVEL', 'DATA_SOURCE_PREFERENCE', 'UPSTREAM_TIMEOUT_MS',
      'UPSTREAM_CONNECT_TIMEOUT_MS', 'UPSTREAM_FIRST_BYTE_TIMEOUT_MS', 'UPSTREAM_IDLE_TIMEOUT_MS',
      'SHUTDOWN_TIMEOUT_MS', 'FLUSH_INTERVAL_MS', 'MAX_BODY_LENGTH', 'DEFAULT_ADMIN_API_KEY'])
      assert.match(r.stdout, new RegExp(`^\\s+${v}\\s`, 'm'), `${v} listed`);
    assert.match(r.stdout, /\.env/);
  });

  test('an unknown argument exits non-zero', async () => {
    const dir = tmp();
    const r = await runToExit(GATEWAY, { args: ['--frobnicate'], cwd: dir, env: runEnv(dir) });
    assert.notEqual(r.code, 0);
    assert.notEqual(r.code, null);
    assert.match(r.stderr, /--frobnicate/);
  });

  for (const [name, value] of [['PORT', 'abc'], ['PORT', '70000'], ['DATA_SOURCE_PREFERENCE', 'mongodb'],
    ['UPSTREAM_FIRST_BYTE_TIMEOUT_MS', 'soon'], ['LOG_LEVEL', 'loud'], ['FLUSH_INTERVAL_MS', '10']]) {
    test(`${name}=${value} exits non-zero naming the variable, before touching the data dir`, async () => {
      const dir = tmp();
      const t0 = Date.now();
      const r = await runToExit(GATEWAY, { cwd: dir, env: runEnv(dir, { [name]: value }) });
      assert.notEqual(r.code, null, 'exited by itself');
      assert.notEqual(r.code, 0);
      assert.ok(Date.now() - t0 < 3000);
      assert.match(r.stderr, new RegExp(`\\b${name}\\b`));
      assert.ok(r.stderr.includes(value), r.stderr);
      assert.deepEqual(readdirSync(dir), [], 'no data file created');
    });
  }
});

describe('data files', () => {
  const corrupt = {
    'keys.json': '{\n  "k1": {\n    "userId": "alice"\n    "role": "user"\n  }\n}\n',  // missing comma: line 4
    'providers.json': '[\n  {\n    "id": \'mock\',\n    "provider_url": "http://127.0.0.1:1/v1"\n  }\n]\n',  // quote: line 3
  };
  for (const [file, text] of Object.entries(corrupt)) {
    test(`a corrupt ${file} stops the start naming the file and the line, and is left unchanged`, async () => {
      const dir = tmp();
      const bytes = Buffer.from(text, 'utf8');
      writeFileSync(join(dir, file), bytes);
      const line = file === 'keys.json' ? 4 : 3;
      const r = await runToExit(GATEWAY, { cwd: dir, env: runEnv(dir) });
      assert.notEqual(r.code, null);
      assert.notEqual(r.code, 0);
      assert.ok(r.stderr.includes(file), r.stderr);
      assert.match(r.stderr, new RegExp(`line ${line}\\b`), r.stderr);
      assert.ok(Buffer.compare(readFileSync(join(dir, file)), bytes) === 0, `${file} unchanged byte for byte`);
      assert.ok(!r.stdout.includes('listening'), 'never listened');
      assert.ok(!readdirSync(dir).some((f) => f.includes('.tmp')), 'no temp file left');
    });
  }

  test('a well-formed file of the wrong shape stops the start naming the file', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'providers.json'), '{"id":"x"}\n');
    const r = await runToExit(GATEWAY, { cwd: dir, env: runEnv(dir) });
    assert.notEqual(r.code, null);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /providers\.json/);
    assert.equal(readFileSync(join(dir, 'providers.json'), 'utf8'), '{"id":"x"}\n');
  });

  test('a fresh data dir gets the five files with defaults, and the admin key works', async () => {
    const dir = tmp();
    assert.deepEqual(readdirSync(dir), []);
    const gw = await startGateway({ dir, env: { DEFAULT_ADMIN_USER_ID: 'root-admin' } });
    try {
      assert.deepEqual(readdirSync(dir).sort(),
        ['excluded-errors.json', 'keys.json', 'models.json', 'providers.json', 'tiers.json']);
      assert.deepEqual(gw.readJson('providers.json'), []);
      assert.deepEqual(gw.readJson('models.json'), { object: 'list', data: [] });
      const tiers = gw.readJson('tiers.json');
      for (const t of ['free', 'pro', 'enterprise']) assert.equal(typeof tiers[t], 'object', `tier ${t}`);
      assert.equal(tiers.enterprise.max_tokens, null);
      const patterns = gw.readJson('excluded-errors.json').patterns;
      assert.ok(Array.isArray(patterns) && patterns.length > 0 && patterns.every((p) => typeof p === 'string'));
      const keys = gw.readJson('keys.json');
      assert.deepEqual(Object.keys(keys), [gw.adminKey]);
      assert.equal(keys[gw.adminKey].role, 'admin');
      assert.equal(keys[gw.adminKey].userId, 'root-admin');
      const me = await fetch(`${gw.url}/v1/keys/me`, { headers: { authorization: `Bearer ${gw.adminKey}` } });
      assert.equal(me.status, 200);
      assert.equal((await me.json()).user.role, 'admin');
    } finally {
      await gw.cleanup();
    }
  });

  test('a DATA_DIR that does not exist yet is created and filled', async () => {
    const cwd = tmp();
    const data = join(cwd, 'data');
    const gw = await startGateway({ dir: cwd, env: { DATA_DIR: data } });
    try {
      assert.ok(existsSync(data));
      assert.deepEqual(readdirSync(data).sort(),
        ['excluded-errors.json', 'keys.json', 'models.json', 'providers.json', 'tiers.json']);
      assert.equal(JSON.parse(readFileSync(join(data, 'keys.json'), 'utf8'))[gw.adminKey].role, 'admin');
      assert.deepEqual(readdirSync(cwd), ['data'], 'nothing written to the working directory');
    } finally {
      await gw.cleanup();
    }
  });

  test('without DEFAULT_ADMIN_API_KEY a random admin key is printed once, only at the first start', async () => {
    const dir = tmp();
    const env = { DEFAULT_ADMIN_API_KEY: undefined, DEFAULT_ADMIN_USER_ID: undefined };
    const first = await startGateway({ dir, env });
    let key;
    try {
      const m = first.stdout().match(/\b([0-9a-f]{64})\b/);
      assert.ok(m, `key printed: ${first.stdout()}`);
      key = m[1];
      const keys = first.readJson('keys.json');
      assert.deepEqual(Object.keys(keys), [key]);
      assert.equal(keys[key].role, 'admin');
      const me = await fetch(`${first.url}/v1/keys/me`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal((await me.json()).user.role, 'admin');
    } finally {
      await first.stop('SIGTERM');
    }
    const second = await startGateway({ dir, env });
    try {
      assert.ok(!/\b[0-9a-f]{64}\b/.test(second.stdout()), 'no key printed the second time');
      assert.deepEqual(Object.keys(second.readJson('keys.json')), [key]);
    } finally {
      await second.stop('SIGTERM');
    }
  });
});

describe('.env in the working directory', () => {
  let mock;
  after(async () => { await mock?.stop(); });
  const USER = newKey();
  const files = () => ({
    tiers: { open: openTier(), enterprise: openTier() },
    keys: userKeys({ [USER]: { userId: 'dotenv', tier: 'open' } }),
    providers: [mockProvider(mock, 'mock-a', ['mock-gpt-4'])],
  });
  const debugLines = (gw) => gw.stderr().split('\n').filter((l) => l.includes('"level":"debug"'));

  test('.env values apply where the environment is silent, and the environment wins', async () => {
    mock = await startMock();
    const [envPort, dotenvPort] = [await freePort(), await freePort()];
    const dir = tmp();
    writeFileSync(join(dir, '.env'), [
      '# settings for the test', `PORT=${dotenvPort}`, 'LOG_LEVEL="debug"', 'export SHUTDOWN_TIMEOUT_MS=2000 # inline comment', '',
    ].join('\n'));
    // PORT from the environment wins over .env; LOG_LEVEL comes from .env.
    const gw = await startGateway({ dir, files: files(), env: { PORT: String(envPort), LOG_LEVEL: undefined } });
    try {
      assert.equal(gw.port, envPort);
      const r = await postChat(gw, hello, USER);
      assert.equal(r.status, 200);
      await r.json();
      assert.ok(await waitFor(() => debugLines(gw).length > 0), `debug logging from .env: ${gw.stderr()}`);
    } finally {
      await gw.stop('SIGTERM');
    }
    // Without PORT in the environment, .env's PORT is used; LOG_LEVEL from the environment wins.
    const gw2 = await startGateway({ dir, files: files(), env: { PORT: undefined, LOG_LEVEL: 'warn' } });
    try {
      assert.equal(gw2.port, dotenvPort);
      const r = await postChat(gw2, hello, USER);
      assert.equal(r.status, 200);
      await r.json();
      await sleep(200);
      assert.deepEqual(debugLines(gw2), []);
    } finally {
      await gw2.stop('SIGTERM');
    }
  });

  test('a malformed value in .env stops the start naming the variable', async () => {
    const dir = tmp();
    writeFileSync(join(dir, '.env'), 'UPSTREAM_TIMEOUT_MS=forever\n');
    const r = await runToExit(GATEWAY, { cwd: dir, env: runEnv(dir) });
    assert.notEqual(r.code, null);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /UPSTREAM_TIMEOUT_MS/);
    assert.match(r.stderr, /forever/);
  });
});

describe('SIGTERM', () => {
  let mock;
  after(async () => { await mock?.stop(); });
  const USER = newKey();
  const files = () => ({
    tiers: { open: openTier(), enterprise: openTier() },
    keys: userKeys({ [USER]: { userId: 'drain', tier: 'open' } }),
    providers: [mockProvider(mock, 'mock-a', ['mock-gpt-4'])],
  });

  test('an in-flight request completes, new connections are refused, exit 0, usage persisted', async () => {
    mock = await startMock();
    await mock.fault({ fault: 'slow_first_token', delayMs: 1500, count: 1 });
    const gw = await startGateway({ files: files() });
    let exited;
    try {
      assert.equal(gw.readJson('keys.json')[USER].requestCount, 0);
      const pending = postChat(gw, hello, USER).then(async (r) => ({ status: r.status, body: await r.json(), at: Date.now() }));
      assert.ok(await waitFor(async () => (await mock.requests()).total === 1), 'request reached the mock');
      exited = gw.stop('SIGTERM', 10000).then((r) => ({ ...r, at: Date.now() }));
      await sleep(300);
      assert.equal(await tryConnect(gw.port), 'ECONNREFUSED', 'new connections refused while draining');
      const res = await pending;
      assert.equal(res.status, 200);
      assert.equal(res.body.object, 'chat.completion');
      const ex = await exited;
      assert.deepEqual([ex.code, ex.signal], [0, null]);
      assert.ok(ex.at - res.at < 1500, `exited ${ex.at - res.at} ms after the last request finished`);
      const rec = gw.readJson('keys.json')[USER];
      assert.equal(rec.requestCount, 1);
      assert.equal(rec.tokenUsage, res.body.usage.total_tokens);
    } finally {
      await gw.cleanup();
    }
  });

  test('an in-flight stream is relayed to the end ([DONE]) after SIGTERM', async () => {
    await mock.control('/mock/requests', 'DELETE');
    await mock.control('/mock/config', 'POST', { streamChunks: 10, chunkIntervalMs: 100 });  // ~1 s stream
    const gw = await startGateway({ files: files() });
    try {
      const r = await postChat(gw, { ...hello, stream: true }, USER);
      assert.equal(r.status, 200);
      const body = r.text();
      assert.ok(await waitFor(async () => (await mock.requests()).total === 1));
      const exited = gw.stop('SIGTERM', 10000);
      const text = await body;
      const events = text.split('\n\n').filter((e) => e.trim());
      assert.equal(events.at(-1), 'data: [DONE]', text.slice(-300));
      assert.ok(!text.includes('"error"'));
      const ex = await exited;
      assert.deepEqual([ex.code, ex.signal], [0, null]);
      assert.equal(gw.readJson('keys.json')[USER].requestCount, 1);
    } finally {
      await gw.cleanup();
      await mock.control('/mock/config', 'POST', { streamChunks: 0, chunkIntervalMs: 0 });
    }
  });

  test('SIGINT drains and flushes like SIGTERM', async () => {
    const gw = await startGateway({ files: files(), env: { FLUSH_INTERVAL_MS: '3600000' } });
    try {
      const r = await postChat(gw, hello, USER);
      assert.equal(r.status, 200);
      await r.json();
      const ex = await gw.stop('SIGINT', 10000);
      assert.deepEqual([ex.code, ex.signal], [0, null]);
      assert.equal(gw.readJson('keys.json')[USER].requestCount, 1);
    } finally {
      await gw.cleanup();
    }
  });

  test('with a huge FLUSH_INTERVAL_MS, usage is still flushed on SIGTERM', async () => {
    const gw = await startGateway({ files: files(), env: { FLUSH_INTERVAL_MS: '3600000' } });
    try {
      let total = 0;
      for (let i = 0; i < 3; i++) {
        const r = await postChat(gw, hello, USER);
        assert.equal(r.status, 200);
        total += (await r.json()).usage.total_tokens;
      }
      await sleep(300);
      assert.equal(gw.readJson('keys.json')[USER].requestCount, 0, 'not flushed yet (interval is an hour)');
      const t0 = Date.now();
      const ex = await gw.stop('SIGTERM', 10000);
      assert.deepEqual([ex.code, ex.signal], [0, null]);
      assert.ok(Date.now() - t0 < 2000, `an idle gateway exits promptly (${Date.now() - t0} ms)`);
      const rec = gw.readJson('keys.json')[USER];
      assert.equal(rec.requestCount, 3);
      assert.equal(rec.tokenUsage, total);
      assert.ok(!readdirSync(gw.dir).some((f) => f.includes('.tmp')), 'no temp file left');
    } finally {
      await gw.cleanup();
    }
  });

  test('a request longer than SHUTDOWN_TIMEOUT_MS is cut and the process still exits 0 promptly', async () => {
    await mock.control('/mock/requests', 'DELETE');
    await mock.fault({ fault: 'slow_first_token', delayMs: 5000, count: 1 });
    const gw = await startGateway({ files: files(), env: { SHUTDOWN_TIMEOUT_MS: '300' } });
    try {
      const pending = postChat(gw, hello, USER).then((r) => r.text().then((t) => ({ status: r.status, t })), (e) => ({ error: e }));
      assert.ok(await waitFor(async () => (await mock.requests()).total === 1));
      const t0 = Date.now();
      const ex = await gw.stop('SIGTERM', 10000);
      const elapsed = Date.now() - t0;
      assert.deepEqual([ex.code, ex.signal], [0, null]);
      assert.ok(elapsed < 2000, `exited after ${elapsed} ms`);
      const res = await pending;
      assert.notEqual(res.status, 200, 'the cut request did not succeed');
      assert.equal(gw.readJson('keys.json')[USER].requestCount, 0, 'the cut request is not billed');
    } finally {
      await gw.cleanup();
      await mock.control('/mock/faults', 'DELETE');
    }
  });
});

describe('access log', () => {
  test('one JSON line per request at info level, with status and request id, never the key', async () => {
    const gw = await startGateway({ env: { LOG_LEVEL: 'info' } });
    try {
      const secret = 'sk-this-must-not-be-logged-123456';
      const r = await fetch(`${gw.url}/v1/keys/me?api-key=${secret}`, { headers: { authorization: `Bearer ${secret}`, 'x-request-id': 'trace-access-1' } });
      assert.equal(r.status, 401);
      await r.arrayBuffer();
      await gw.stop();
      const lines = gw.stderr().split('\n').filter((l) => l.includes('"msg":"request"'));
      const line = lines.map((l) => JSON.parse(l)).find((l) => l.request_id === 'trace-access-1');
      assert.ok(line, `access line present in: ${gw.stderr()}`);
      assert.equal(line.status, 401);
      assert.equal(line.method, 'GET');
      assert.equal(line.path, '/v1/keys/me');
      assert.equal(typeof line.ms, 'number');
      assert.ok(!gw.stderr().includes(secret), 'the key is never logged');
    } finally {
      await gw.cleanup();
    }
  });
});
