// Starts the real binaries (build/anygpt, build/anygpt-mock) on free loopback ports for tests,
// and always cleans them up.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';

export const BUILD_DIR = process.env.ANYGPT_BUILD_DIR ?? new URL('../../../build', import.meta.url).pathname;

const running = new Set();
process.on('exit', () => { for (const p of running) { try { p.kill('SIGKILL'); } catch {} } });

// Spawns `bin` and resolves once a stdout line matches `ready` (capturing group 1 = port).
export function startProcess(bin, { env = {}, cwd, ready, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, [], { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(proc);
    let out = '', err = '', done = false;
    const timer = setTimeout(() => finish(new Error(`${bin} did not start in ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`)), timeoutMs);
    function finish(e, port) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (e) { proc.kill('SIGKILL'); reject(e); return; }
      resolve(handle(proc, port, () => out, () => err));
    }
    proc.stdout.on('data', (d) => {
      out += d;
      const m = ready && out.match(ready);
      if (m) finish(null, Number(m[1]));
    });
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', (code, sig) => { running.delete(proc); finish(new Error(`${bin} exited (${code ?? sig}) before ready\nstdout: ${out}\nstderr: ${err}`)); });
  });
}

function handle(proc, port, stdout, stderr) {
  let stopping = false;
  proc.on('exit', (code, signal) => {
    if (!stopping) console.error(`!! ${proc.spawnfile} died unexpectedly (${code ?? signal})\n${stderr().slice(-4000)}`);
  });
  const exited = new Promise((r) => {
    if (proc.exitCode !== null || proc.signalCode !== null) r({ code: proc.exitCode, signal: proc.signalCode });
    else proc.on('exit', (code, signal) => r({ code, signal }));
  });
  return {
    proc, port, stdout, stderr, exited,
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      stopping = true;
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
}

// Runs a binary to completion (for start-up failures): resolves {code, stdout, stderr}.
export function runToExit(bin, { env = {}, cwd, args = [], timeoutMs = 10000 } = {}) {
  return new Promise((resolve) => {
    const proc = spawn(bin, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(proc);
    let out = '', err = '';
    const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', (code) => { clearTimeout(t); running.delete(proc); resolve({ code, stdout: out, stderr: err }); });
  });
}

export async function startMock(env = {}) {
  const m = await startProcess(join(BUILD_DIR, 'anygpt-mock'), {
    env: { MOCK_PROVIDER_PORT: '0', MOCK_HOST: '127.0.0.1', MOCK_ENABLE_LOGS: 'false', ...env },
    ready: /anygpt-mock listening on https?:\/\/[^:]+:(\d+)/,
  });
  m.url = `http://127.0.0.1:${m.port}`;
  m.control = async (path, method = 'GET', body) => {
    const r = await fetch(m.url + path, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
    return r.json();
  };
  m.fault = (spec) => m.control('/mock/faults', 'POST', spec);
  m.requests = () => m.control('/mock/requests');
  return m;
}

export function newKey() { return randomBytes(32).toString('hex'); }

// Writes data files into a fresh directory and starts the gateway on a free port.
// files: {providers, keys, tiers, models} objects (omitted ones are created by the server).
export async function startGateway({ files = {}, env = {}, dir } = {}) {
  dir = dir ?? mkdtempSync(join(tmpdir(), 'anygpt-test-'));
  for (const [name, content] of Object.entries(files)) {
    const fname = name === 'excluded' ? 'excluded-errors.json' : `${name}.json`;
    writeFileSync(join(dir, fname), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  const adminKey = env.DEFAULT_ADMIN_API_KEY ?? newKey();
  const g = await startProcess(join(BUILD_DIR, 'anygpt'), {
    cwd: dir,
    env: { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'warn', DEFAULT_ADMIN_USER_ID: 'admin',
           DEFAULT_ADMIN_API_KEY: adminKey, FLUSH_INTERVAL_MS: '100', ...env },
    ready: /anygpt listening on http:\/\/[^:]+:(\d+)/,
  });
  g.dir = dir;
  g.url = `http://127.0.0.1:${g.port}`;
  g.adminKey = adminKey;
  g.readJson = (name) => JSON.parse(readFileSync(join(dir, name), 'utf8'));
  g.cleanup = async () => { await g.stop('SIGKILL'); rmSync(dir, { recursive: true, force: true }); };
  return g;
}

export function mockProvider(mock, id = 'mock-provider', models = ['mock-gpt-4', 'gpt-3.5-turbo'], extra = {}) {
  const m = {};
  for (const id2 of models) m[id2] = { id: id2, token_generation_speed: 50, response_times: [], errors: 0, consecutive_errors: 0 };
  return { id, apiKey: `provider-secret-${id}`, provider_url: `${mock.url}/v1/chat/completions`, streamingCompatible: true,
           models: m, disabled: false, avg_response_time: null, avg_provider_latency: null, errors: 0, provider_score: null, ...extra };
}

export function userKeys(entries) {
  const keys = {};
  for (const [key, v] of Object.entries(entries)) keys[key] = { userId: v.userId, tokenUsage: v.tokenUsage ?? 0, requestCount: v.requestCount ?? 0, role: v.role ?? 'user', tier: v.tier ?? 'enterprise' };
  return keys;
}

// Reads an SSE body into its events' data payloads.
export async function sseEvents(response) {
  const text = await response.text();
  return text.split(/\r?\n\r?\n/).filter((e) => e.trim()).map((e) => e.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n'));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- Helpers for sdk/lifecycle/upstream/tls tests (appended) ----
import { createServer as createNetServer } from 'node:net';
import { readdirSync, readlinkSync } from 'node:fs';

// A TCP port that was free a moment ago on 127.0.0.1 (bind port 0, read it, close).
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Polls fn() until it returns a truthy value (returned) or timeoutMs passes (returns the last value).
export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 25 } = {}) {
  const end = Date.now() + timeoutMs;
  let v;
  for (;;) {
    v = await fn();
    if (v || Date.now() >= end) return v;
    await sleep(intervalMs);
  }
}

// Asserts an OpenAI-shaped error response; returns its `error` object.
export async function openAIError(res, status, code) {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected HTTP ${status}, got ${res.status}: ${text}`);
  let body;
  try { body = JSON.parse(text); } catch { throw new Error(`error body is not JSON: ${text}`); }
  const e = body?.error;
  if (!e || typeof e.message !== 'string' || !e.message || !('type' in e) || !('param' in e) || !('code' in e))
    throw new Error(`not an OpenAI error shape: ${text}`);
  if (code !== undefined && e.code !== code) throw new Error(`expected error.code ${code}, got ${e.code}: ${text}`);
  return e;
}

// A tier without limits that also ignores provider scores.
export const openTier = (extra = {}) => ({ rps: 10000, rpm: 500000, rpd: 5000000, max_tokens: null,
                                           min_provider_score: null, max_provider_score: null, ...extra });

// POST /v1/chat/completions on a started gateway.
export function postChat(gw, body, key, { headers = {}, signal } = {}) {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST', signal,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

// ESTABLISHED TCP connections whose remote end is 127.0.0.1:<port> (read from /proc/net/tcp*), i.e.
// the client side of connections to a local server such as the mock, as their local hex "addr:port".
// With pid, only the sockets that process holds open (e.g. the gateway's upstream connections, not
// the test's own).
export function connectionsTo(port, pid) {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let inodes = null;
  if (pid !== undefined) {
    inodes = new Set();
    let fds = [];
    try { fds = readdirSync(`/proc/${pid}/fd`); } catch { return []; }
    for (const fd of fds) {
      try {
        const m = readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
        if (m) inodes.add(m[1]);
      } catch {}
    }
  }
  const out = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try { text = readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      if (cols[2].endsWith(`:${hexPort}`) && cols[3] === '01' && (!inodes || inodes.has(cols[9]))) out.push(cols[1]);
    }
  }
  return out;
}

// How many of those connections there are.
export const establishedTo = (port, pid) => connectionsTo(port, pid).length;

// ---- Redis (a real redis-server on a free loopback port) ----
import { execFileSync } from 'node:child_process';

// Starts redis-server; with `dir` and appendonly, data survives a SIGKILL + restart on that dir.
export async function startRedis({ port, dir, appendonly = false } = {}) {
  port = port ?? await freePort();
  dir = dir ?? mkdtempSync(join(tmpdir(), 'anygpt-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir,
                '--appendonly', appendonly ? 'yes' : 'no', '--appendfsync', 'always'];
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let out = '';
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10000);
    proc.stdout.on('data', (d) => { out += d; if (out.includes('Ready to accept connections')) { clearTimeout(t); resolve(); } });
    proc.on('exit', (code) => { clearTimeout(t); reject(new Error(`redis-server exited (${code}): ${out}`)); });
  });
  proc.removeAllListeners('exit');
  const exited = new Promise((r) => proc.on('exit', () => { running.delete(proc); r(); }));
  return {
    port, dir, proc, url: `127.0.0.1:${port}`,
    cli: (...cmd) => execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...cmd.map(String)], { encoding: 'utf8' }).trim(),
    async stop(signal = 'SIGTERM') { if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal); await exited; },
  };
}

// SHA-256 hex of a key: its id in anygpt's Redis layout.
import { createHash } from 'node:crypto';
export const digestOf = (key) => createHash('sha256').update(key).digest('hex');

// The token usage the gateway counted for `key` (GET /v1/keys/me).
export async function tokensUsed(gw, key) {
  const r = await fetch(`${gw.url}/v1/keys/me`, { headers: { authorization: `Bearer ${key}` } });
  return (await r.json()).usage.token_usage;
}

// The POST requests a mock recorded (its model calls), oldest first.
export async function modelPosts(mock) {
  return (await mock.requests()).requests.filter((r) => r.method === 'POST');
}

// Awaits a promise that must reject with an instance of cls (an SDK error class); returns the error.
export async function rejectsWith(promise, cls) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e?.constructor?.name}: ${e?.message}`);
    return e;
  }
  assert.fail(`expected ${cls.name}, but the call succeeded`);
}
