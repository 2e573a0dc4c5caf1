// HTTPS upstreams with certificate verification: a throwaway CA (openssl CLI) and nginx
// terminating TLS in front of the mock. The gateway must trust exactly what SSL_CERT_FILE says.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import {
  startMock, startGateway, mockProvider, userKeys, newKey, sseEvents,
  freePort, waitFor, openAIError, openTier, postChat, connectionsTo,
} from './lib/harness.mjs';

const NGINX = '/usr/sbin/nginx';
const USER = newKey();
const hello = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra });
let dir, mock, nginxProc, goodPort, wrongNamePort;

function openssl(...args) { execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }); }

// A CA (name.pem/name.key) and a server certificate signed by it.
function makeCa(name) {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=anygpt test ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
}
function makeServerCert(name, ca, san) {
  writeFileSync(join(dir, `${name}.ext`),
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`);
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
}

function tcpOpen(port) {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anygpt-tls-'));
  makeCa('ca');
  makeCa('other-ca');
  makeServerCert('server', 'ca', 'IP:127.0.0.1,DNS:localhost');
  makeServerCert('wrong-name', 'ca', 'DNS:not-this-host.example');
  mock = await startMock();
  [goodPort, wrongNamePort] = [await freePort(), await freePort()];
  for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, `${t}_temp`));
  const server = (port, cert) => `
    server {
      listen 127.0.0.1:${port} ssl;
      ssl_certificate ${dir}/${cert}.pem;
      ssl_certificate_key ${dir}/${cert}.key;
      location / {
        proxy_pass http://mock_upstream;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffering off;
        proxy_read_timeout 30s;
      }
    }`;
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body_temp;
  proxy_temp_path ${dir}/proxy_temp;
  fastcgi_temp_path ${dir}/fastcgi_temp;
  uwsgi_temp_path ${dir}/uwsgi_temp;
  scgi_temp_path ${dir}/scgi_temp;
  upstream mock_upstream { server 127.0.0.1:${mock.port}; keepalive 16; }
  ${server(goodPort, 'server')}
  ${server(wrongNamePort, 'wrong-name')}
}
`);
  // nginx writes no ready line (startProcess needs one): spawn it here and wait until both ports accept.
  nginxProc = spawn(NGINX, ['-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`, '-p', `${dir}/`, '-g', 'daemon off;'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  process.on('exit', () => { try { nginxProc.kill('SIGKILL'); } catch {} });
  let err = '';
  nginxProc.stderr.on('data', (d) => { err += d; });
  const up = await waitFor(async () => nginxProc.exitCode === null && await tcpOpen(goodPort) && await tcpOpen(wrongNamePort),
    { timeoutMs: 10000, intervalMs: 50 });
  if (!up) {
    let log = '';
    try { log = readFileSync(`${dir}/error.log`, 'utf8'); } catch {}
    throw new Error(`nginx did not start (exit ${nginxProc.exitCode}): ${err}\n${log}`);
  }
});

after(async () => {
  if (nginxProc && nginxProc.exitCode === null) {
    const gone = new Promise((r) => nginxProc.once('exit', r));
    nginxProc.kill('SIGTERM');
    const t = setTimeout(() => nginxProc.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  }
  await mock?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const providers = () => [
  mockProvider(mock, 'tls-localhost', ['mock-gpt-4'], { provider_url: `https://localhost:${goodPort}/v1/chat/completions` }),
  mockProvider(mock, 'tls-ip', ['ip-model'], { provider_url: `https://127.0.0.1:${goodPort}/v1/chat/completions` }),
  mockProvider(mock, 'tls-wrong-name', ['wrong-name-model'], { provider_url: `https://localhost:${wrongNamePort}/v1/chat/completions` }),
];
const startTlsGateway = (env) => startGateway({
  files: { tiers: { open: openTier(), enterprise: openTier() }, keys: userKeys({ [USER]: { userId: 'tls', tier: 'open' } }), providers: providers() },
  env: { SSL_CERT_DIR: undefined, UPSTREAM_CONNECT_TIMEOUT_MS: '3000', ...env },
});

describe('trusting the test CA through SSL_CERT_FILE', () => {
  let gw;
  before(async () => { gw = await startTlsGateway({ SSL_CERT_FILE: join(dir, 'ca.pem') }); });
  after(async () => { await gw?.cleanup(); });

  test('the nginx front serves TLS with a chain that verifies against the CA only', () => {
    const verify = (ca) => {
      try {
        execFileSync('openssl', ['s_client', '-connect', `127.0.0.1:${goodPort}`, '-servername', 'localhost',
          '-verify_hostname', 'localhost', '-CAfile', join(dir, ca), '-verify_return_error', '-brief'],
        { input: '', stdio: ['pipe', 'pipe', 'pipe'], timeout: 10000 });
        return true;
      } catch { return false; }
    };
    assert.equal(verify('ca.pem'), true);
    assert.equal(verify('other-ca.pem'), false);
  });

  test('chat over https://localhost succeeds (200) and reaches the mock', async () => {
    await mock.control('/mock/requests', 'DELETE');
    const r = await postChat(gw, hello('mock-gpt-4'), USER);
    assert.equal(r.status, 200, await r.clone().text());
    const body = await r.json();
    assert.equal(body.object, 'chat.completion');
    assert.match(body.choices[0].message.content, /Hello/);
    const seen = (await mock.requests()).requests.at(-1);
    assert.equal(seen.headers.authorization, 'Bearer provider-secret-tls-localhost');
  });

  test('an IP-address URL is verified against the IP subjectAltName', async () => {
    const r = await postChat(gw, hello('ip-model'), USER);
    assert.equal(r.status, 200, await r.clone().text());
    await r.json();
  });

  test('streaming over TLS relays every chunk and [DONE]', async () => {
    const r = await postChat(gw, hello('mock-gpt-4', { stream: true }), USER);
    assert.equal(r.status, 200);
    const events = await sseEvents(r);
    assert.equal(events.at(-1), '[DONE]');
    const text = events.slice(0, -1).map((e) => JSON.parse(e).choices[0]?.delta?.content ?? '').join('');
    assert.match(text, /^Hello! I am the anygpt mock provider/);
  });

  test('sequential requests over TLS reuse one kept-alive connection', async () => {
    const once = async (i) => {
      const r = await postChat(gw, hello('mock-gpt-4'), USER);
      assert.equal(r.status, 200, `request ${i}`);
      await r.json();
    };
    await once(0);
    const first = connectionsTo(goodPort, gw.proc.pid).sort();  // localhost and 127.0.0.1 pool apart
    assert.ok(first.length >= 1, 'the connection is kept alive');
    for (let i = 1; i <= 5; i++) await once(i);
    assert.deepEqual(connectionsTo(goodPort, gw.proc.pid).sort(), first, 'the same connection(s), none new');
  });

  test('a certificate for another host name is rejected even though the CA is trusted', async () => {
    const t0 = Date.now();
    const r = await postChat(gw, hello('wrong-name-model'), USER);
    const e = await openAIError(r, r.status);
    assert.ok(r.status >= 500 && r.status <= 599, `status ${r.status}`);
    assert.ok(Date.now() - t0 < 3000);
    assert.match(e.message, /TLS|SSL|certificate/i);
  });
});

for (const [label, env] of [
  ['without SSL_CERT_FILE (system trust store only)', () => ({ SSL_CERT_FILE: undefined })],
  ['with SSL_CERT_FILE naming a different CA', () => ({ SSL_CERT_FILE: join(dir, 'other-ca.pem') })],
]) {
  describe(label, () => {
    let gw;
    before(async () => {
      gw = await startTlsGateway(env());
    });
    after(async () => { await gw?.cleanup(); });

    test('the request fails quickly with a 5xx OpenAI error that names TLS/certificate', async () => {
      await mock.control('/mock/requests', 'DELETE');
      const t0 = Date.now();
      const r = await postChat(gw, hello('mock-gpt-4'), USER);
      const text = await r.clone().text();
      const e = await openAIError(r, r.status);
      const elapsed = Date.now() - t0;
      assert.ok(r.status >= 500 && r.status <= 599, `status ${r.status}: ${text}`);
      assert.ok(elapsed < 3000, `took ${elapsed} ms`);
      assert.match(e.message, /TLS|SSL|certificate/i);
      assert.ok(!text.includes('provider-secret'), 'provider key not leaked');
      assert.equal((await mock.requests()).total, 0, 'nothing was sent through the untrusted connection');
      // The gateway stays healthy.
      assert.equal((await fetch(`${gw.url}/health`)).status, 200);
    });

    test('streaming fails the same way, before any SSE is sent', async () => {
      const r = await postChat(gw, hello('mock-gpt-4', { stream: true }), USER);
      assert.ok(r.status >= 500 && r.status <= 599, `status ${r.status}`);
      assert.match(r.headers.get('content-type'), /application\/json/);
      const e = await openAIError(r, r.status);
      assert.match(e.message, /TLS|SSL|certificate/i);
    });
  });
}
