// Image URL inlining (docs/IMAGE_FETCH.md) end to end: a loopback image server, the gateway with
// IMAGE_FETCH_INLINE, the official `openai` SDK as the client and the mock as the provider, which
// records what reached it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startMock, startGateway, mockProvider, userKeys, newKey, openTier } from './lib/harness.mjs';

const USER = newKey();
// A 1x1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const DATA_URL = `data:image/png;base64,${PNG.toString('base64')}`;

let mock, images, imageBase, gwOn, gwStrict, gwOff, gwTls, tlsImages, certDir;
const seenByImages = [];  // {url, headers} per request the image server got

function startImageServer() {
  return new Promise((resolve) => {
    const s = createServer((req, res) => {
      seenByImages.push({ url: req.url, headers: req.headers });
      if (req.url.startsWith('/cat.png')) {
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
        res.end(PNG);
      } else if (req.url === '/page') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!DOCTYPE html><html><body>not an image</body></html>');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

// A throwaway CA (openssl CLI) and an HTTPS image server on 127.0.0.1:0 whose certificate names
// localhost and 127.0.0.1; records the SNI name of each request.
function startTlsImageServer() {
  certDir = mkdtempSync(join(tmpdir(), 'anygpt-imgtls-'));
  const openssl = (...args) => execFileSync('openssl', args, { cwd: certDir, stdio: ['ignore', 'pipe', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key',
    '-out', 'ca.pem', '-days', '2', '-subj', '/CN=anygpt image test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  writeFileSync(join(certDir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key',
    '-out', 'server.csr', '-subj', '/CN=localhost');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out',
    'server.pem', '-days', '2', '-extfile', 'server.ext');
  return new Promise((resolve) => {
    const s = createTlsServer({ key: readFileSync(join(certDir, 'server.key')), cert: readFileSync(join(certDir, 'server.pem')) },
      (req, res) => {
        seenByImages.push({ url: req.url, headers: req.headers, servername: req.socket.servername ?? null });
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
        res.end(PNG);
      });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

const files = () => ({
  tiers: { enterprise: openTier() },
  keys: userKeys({ [USER]: { userId: 'img-user' } }),
  providers: [mockProvider(mock, 'mock-a', ['mock-gpt-4'])],
});
const client = (gw, extra = {}) => new OpenAI({ apiKey: USER, baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 15000, ...extra });
const withImage = (marker, url, extra = {}) => ({
  model: 'mock-gpt-4',
  messages: [{ role: 'user', content: [{ type: 'text', text: marker },
                                       { type: 'image_url', image_url: { url, detail: 'low' } }] }],
  ...extra,
});

// The request the mock received whose first text part is `marker`.
async function atMock(marker) {
  const { requests } = await mock.requests();
  return requests.find((r) => r.bodyJson?.messages?.[0]?.content?.[0]?.text === marker);
}

before(async () => {
  images = await startImageServer();
  imageBase = `http://127.0.0.1:${images.address().port}`;
  mock = await startMock();
  gwOn = await startGateway({ files: files(), env: { IMAGE_FETCH_INLINE: 'true', IMAGE_FETCH_ALLOW_PRIVATE: 'true',
                                                     IMAGE_FETCH_FORWARD_AUTH: 'true' } });
  gwStrict = await startGateway({ files: files(), env: { IMAGE_FETCH_INLINE: 'true' } });
  gwOff = await startGateway({ files: files() });
  tlsImages = await startTlsImageServer();
  gwTls = await startGateway({ files: files(), env: { IMAGE_FETCH_INLINE: 'true', IMAGE_FETCH_ALLOW_PRIVATE: 'true',
                                                      SSL_CERT_FILE: join(certDir, 'ca.pem') } });
});
after(async () => {
  await gwOn?.cleanup();
  await gwStrict?.cleanup();
  await gwOff?.cleanup();
  await gwTls?.cleanup();
  await mock?.stop();
  await new Promise((r) => (images ? images.close(r) : r()));
  await new Promise((r) => (tlsImages ? tlsImages.close(r) : r()));
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

describe('image URLs inlined (IMAGE_FETCH_INLINE=true, IMAGE_FETCH_ALLOW_PRIVATE=true)', () => {
  test('an SDK chat request reaches the provider with the image as a data URL', async () => {
    const before = seenByImages.length;
    const r = await client(gwOn).chat.completions.create(withImage('inline-1', `${imageBase}/cat.png?v=1`));
    assert.equal(r.object, 'chat.completion');
    const got = await atMock('inline-1');
    assert.ok(got, 'the request reached the mock');
    const part = got.bodyJson.messages[0].content[1];
    assert.equal(part.type, 'image_url');
    assert.equal(part.image_url.url, DATA_URL);
    assert.equal(part.image_url.detail, 'low');
    assert.equal(seenByImages.length, before + 1);
    assert.equal(seenByImages.at(-1).url, '/cat.png?v=1');
  });

  test("the client's Authorization never reaches the image host; its image credential and referer do", async () => {
    await client(gwOn, { defaultHeaders: { 'x-image-fetch-authorization': 'Bearer image-host-token',
                                           'x-image-fetch-referer': 'https://app.example/chat' } })
      .chat.completions.create(withImage('inline-2', `${imageBase}/cat.png?v=2`));
    const req = seenByImages.find((s) => s.url === '/cat.png?v=2');
    assert.ok(req);
    assert.equal(req.headers.authorization, 'Bearer image-host-token');
    assert.equal(req.headers.referer, 'https://app.example/chat');
    assert.equal(req.headers['x-image-fetch-authorization'], undefined);
    for (const [name, value] of Object.entries(req.headers))
      assert.ok(!String(value).includes(USER), `the anygpt key leaked in ${name}`);
    const plain = seenByImages.find((s) => s.url === '/cat.png?v=1');
    assert.equal(plain.headers.authorization, undefined);
    for (const [name, value] of Object.entries(plain.headers))
      assert.ok(!String(value).includes(USER), `the anygpt key leaked in ${name}`);
  });

  test('an image credential carrying the anygpt key is refused, and nothing is fetched', async () => {
    const before = seenByImages.length;
    const r = await fetch(`${gwOn.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${USER}`,
                 'x-image-fetch-authorization': `Bearer ${USER}` },
      body: JSON.stringify(withImage('inline-3', `${imageBase}/cat.png?v=3`)),
    });
    assert.equal(r.status, 400);
    const { error } = await r.json();
    assert.equal(error.code, 'image_credential_is_api_key');
    assert.ok(!error.message.includes(USER));
    assert.equal(seenByImages.length, before);
  });

  test('a stream request and the /v6 (OpenRouter) route are inlined too', async () => {
    const stream = await client(gwOn).chat.completions.create(withImage('inline-4', `${imageBase}/cat.png`, { stream: true }));
    for await (const _ of stream) { /* drain */ }
    assert.equal((await atMock('inline-4')).bodyJson.messages[0].content[1].image_url.url, DATA_URL);
    const r = await fetch(`${gwOn.url}/v6/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${USER}` },
      body: JSON.stringify(withImage('inline-5', `${imageBase}/cat.png`)),
    });
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal((await atMock('inline-5')).bodyJson.messages[0].content[1].image_url.url, DATA_URL);
  });

  test('an Anthropic request translated for an OpenAI provider gets its URL image inlined', async () => {
    const r = await fetch(`${gwOn.url}/v3/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': USER, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'mock-gpt-4', max_tokens: 50, messages: [{ role: 'user', content: [
        { type: 'text', text: 'inline-6' }, { type: 'image', source: { type: 'url', url: `${imageBase}/cat.png` } }] }] }),
    });
    assert.equal(r.status, 200, await r.clone().text());
    const { requests } = await mock.requests();
    const got = requests.find((q) => JSON.stringify(q.bodyJson?.messages ?? []).includes('inline-6'));
    assert.ok(got);
    assert.ok(JSON.stringify(got.bodyJson).includes(DATA_URL));
  });

  test('HTML served instead of an image answers 400 naming the host and the reason', async () => {
    const e = await client(gwOn).chat.completions.create(withImage('inline-7', `${imageBase}/page`)).catch((x) => x);
    assert.ok(e instanceof OpenAI.BadRequestError, String(e));
    assert.match(e.message, /host '127\.0\.0\.1'/);
    assert.match(e.message, /content type 'text\/html' is not an image type/);
    assert.equal(e.code, 'image_url_refused');
    assert.equal(e.param, 'messages[0].content[1].image_url.url');
    assert.equal(await atMock('inline-7'), undefined);
  });
});

describe('image URLs refused (IMAGE_FETCH_ALLOW_PRIVATE=false)', () => {
  test('a loopback image URL answers 400 naming the host and nothing goes upstream', async () => {
    const before = seenByImages.length;
    const e = await client(gwStrict).chat.completions
      .create(withImage('strict-1', `${imageBase}/cat.png?token=SECRET`)).catch((x) => x);
    assert.ok(e instanceof OpenAI.BadRequestError, String(e));
    assert.equal(e.status, 400);
    assert.match(e.message, /host '127\.0\.0\.1'/);
    assert.match(e.message, /loopback address/);
    assert.ok(!e.message.includes('SECRET'), 'the query string stays out of the message');
    assert.equal(seenByImages.length, before);
    assert.equal(await atMock('strict-1'), undefined);
  });

  test('odd IPv4 spellings and IPv4-mapped IPv6 of loopback are refused too', async () => {
    const port = images.address().port;
    for (const host of ['2130706433', '0x7f.1', '0177.0.0.1', '127.1', '[::ffff:127.0.0.1]', 'localhost']) {
      const e = await client(gwStrict).chat.completions
        .create(withImage('strict-2', `http://${host}:${port}/cat.png`)).catch((x) => x);
      assert.ok(e instanceof OpenAI.BadRequestError, `${host}: ${e}`);
      assert.equal(e.code, 'image_url_refused', host);
    }
  });
});

describe('inlining off (the default)', () => {
  test('the image URL goes to the provider as the client sent it, and nothing is fetched', async () => {
    const before = seenByImages.length;
    const url = `${imageBase}/cat.png?off=1`;
    await client(gwOff).chat.completions.create(withImage('off-1', url));
    assert.equal((await atMock('off-1')).bodyJson.messages[0].content[1].image_url.url, url);
    assert.equal(seenByImages.length, before);
  });
});

describe('HTTPS image hosts (the certificate verified against SSL_CERT_FILE)', () => {
  test('a trusted certificate: inlined, with SNI for a name and none for an address', async () => {
    const port = tlsImages.address().port;
    await client(gwTls).chat.completions.create(withImage('tls-1', `https://localhost:${port}/cat.png?tls=name`));
    assert.equal((await atMock('tls-1')).bodyJson.messages[0].content[1].image_url.url, DATA_URL);
    assert.equal(seenByImages.find((s) => s.url === '/cat.png?tls=name').servername, 'localhost');
    await client(gwTls).chat.completions.create(withImage('tls-2', `https://127.0.0.1:${port}/cat.png?tls=ip`));
    assert.equal((await atMock('tls-2')).bodyJson.messages[0].content[1].image_url.url, DATA_URL);
    assert.ok(!seenByImages.find((s) => s.url === '/cat.png?tls=ip').servername);
  });

  test('a certificate the gateway does not trust answers 400 and nothing is fetched', async () => {
    const before = seenByImages.length;
    const url = `https://127.0.0.1:${tlsImages.address().port}/cat.png`;
    const e = await client(gwOn).chat.completions.create(withImage('tls-3', url)).catch((x) => x);
    assert.ok(e instanceof OpenAI.BadRequestError, String(e));
    assert.match(e.message, /host '127\.0\.0\.1'/);
    assert.match(e.message, /the TLS handshake with the image host failed/);
    assert.equal(e.code, 'image_fetch_failed');
    assert.equal(seenByImages.length, before);
  });
});
