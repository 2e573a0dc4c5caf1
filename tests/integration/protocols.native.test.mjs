// Native upstreams (issue "Native upstreams", its Proof): the capability matrix's second axis.
// Every client protocol (lib/protocols.mjs drives its official SDK) x every native provider
// protocol (anthropic, gemini, ollama, spoken by anygpt-mock as strictly as the vendors) x the
// scenarios below, one test per cell named "<scenario>: <client> -> <provider>". Each cell checks
// what the client got and what reached the mock: the native path, the provider's auth headers
// (never the client's key, never a key in the URL) and the native body. Expected answers come
// from the mock itself: the native request it recorded is replayed to it directly, without
// streaming, which applies its documented rules (docs/MOCK.md).
// Then: failover from an anthropic provider answering 529 to an openai provider, same-protocol
// passthrough (unknown fields both ways, answer and stream bytes equal to the mock's), and
// embeddings through gemini and ollama providers. The `after` hook prints one markdown table per
// group (for docs/PROTOCOLS.md).
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import { Ollama } from 'ollama';
import { startMock, startGateway, mockProvider, userKeys, newKey, openTier, sleep, BUILD_DIR } from './lib/harness.mjs';
import { protocols } from './lib/protocols.mjs';

const CLIENT = newKey();
const NATIVE = ['anthropic', 'gemini', 'ollama'];
const ANTHROPIC_VERSION = '2023-06-01';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const IMAGE_URL = 'https://example.com/cat.png';
const WEATHER = {
  name: 'get_weather', description: 'Current weather for a city',
  parameters: { type: 'object', properties: { location: { type: 'string', description: 'City name' } }, required: ['location'] },
};
const STREAM_CHUNKS = 6, CHUNK_INTERVAL_MS = 40;
// The status each provider protocol fails with in the failover cells, and how many of its stream
// events pass before the mid-stream cut (Anthropic: message_start, content_block_start, ping, 2 deltas).
const FAILOVER_STATUS = { anthropic: 529, gemini: 503, ollama: 500 };
const CUT_AFTER = { anthropic: 5, gemini: 2, ollama: 2 };

// Model names, one family per provider protocol; fault cells get models of their own (and the
// failover/mid-stream ones providers of their own) so no health state leaks between cells.
const chatModel = (pv) => `chat-${pv}`;
const failoverModel = (pv, c) => `fo-${pv}-${c}`;
const cutModel = (pv, c) => `ms-${pv}-${c}`;
const crossModel = (c, mode) => `x-${c}-${mode}`;
const upstreamName = (pv) => `${pv}-pt-upstream`;
const providerKey = (id) => `provider-secret-${id}`;

let mocks = {};  // anthropic, gemini, ollama (one per native protocol), backup (failover targets)
let gw;
const crashes = [];
const gwDead = () => gw && (gw.proc.exitCode !== null || gw.proc.signalCode !== null);

function provider(id, protocol, mock, models) {
  const p = mockProvider(mock, id, Object.keys(models));
  p.protocol = protocol;
  p.provider_url = protocol === 'gemini' ? `${mock.url}/v1beta` : protocol === 'openai' ? `${mock.url}/v1/chat/completions` : mock.url;
  for (const [m, up] of Object.entries(models)) if (up) p.models[m].upstream_model = up;
  return p;
}

function startGw() {
  const clients = protocols.map((p) => p.name);
  const each = (f) => Object.fromEntries(clients.map((c) => [f(c), null]));
  const providers = [];
  for (const pv of NATIVE) {
    const m = mocks[pv];
    providers.push(provider(pv, pv, m, { [chatModel(pv)]: null, [`pt-${pv}`]: upstreamName(pv), [`emb-${pv}`]: null }));
    providers.push(provider(`${pv}-fo`, pv, m, each((c) => failoverModel(pv, c))));  // first in file order: tried first
    providers.push(provider(`${pv}-b`, pv, mocks.backup, each((c) => failoverModel(pv, c))));
    providers.push(provider(`${pv}-ms`, pv, m, each((c) => cutModel(pv, c))));
  }
  const cross = Object.fromEntries(['openai', 'anthropic'].flatMap((c) => ['chat', 'stream'].map((mode) => [crossModel(c, mode), null])));
  const cross429 = { 'x429-openai': null, 'x429-gemini': null };
  providers.push(provider('anthropic-x', 'anthropic', mocks.anthropic, cross));
  providers.push(provider('gemini-x', 'gemini', mocks.gemini, cross429));
  providers.push(provider('openai-x', 'openai', mocks.backup, { ...cross, ...cross429 }));
  return startGateway({
    files: {
      tiers: { open: openTier(), enterprise: openTier() },
      keys: userKeys({ [CLIENT]: { userId: 'native-user', tier: 'open' } }),
      providers,
      excluded: { patterns: [] },
    },
    env: { ROUTING_SPREAD_POINTS: '0' },
  });
}

// build/ may be mid-rebuild: wait until both binaries exist and have stopped changing.
async function waitForBinaries(timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  const bins = ['anygpt', 'anygpt-mock'].map((b) => join(BUILD_DIR, b));
  const sig = () => bins.map((b) => { accessSync(b, constants.X_OK); const s = statSync(b); return `${s.size}:${s.mtimeMs}`; }).join('|');
  for (;;) {
    try {
      const a = sig();
      await sleep(300);
      if (sig() === a && Date.now() - statSync(bins[0]).mtimeMs > 1000) return;
    } catch (e) {
      if (Date.now() > end) throw e;
    }
    if (Date.now() > end) return;
    await sleep(500);
  }
}

// ---- what reached the mock ----------------------------------------------------------------------

// The model-route requests a mock received (POST); asserts their count (or at least `min`).
async function recorded(mock, { count, min } = {}) {
  const recs = (await mock.requests()).requests.filter((r) => r.method === 'POST');
  const show = () => recs.map((r) => `${r.path} ${r.body.slice(0, 400)}`).join(' | ');
  if (count !== undefined) assert.equal(recs.length, count, `the mock got ${recs.length} requests, expected ${count}: ${show()}`);
  if (min !== undefined) assert.ok(recs.length >= min, `the mock got ${recs.length} requests, expected at least ${min}`);
  for (const r of recs) assert.ok(r.bodyJson && typeof r.bodyJson === 'object', `upstream body is JSON: ${r.body.slice(0, 200)}`);
  return recs;
}

// The native path, the provider's auth headers, no key in the URL and never the client's key.
function checkWire(proto, r, providerId, { stream = false, op = 'chat', model }) {
  const key = providerKey(providerId);
  for (const [h, v] of Object.entries(r.headers)) assert.ok(!String(v).includes(CLIENT), `client key leaked upstream in ${h}`);
  assert.ok(!r.path.includes(CLIENT) && !r.path.includes(key), `a key in the URL: ${r.path}`);
  assert.doesNotMatch(r.path, /[?&]key=/, 'no ?key= in the URL');
  const b = r.bodyJson;
  switch (proto) {
    case 'anthropic':
      assert.equal(r.path, '/v1/messages');
      assert.equal(r.headers['x-api-key'], key, 'x-api-key is the provider key');
      assert.equal(r.headers['anthropic-version'], ANTHROPIC_VERSION);
      assert.ok(Number.isInteger(b.max_tokens) && b.max_tokens >= 1, `max_tokens always sent: ${r.body.slice(0, 300)}`);
      assert.equal(b.stream === true, stream, `stream ${stream}: ${r.body.slice(0, 300)}`);
      if (model) assert.equal(b.model, model);
      break;
    case 'gemini': {
      const verb = op === 'embed' ? 'batchEmbedContents' : stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
      assert.equal(r.path, `/v1beta/models/${model}:${verb}`);
      assert.equal(r.headers['x-goog-api-key'], key, 'x-goog-api-key is the provider key');
      break;
    }
    case 'ollama':
      assert.equal(r.path, op === 'embed' ? '/api/embed' : '/api/chat');
      assert.equal(r.headers.authorization, `Bearer ${key}`);
      if (op === 'chat') assert.strictEqual(b.stream, stream, `"stream" explicit (${stream}): ${r.body.slice(0, 300)}`);
      if (model) assert.equal(b.model, model);
      break;
    case 'openai':
      assert.ok(r.path.startsWith('/v1/chat/completions'), r.path);
      assert.equal(r.headers.authorization, `Bearer ${key}`);
      assert.equal(b.stream === true, stream);
      if (model) assert.equal(b.model, model);
      break;
  }
}

// Exactly one request on the provider protocol's own mock, checked on the wire; returns it.
async function onlyRequest(pv, opts = {}) {
  const [r] = await recorded(mocks[pv], { count: 1 });
  checkWire(pv, r, opts.providerId ?? pv, { model: chatModel(pv), ...opts });
  return r;
}

// ---- reading native bodies ----------------------------------------------------------------------

const blocksText = (c) => (typeof c === 'string' ? c : (c ?? []).filter((b) => b.type === 'text').map((b) => b.text).join(' '));
const partsText = (parts) => (parts ?? []).filter((p) => typeof p.text === 'string').map((p) => p.text).join(' ');
const lowerTypes = (s) => {
  if (Array.isArray(s)) return s.map(lowerTypes);
  if (!s || typeof s !== 'object') return s;
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === 'type' && typeof v === 'string' ? v.toLowerCase() : lowerTypes(v)]));
};

// One protocol-neutral view per native body: system, conversation turns, tools, tool calls and
// results in the history, and the last user turn's images.
const VIEW = {
  anthropic: {
    system: (b) => (b.system === undefined ? null : typeof b.system === 'string' ? b.system : b.system.map((x) => x.text).join('\n\n')),
    turns: (b) => b.messages.map((m) => ({ role: m.role, text: blocksText(m.content) })),
    tools: (b) => (b.tools ?? []).map((t) => ({ name: t.name, description: t.description, parameters: t.input_schema })),
    calls: (b) => b.messages.filter((m) => m.role === 'assistant' && Array.isArray(m.content))
      .flatMap((m) => m.content.filter((x) => x.type === 'tool_use')).map((x) => ({ id: x.id, name: x.name, args: x.input })),
    results: (b) => b.messages.filter((m) => m.role === 'user' && Array.isArray(m.content))
      .flatMap((m) => m.content.filter((x) => x.type === 'tool_result'))
      .map((x) => ({ id: x.tool_use_id, text: typeof x.content === 'string' ? x.content : blocksText(x.content) })),
    images: (b) => {
      const content = b.messages.filter((m) => m.role === 'user').at(-1).content;
      return (Array.isArray(content) ? content : []).filter((x) => x.type === 'image')
        .map((x) => (x.source.type === 'url' ? { url: x.source.url } : { mime: x.source.media_type, base64: x.source.data }));
    },
  },
  gemini: {
    system: (b) => (b.systemInstruction ? partsText(b.systemInstruction.parts) : null),
    turns: (b) => b.contents.map((c) => ({ role: c.role === 'model' ? 'assistant' : (c.role ?? 'user'), text: partsText(c.parts) })),
    tools: (b) => (b.tools ?? []).flatMap((t) => t.functionDeclarations ?? [])
      .map((f) => ({ name: f.name, description: f.description, parameters: lowerTypes(f.parameters ?? f.parametersJsonSchema) })),
    calls: (b) => b.contents.filter((c) => c.role === 'model').flatMap((c) => c.parts.filter((p) => p.functionCall))
      .map((p) => ({ id: p.functionCall.id, name: p.functionCall.name, args: p.functionCall.args })),
    results: (b) => b.contents.filter((c) => c.role !== 'model').flatMap((c) => c.parts.filter((p) => p.functionResponse))
      .map((p) => ({ id: p.functionResponse.id, name: p.functionResponse.name, text: JSON.stringify(p.functionResponse.response) })),
    images: (b) => b.contents.filter((c) => c.role !== 'model').at(-1).parts.flatMap((p) =>
      (p.inlineData ? [{ mime: p.inlineData.mimeType, base64: p.inlineData.data }] : p.fileData ? [{ url: p.fileData.fileUri }] : [])),
  },
  ollama: {
    system: (b) => { const s = b.messages.filter((m) => m.role === 'system'); return s.length ? s.map((m) => m.content).join('\n\n') : null; },
    turns: (b) => b.messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role, text: m.content })),
    tools: (b) => (b.tools ?? []).map((t) => ({ name: t.function.name, description: t.function.description, parameters: t.function.parameters })),
    calls: (b) => b.messages.filter((m) => m.role === 'assistant').flatMap((m) => m.tool_calls ?? [])
      .map((t) => ({ id: t.id, name: t.function.name, args: t.function.arguments })),
    results: (b) => b.messages.filter((m) => m.role === 'tool').map((m) => ({ name: m.tool_name, text: m.content })),
    images: (b) => (b.messages.filter((m) => m.role === 'user').at(-1).images ?? []).map((x) => ({ base64: x })),
  },
};

// ---- what the mock answers ----------------------------------------------------------------------

const parseArgs = (s) => (typeof s === 'string' ? JSON.parse(s || '{}') : s);

// The mock's own answer to a recorded request, asked directly and without streaming.
async function direct(proto, mock, rec) {
  const body = { ...rec.bodyJson };
  let path = rec.path;
  let headers = {};
  if (proto === 'anthropic') { delete body.stream; headers = { 'x-api-key': 'direct', 'anthropic-version': ANTHROPIC_VERSION }; }
  if (proto === 'gemini') { path = path.replace(':streamGenerateContent?alt=sse', ':generateContent'); headers = { 'x-goog-api-key': 'direct' }; }
  if (proto === 'ollama') body.stream = false;
  if (proto === 'openai') { body.stream = false; delete body.stream_options; }
  const res = await fetch(mock.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  assert.equal(res.status, 200, `direct call to the mock: ${text}`);
  const j = JSON.parse(text);
  switch (proto) {
    case 'anthropic':
      return { text: j.content.filter((b) => b.type === 'text').map((b) => b.text).join(''),
               toolCalls: j.content.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id, name: b.name, args: b.input })),
               usage: { input: j.usage.input_tokens + (j.usage.cache_read_input_tokens ?? 0), output: j.usage.output_tokens } };
    case 'gemini': {
      const parts = j.candidates[0].content.parts;
      return { text: parts.filter((p) => typeof p.text === 'string').map((p) => p.text).join(''),
               toolCalls: parts.filter((p) => p.functionCall).map((p) => ({ id: p.functionCall.id, name: p.functionCall.name, args: p.functionCall.args })),
               usage: { input: j.usageMetadata.promptTokenCount, output: j.usageMetadata.candidatesTokenCount } };
    }
    case 'ollama':
      return { text: j.message.content, toolCalls: (j.message.tool_calls ?? []).map((t) => ({ name: t.function.name, args: t.function.arguments })),
               usage: { input: j.prompt_eval_count, output: j.eval_count } };
    default: {
      const m = j.choices[0].message;
      return { text: m.content ?? '', toolCalls: (m.tool_calls ?? []).map((t) => ({ name: t.function.name, args: parseArgs(t.function.arguments) })),
               usage: { input: j.usage.prompt_tokens, output: j.usage.completion_tokens } };
    }
  }
}

// ---- raw HTTP to the gateway, per client protocol -----------------------------------------------

const RAW = {
  openai: (model, stream) => ({ path: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: 'hello there' }], ...(stream ? { stream } : {}) } }),
  groq: (model, stream) => ({ ...RAW.openai(model, stream), path: '/v4/openai/v1/chat/completions' }),
  openrouter: (model, stream) => ({ ...RAW.openai(model, stream), path: '/v6/chat/completions' }),
  anthropic: (model, stream) => ({ path: '/v3/v1/messages', body: { model, max_tokens: 256, messages: [{ role: 'user', content: 'hello there' }], ...(stream ? { stream } : {}) } }),
  gemini: (model, stream) => ({ path: `/v2/v1beta/models/${model}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
                                body: { contents: [{ role: 'user', parts: [{ text: 'hello there' }] }] } }),
  ollama: (model, stream) => ({ path: '/v5/api/chat', body: { model, messages: [{ role: 'user', content: 'hello there' }], stream } }),
  responses: (model, stream) => ({ path: '/v1/responses', body: { model, input: 'hello there', ...(stream ? { stream } : {}) } }),
};
const CLIENT_HEADERS = {
  anthropic: { 'x-api-key': CLIENT, 'anthropic-version': ANTHROPIC_VERSION },
  gemini: { 'x-goog-api-key': CLIENT },
};
function gwPost(client, path, body) {
  return fetch(gw.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(CLIENT_HEADERS[client] ?? { authorization: `Bearer ${CLIENT}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
const rawPost = (client, model, stream) => { const { path, body } = RAW[client](model, stream); return gwPost(client, path, body); };

// Reads a whole body; a transport error (reset) is returned with the text read so far.
async function readBody(res) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '', error = null;
  try {
    for (;;) { const { done, value } = await reader.read(); if (done) break; text += decoder.decode(value, { stream: true }); }
  } catch (e) { error = e; }
  return { text, error };
}

// A 4xx in the client protocol's own error shape; returns its message.
async function expectShape(client, res, status) {
  const text = await res.text();
  assert.equal(res.status, status, `${client}: ${text}`);
  const b = JSON.parse(text);
  switch (client) {
    case 'openai': case 'groq': case 'responses':
      assert.ok(typeof b.error?.message === 'string' && 'type' in b.error && 'code' in b.error, text); return b.error.message;
    case 'openrouter':
      assert.equal(b.error.code, status, text); assert.ok(b.error.message, text); return b.error.message;
    case 'anthropic':
      assert.equal(b.type, 'error', text); assert.equal(b.error.type, 'invalid_request_error', text); return b.error.message;
    case 'gemini':
      assert.equal(b.error.code, status, text); assert.equal(b.error.status, 'INVALID_ARGUMENT', text); return b.error.message;
    case 'ollama':
      assert.equal(typeof b.error, 'string', text); return b.error;
  }
  return '';
}

// A stream broken mid-way ends with the client protocol's error, never its clean end. Returns the
// text delivered before the error.
function brokenStream(client, text) {
  const sse = () => text.split(/\r?\n\r?\n/).filter((e) => e.trim());
  const dataOf = (e) => e.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
  switch (client) {
    case 'openai': case 'groq': case 'openrouter': {
      const data = sse().map(dataOf);
      assert.ok(!data.includes('[DONE]'), `no [DONE] after a broken stream: ${text.slice(-400)}`);
      const chunks = data.map((d) => JSON.parse(d));
      assert.ok(chunks.at(-1)?.error, `the last event is an error: ${text.slice(-400)}`);
      assert.ok(!chunks.some((c) => (c.choices ?? []).some((x) => x.finish_reason && x.finish_reason !== 'error')), `no clean finish_reason: ${text.slice(-400)}`);
      return chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
    }
    case 'anthropic': {
      const events = sse().map((e) => ({ name: e.match(/^event: (.*)$/m)?.[1], data: JSON.parse(dataOf(e)) }));
      assert.equal(events.at(-1)?.name, 'error', `the last event is "error": ${text.slice(-400)}`);
      assert.equal(events.at(-1).data.type, 'error');
      assert.ok(!events.some((e) => e.name === 'message_stop'), 'no message_stop');
      return events.filter((e) => e.data.delta?.type === 'text_delta').map((e) => e.data.delta.text).join('');
    }
    case 'gemini': {
      const events = sse().map((e) => JSON.parse(dataOf(e)));
      assert.ok(events.at(-1)?.error, `the last event is an error: ${text.slice(-400)}`);
      assert.ok(!events.some((e) => e.candidates?.[0]?.finishReason), 'no finishReason');
      return events.map((e) => (e.candidates?.[0]?.content?.parts ?? []).map((x) => x.text ?? '').join('')).join('');
    }
    case 'responses': {
      const events = sse().map((e) => ({ name: e.match(/^event: (.*)$/m)?.[1], data: JSON.parse(dataOf(e)) }));
      assert.equal(events.at(-1)?.name, 'error', `the last event is "error": ${text.slice(-400)}`);
      assert.ok(!events.some((e) => e.name === 'response.completed' || e.name === 'response.incomplete'), 'no clean end');
      return events.filter((e) => e.name === 'response.output_text.delta').map((e) => e.data.delta).join('');
    }
    case 'ollama': {
      const lines = text.trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(typeof lines.at(-1)?.error, 'string', `the last line is an error: ${text.slice(-400)}`);
      assert.ok(!lines.some((l) => l.done === true), 'no done:true');
      return lines.map((l) => l.message?.content ?? '').join('');
    }
  }
  return '';
}

// ---- scenario helpers ---------------------------------------------------------------------------

async function rejects(promise) {
  try { await promise; } catch (e) { return e; }
  assert.fail('expected the SDK call to fail, but it succeeded');
}
function assertSdkError(c, e, status) {
  assert.equal(c.errorProblem(e), null);
  assert.equal(c.errorStatus(e), status, `status ${c.errorStatus(e)}: ${c.errorMessage(e).slice(0, 300)}`);
}

const hello = (pv, model = chatModel(pv)) => ({ model, turns: [{ role: 'user', text: 'hello there' }] });
const weather = (pv) => ({ model: chatModel(pv), turns: [{ role: 'user', text: 'What is the weather in Paris?' }], tools: [WEATHER] });

function assertTools(pv, b) {
  const tools = VIEW[pv].tools(b);
  assert.equal(tools.length, 1, `one tool upstream: ${JSON.stringify(b.tools)}`);
  assert.equal(tools[0].name, WEATHER.name);
  assert.equal(tools[0].description, WEATHER.description);
  // Anthropic and Ollama take JSON Schema as is; Gemini's Schema accepts either case of type.
  assert.deepEqual(tools[0].parameters, WEATHER.parameters, `parameters upstream: ${JSON.stringify(b.tools)}`);
  if (pv === 'anthropic') for (const t of b.tools) assert.deepEqual(Object.keys(t).sort(), ['description', 'input_schema', 'name']);
}

// Same protocol at both ends, the answer is the provider's as it was: the call id is the
// provider's (the mock's Gemini functionCall has none; its Anthropic ids count up per call, so
// digits are masked). Otherwise a protocol that carries ids gets one.
function assertWeatherCall(c, pv, r, want) {
  assert.equal(want.toolCalls.length, 1, 'the mock answers this request with a tool call');
  assert.equal(r.toolCalls.length, 1, `client got tool calls: ${JSON.stringify(r.toolCalls)} text ${JSON.stringify(r.text)}`);
  assert.equal(r.toolCalls[0].name, want.toolCalls[0].name);
  assert.deepEqual(r.toolCalls[0].args, want.toolCalls[0].args);
  const digits = (id) => String(id ?? '').replace(/\d+/g, 'N');
  if (c.name === pv) assert.equal(digits(r.toolCalls[0].id), digits(want.toolCalls[0].id), 'the provider\'s call id, as it sent it');
  else if (c.sendsToolIds) assert.ok(typeof r.toolCalls[0].id === 'string' && r.toolCalls[0].id.length > 0, 'the call has an id');
  assert.equal(r.finish, 'tool');
}

async function streamConfig(mock, extra = {}) {
  await mock.control('/mock/config', 'POST', { streamChunks: STREAM_CHUNKS, ...extra });
}

// ---- the matrix scenarios: run(client adapter, provider protocol) -------------------------------

const scenarios = [
  ['text', async (c, pv) => {
    const r = await c.chat(gw, CLIENT, hello(pv));
    const rec = await onlyRequest(pv);
    assert.deepEqual(VIEW[pv].turns(rec.bodyJson), [{ role: 'user', text: 'hello there' }]);
    assert.equal(VIEW[pv].system(rec.bodyJson), null);
    const want = await direct(pv, mocks[pv], rec);
    assert.equal(r.text, want.text);
    assert.equal(r.finish, 'stop');
    assert.deepEqual(r.toolCalls, []);
  }],

  ['system prompt', async (c, pv) => {
    const system = 'You are a terse assistant. Answer in French.';
    const r = await c.chat(gw, CLIENT, { ...hello(pv), system });
    const rec = await onlyRequest(pv);
    assert.equal(VIEW[pv].system(rec.bodyJson), system, `system upstream: ${rec.body.slice(0, 400)}`);
    if (pv === 'ollama') assert.equal(rec.bodyJson.messages[0].role, 'system', 'the system message comes first');
    assert.deepEqual(VIEW[pv].turns(rec.bodyJson), [{ role: 'user', text: 'hello there' }]);
    assert.equal(r.text, (await direct(pv, mocks[pv], rec)).text);
  }],

  ['multi-turn', async (c, pv) => {
    const turns = [
      { role: 'user', text: 'My name is Ada.' },
      { role: 'assistant', text: 'Nice to meet you, Ada.' },
      { role: 'user', text: 'What is my name?' },
    ];
    const r = await c.chat(gw, CLIENT, { model: chatModel(pv), turns });
    const rec = await onlyRequest(pv);
    assert.deepEqual(VIEW[pv].turns(rec.bodyJson), turns);
    assert.equal(r.text, (await direct(pv, mocks[pv], rec)).text);
  }],

  ['stream', async (c, pv) => {
    await streamConfig(mocks[pv], { chunkIntervalMs: CHUNK_INTERVAL_MS });
    const r = await c.stream(gw, CLIENT, hello(pv));
    const rec = await onlyRequest(pv, { stream: true });
    const want = await direct(pv, mocks[pv], rec);
    assert.equal(r.deltas.join(''), want.text, `deltas ${JSON.stringify(r.deltas)}`);
    assert.equal(r.text, want.text);
    assert.ok(r.deltas.length >= 3, `${r.deltas.length} deltas`);
    assert.equal(r.finish, 'stop');
    const lead = r.endedAt - r.times[0];
    assert.ok(lead >= (STREAM_CHUNKS - 2) * CHUNK_INTERVAL_MS * 0.75,
              `first delta only ${lead} ms before the end (stream took ${r.endedAt - r.startedAt} ms): not delivered as it arrives`);
  }],

  ['tools declared and called', async (c, pv) => {
    const r = await c.chat(gw, CLIENT, weather(pv));
    const rec = await onlyRequest(pv);
    assertTools(pv, rec.bodyJson);
    assertWeatherCall(c, pv, r, await direct(pv, mocks[pv], rec));
  }],

  ['streamed tools', async (c, pv) => {
    const r = await c.stream(gw, CLIENT, weather(pv));
    const rec = await onlyRequest(pv, { stream: true });
    assertTools(pv, rec.bodyJson);
    assertWeatherCall(c, pv, r, await direct(pv, mocks[pv], rec));
    assert.equal(r.text, '', 'no text next to the call');
  }],

  ['tool results sent back', async (c, pv) => {
    const prior = { id: 'call_prior_1', name: 'get_weather', args: { location: 'Paris' }, result: 'sunny, 21 C' };
    const r = await c.chat(gw, CLIENT, { ...weather(pv), toolResult: prior });
    const rec = await onlyRequest(pv);
    const b = rec.bodyJson, v = VIEW[pv];
    assert.equal(v.turns(b)[0].text, 'What is the weather in Paris?', 'the question comes first');
    const calls = v.calls(b), results = v.results(b);
    assert.equal(calls.length, 1, `one call in the history: ${rec.body.slice(0, 600)}`);
    assert.equal(calls[0].name, prior.name);
    assert.deepEqual(calls[0].args, prior.args, 'arguments as an object');
    assert.equal(results.length, 1, `one tool result: ${rec.body.slice(0, 600)}`);
    assert.ok(results[0].text.includes(prior.result), `the result is carried: ${results[0].text}`);
    if (pv === 'anthropic') {
      assert.ok(calls[0].id, 'tool_use has an id');
      assert.equal(results[0].id, calls[0].id, 'tool_result answers the tool_use');
      if (c.sendsToolIds) assert.equal(calls[0].id, prior.id, 'the client\'s call id is kept');
    }
    if (pv === 'gemini') assert.equal(results[0].name, prior.name, 'functionResponse named after its call');
    const want = await direct(pv, mocks[pv], rec);
    assert.equal(want.toolCalls.length, 0, 'after a tool result the mock answers with text');
    assert.equal(r.text, want.text);
    assert.equal(r.finish, 'stop');
  }],

  ['image input', async (c, pv) => {
    const text = 'What is in this picture?';
    const r = await c.chat(gw, CLIENT, { model: chatModel(pv), turns: [{ role: 'user', text }], image: { mime: 'image/png', base64: PNG } });
    const rec = await onlyRequest(pv);
    const want = pv === 'ollama' ? [{ base64: PNG }] : [{ mime: 'image/png', base64: PNG }];
    assert.deepEqual(VIEW[pv].images(rec.bodyJson), want, `images upstream: ${rec.body.slice(0, 500)}`);
    assert.equal(VIEW[pv].turns(rec.bodyJson).at(-1).text, text);
    assert.equal(r.text, (await direct(pv, mocks[pv], rec)).text);
  }],

  // A remote image: an Ollama client cannot send one (n/a); an Ollama provider cannot take one,
  // which is the documented 400 (docs/PROTOCOLS.md) and nothing goes upstream.
  ['image URL (ollama provider: the documented 400)', async (c, pv) => {
    const text = 'What is in this picture?';
    const req = { model: chatModel(pv), turns: [{ role: 'user', text }], imageUrl: { url: IMAGE_URL, mime: 'image/png' } };
    if (pv === 'ollama') {
      const e = await rejects(c.chat(gw, CLIENT, req));
      assertSdkError(c, e, 400);
      assert.match(c.errorMessage(e), /base64/i, `the 400 says why: ${c.errorMessage(e)}`);
      await recorded(mocks[pv], { count: 0 });
      return;
    }
    const r = await c.chat(gw, CLIENT, req);
    const rec = await onlyRequest(pv);
    assert.deepEqual(VIEW[pv].images(rec.bodyJson), [{ url: IMAGE_URL }], `images upstream: ${rec.body.slice(0, 500)}`);
    assert.equal(r.text, (await direct(pv, mocks[pv], rec)).text);
  }, (c) => (c.name === 'ollama' ? 'ollama-js sends images as base64 only: a remote URL is not expressible by this client' : null)],

  ['usage', async (c, pv) => {
    const r = await c.chat(gw, CLIENT, { model: chatModel(pv), system: 'Count carefully.', turns: [{ role: 'user', text: 'Count my tokens please, this is the usage test.' }] });
    const want = await direct(pv, mocks[pv], await onlyRequest(pv));
    assert.deepEqual(r.usage, want.usage);
  }],

  ['usage streamed', async (c, pv) => {
    const r = await c.stream(gw, CLIENT, { model: chatModel(pv), system: 'Count carefully.', turns: [{ role: 'user', text: 'Count my streamed tokens please.' }] });
    const want = await direct(pv, mocks[pv], await onlyRequest(pv, { stream: true }));
    assert.deepEqual(r.usage, want.usage);
  }],

  ['upstream 4xx', async (c, pv) => {
    const message = `Mock refused the prompt (${c.name} -> ${pv}) #${newKey().slice(0, 8)}`;
    const fault = () => mocks[pv].fault({ fault: 'status', status: 400, message, model: chatModel(pv), count: 1 });
    await fault();
    const e = await rejects(c.chat(gw, CLIENT, hello(pv)));
    assertSdkError(c, e, 400);
    assert.ok(c.errorMessage(e).includes(message), `the provider's message reaches the client: ${c.errorMessage(e)}`);
    await onlyRequest(pv);  // a 400 is relayed, not retried or failed over
    await mocks[pv].control('/mock/requests', 'DELETE');
    await fault();
    const m = await expectShape(c.name, await rawPost(c.name, chatModel(pv), false), 400);
    assert.ok(m.includes(message), `the raw 400 carries the message: ${m}`);
  }],

  ['upstream 5xx/529 failover', async (c, pv) => {
    const model = failoverModel(pv, c.name);
    await mocks[pv].fault({ fault: 'status', status: FAILOVER_STATUS[pv], model });
    const r = await c.chat(gw, CLIENT, hello(pv, model));
    const failed = await recorded(mocks[pv], { min: 1 });
    for (const f of failed) checkWire(pv, f, `${pv}-fo`, { model });
    const [served] = await recorded(mocks.backup, { count: 1 });
    checkWire(pv, served, `${pv}-b`, { model });
    assert.equal(r.text, (await direct(pv, mocks.backup, served)).text);
    assert.equal(r.finish, 'stop');
  }],

  ['mid-stream error', async (c, pv) => {
    const model = cutModel(pv, c.name);
    await streamConfig(mocks[pv]);
    const cut = () => mocks[pv].fault({ fault: 'stream_cut', afterChunks: CUT_AFTER[pv], model, count: 1 });
    await cut();
    const e = await rejects(c.stream(gw, CLIENT, hello(pv, model)));
    assert.ok(e instanceof Error, `the SDK surfaced an error: ${e}`);
    const [first] = await recorded(mocks[pv], { count: 1 });
    checkWire(pv, first, `${pv}-ms`, { stream: true, model });
    await mocks[pv].control('/mock/requests', 'DELETE');
    await cut();
    const res = await rawPost(c.name, model, true);
    assert.equal(res.status, 200, 'the stream had started');
    const { text, error } = await readBody(res);
    assert.equal(error, null, `the client's stream ends with an error event, not a transport error (${error?.cause?.code ?? error}); got ${text.slice(-300)}`);
    const partial = brokenStream(c.name, text);
    const [rec] = await recorded(mocks[pv], { count: 1 });
    await mocks[pv].control('/mock/faults', 'DELETE');
    const want = await direct(pv, mocks[pv], rec);
    assert.ok(partial.length > 0 && want.text.startsWith(partial), `text before the error (${JSON.stringify(partial)}) is a prefix of the answer`);
  }],
];

// ---- results and tables -------------------------------------------------------------------------

const groups = new Map();  // group -> {rows: [], cols: [], cells: Map(`${row}|${col}`) -> {ok, reason} | {na}}
function group(name) {
  if (!groups.has(name)) groups.set(name, { rows: [], cols: [], cells: new Map(), notes: [] });
  return groups.get(name);
}
function slot(g, row, col) {
  const G = group(g);
  if (!G.rows.includes(row)) G.rows.push(row);
  if (!G.cols.includes(col)) G.cols.push(col);
  return G;
}
function notExpressible(g, row, col, why) {
  const G = slot(g, row, col);
  let n = G.notes.indexOf(why);
  if (n < 0) { G.notes.push(why); n = G.notes.length - 1; }
  G.cells.set(`${row}|${col}`, { na: n + 1 });
}

// One test per cell: "<row>: <col>"; records ✓/✗ for the table, with the cause.
function cell(g, row, col, run, { errorText = (e) => String(e?.message ?? e), timeout = 15000 } = {}) {
  const G = slot(g, row, col);
  test(`${row}: ${col}`, { timeout }, async () => {
    try {
      await run();
      G.cells.set(`${row}|${col}`, { ok: true });
    } catch (e) {
      await sleep(100);
      const died = gwDead() ? `GATEWAY DIED (${gw.proc.signalCode ?? gw.proc.exitCode}); ` : '';
      if (died) crashes.push(`${row}: ${col}`);
      G.cells.set(`${row}|${col}`, { ok: false, reason: `${died}${errorText(e).replace(/\s+/g, ' ').slice(0, 300)}` });
      throw e;
    }
  });
}

function printTables() {
  const out = [];
  for (const [name, G] of groups) {
    out.push(`\n### ${name}\n`, `| scenario | ${G.cols.join(' | ')} |`, `|---|${G.cols.map(() => ':-:').join('|')}|`);
    for (const row of G.rows) {
      out.push(`| ${row} | ${G.cols.map((col) => {
        const c = G.cells.get(`${row}|${col}`);
        return !c ? ' ' : c.na ? `n/a${'¹²³⁴'[c.na - 1] ?? c.na}` : c.ok ? '✓' : '✗';
      }).join(' | ')} |`);
    }
    G.notes.forEach((n, i) => out.push(`\n${'¹²³⁴'[i] ?? i + 1} not expressible: ${n}`));
    const failing = [...G.cells].filter(([, c]) => c.ok === false).map(([k, c]) => `- ${k.replace('|', ': ')}: ${c.reason}`);
    if (failing.length) out.push(`\nFailing cells:\n${failing.join('\n')}`);
  }
  if (crashes.length) out.push(`\nThe gateway crashed during: ${crashes.join(', ')}`);
  console.log(out.join('\n'));
}

// ---- the tests ----------------------------------------------------------------------------------

describe('native upstreams', () => {
  before(async () => {
    await waitForBinaries();
    const [a, g, o, b] = await Promise.all([startMock(), startMock(), startMock(), startMock()]);
    mocks = { anthropic: a, gemini: g, ollama: o, backup: b };
    gw = await startGw();
  });

  after(async () => {
    await gw?.cleanup();
    await Promise.all(Object.values(mocks).map((m) => m.stop()));
    printTables();
  });

  beforeEach(async () => {
    // A gateway crash fails its own cell only: the next cell gets a fresh gateway.
    if (gwDead()) { await gw.cleanup(); gw = await startGw(); }
    await Promise.all(Object.values(mocks).map((m) => m.control('/mock/reset', 'POST')));
  });

  // 1. client protocol x native provider protocol x scenario.
  describe('matrix', () => {
    for (const [name, run, na] of scenarios) {
      for (const pv of NATIVE) {
        for (const c of protocols) {
          const col = `${c.name} -> ${pv}`;
          const why = na?.(c, pv);
          if (why) { notExpressible('client x native provider', name, col, why); continue; }
          cell('client x native provider', name, col, () => run(c, pv), {
            errorText: (e) => `${c.errorStatus(e) ? `HTTP ${c.errorStatus(e)}: ` : ''}${c.errorMessage(e)}`,
          });
        }
      }
    }
  });

  // 2. An anthropic provider answering 529 fails over to an openai provider of the same model
  // (and a gemini provider's 429 RESOURCE_EXHAUSTED likewise).
  describe('failover across protocols', () => {
    const G = 'failover across protocols';
    const byName = Object.fromEntries(protocols.map((p) => [p.name, p]));
    const cases = [
      ...['openai', 'anthropic'].flatMap((c) => [false, true].map((stream) => ({
        row: `anthropic 529 -> openai provider${stream ? ', streamed' : ''}`, c, stream, pv: 'anthropic',
        model: crossModel(c, stream ? 'stream' : 'chat'), status: 529, primary: 'anthropic-x' }))),
      ...['openai', 'gemini'].map((c) => ({ row: 'gemini 429 RESOURCE_EXHAUSTED -> openai provider', c, stream: false, pv: 'gemini',
                                           model: `x429-${c}`, status: 429, primary: 'gemini-x' })),
    ];
    for (const k of cases) {
      const c = byName[k.c];
      cell(G, k.row, `${k.c} -> ${k.pv}`, async () => {
        await mocks[k.pv].fault({ fault: 'status', status: k.status, model: k.model });
        if (k.stream) await streamConfig(mocks.backup);
        const req = hello(k.pv, k.model);
        const r = k.stream ? await c.stream(gw, CLIENT, req) : await c.chat(gw, CLIENT, req);
        const failed = await recorded(mocks[k.pv], { min: 1 });
        for (const f of failed) checkWire(k.pv, f, k.primary, { stream: k.stream, model: k.model });
        const [served] = await recorded(mocks.backup, { count: 1 });
        checkWire('openai', served, 'openai-x', { stream: k.stream, model: k.model });
        const last = served.bodyJson.messages.at(-1);
        assert.equal(last.role, 'user');
        assert.equal(blocksText(last.content), 'hello there', `the openai provider got the conversation: ${served.body.slice(0, 300)}`);
        const want = await direct('openai', mocks.backup, served);
        assert.equal(r.text, want.text);
        if (k.stream) assert.equal(r.deltas.join(''), want.text);
        assert.equal(r.finish, 'stop');
      }, { errorText: (e) => `${c.errorStatus(e) ? `HTTP ${c.errorStatus(e)}: ` : ''}${c.errorMessage(e)}` });
    }
  });

  // 3. Same protocol at both ends: the body goes upstream unchanged but for the model's name, and
  // the answer and the stream come back as the mock sent them. The mock's per-call ids and times
  // (msg_mock_<n>, toolu_mock_<n>, responseId mock-<n>, created_at) are masked before comparing.
  // The key's token usage as the gateway counted it.
  const tokensUsed = async () => (await (await fetch(`${gw.url}/v1/keys/me`, { headers: { authorization: `Bearer ${CLIENT}` } })).json()).usage.token_usage;
  // The total tokens a native stream reports (Anthropic: message_start input + the last
  // message_delta output; Gemini: the last usageMetadata; Ollama: the done line's counts).
  const streamedTotal = (pv, text) => {
    const events = pv === 'ollama' ? text.split('\n').filter(Boolean).map((l) => JSON.parse(l))
      : text.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => JSON.parse(l.slice(5)));
    if (pv === 'anthropic') {
      const u = events.find((e) => e.type === 'message_start').message.usage;
      const out = events.filter((e) => e.type === 'message_delta').at(-1).usage.output_tokens;
      return u.input_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0) + out;
    }
    if (pv === 'gemini') return events.filter((e) => e.usageMetadata).at(-1).usageMetadata.totalTokenCount;
    const done = events.find((e) => e.done);
    return done.prompt_eval_count + done.eval_count;
  };

  describe('passthrough', () => {
    const G = 'same-protocol passthrough';
    const mask = (s) => s.replace(/(msg|toolu)_mock_\d+/g, '$1_mock_N').replace(/"responseId":"mock-\d+"/g, '"responseId":"mock-N"')
      .replace(/"created_at":"[^"]*"/g, '"created_at":"T"');
    const cases = {
      anthropic: {
        body: (stream) => ({
          model: 'pt-anthropic', max_tokens: 2048,
          system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
          metadata: { user_id: 'user-123' }, service_tier: 'auto', top_k: 5,
          thinking: { type: 'enabled', budget_tokens: 1024 },
          messages: [
            { role: 'user', content: 'What is 2+2?' },
            { role: 'assistant', content: [{ type: 'thinking', thinking: 'Two plus two is four.', signature: 'sig-abc123' }, { type: 'text', text: '4' }] },
            { role: 'user', content: [{ type: 'text', text: 'hello again', cache_control: { type: 'ephemeral' } }] },
          ],
          ...(stream ? { stream: true } : {}),
        }),
        path: () => '/v3/v1/messages',
        upstream: (body) => ({ ...body, model: upstreamName('anthropic') }),
        upstreamPath: () => '/v1/messages',
        directHeaders: { 'x-api-key': 'direct', 'anthropic-version': ANTHROPIC_VERSION },
      },
      gemini: {
        body: () => ({
          contents: [{ role: 'user', parts: [{ text: 'hello again' }] }],
          systemInstruction: { parts: [{ text: 'Be brief.' }] },
          safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }],
          generationConfig: { temperature: 0.5, thinkingConfig: { thinkingBudget: 0 } },
        }),
        path: (stream) => `/v2/v1beta/models/pt-gemini:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
        upstream: (body) => body,
        upstreamPath: (stream) => `/v1beta/models/${upstreamName('gemini')}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
        directHeaders: { 'x-goog-api-key': 'direct' },
      },
      ollama: {
        body: (stream) => ({
          model: 'pt-ollama', messages: [{ role: 'user', content: 'hello again' }], stream,
          options: { num_ctx: 8192, temperature: 0.2 }, keep_alive: '5m', think: false,
        }),
        path: () => '/v5/api/chat',
        upstream: (body) => ({ ...body, model: upstreamName('ollama') }),
        upstreamPath: () => '/api/chat',
        directHeaders: {},
      },
    };
    for (const [pv, k] of Object.entries(cases)) {
      const col = `${pv} -> ${pv}`;
      const roundTrip = async (stream) => {
        const body = k.body(stream);
        const res = await gwPost(pv, k.path(stream), body);
        const { text, error } = await readBody(res);
        assert.equal(error, null, `read the answer: ${error}`);
        assert.equal(res.status, 200, text.slice(0, 400));
        const [rec] = await recorded(mocks[pv], { count: 1 });
        checkWire(pv, rec, pv, { stream, model: upstreamName(pv) });
        assert.equal(rec.path, k.upstreamPath(stream));
        // Replayed to the mock as the gateway sent it: what the mock answers to it, byte for byte.
        const d = await fetch(mocks[pv].url + rec.path, { method: 'POST', headers: { 'content-type': 'application/json', ...k.directHeaders }, body: rec.body });
        const want = await d.text();
        assert.equal(d.status, 200, want);
        return { body, rec, text, want };
      };
      cell(G, 'request: unknown fields reach the provider', col, async () => {
        const { body, rec } = await roundTrip(false);
        assert.deepEqual(rec.bodyJson, k.upstream(body), `upstream body: ${rec.body}`);
      });
      cell(G, 'answer: bytes as the provider sent them', col, async () => {
        const { text, want } = await roundTrip(false);
        assert.equal(mask(text), mask(want));
      });
      cell(G, 'stream: bytes as the provider sent them', col, async () => {
        const { body, rec, text, want } = await roundTrip(true);
        assert.deepEqual(rec.bodyJson, k.upstream(body), `upstream body: ${rec.body}`);
        assert.equal(mask(text), mask(want));
      });
      cell(G, 'stream: billed by the usage the provider reported', col, async () => {
        const before = await tokensUsed();
        const { want } = await roundTrip(true);
        const reported = streamedTotal(pv, want);
        assert.ok(reported > 0, `the provider's stream reports usage: ${want.slice(-300)}`);
        assert.equal(await tokensUsed(), before + reported);
      });
    }
    // The mock has no way to produce a thinking block or safety ratings in an answer: the answer
    // side is covered by the byte comparisons above (usage cache fields, modelVersion, durations...).
  });

  // 4. Embeddings through native providers (/v1/embeddings does not exist yet): Gemini's
  // :batchEmbedContents and Ollama's /api/embed, to gemini and ollama providers; an anthropic
  // provider has no embeddings (not expressible: 400).
  describe('embeddings', () => {
    const G = 'embeddings';
    const INPUT = ['alpha', 'beta'], DIMS = 4;
    const clients = {
      gemini: {
        errorStatus: (e) => e?.status,
        async embed(model) {
          const g = new GoogleGenAI({ apiKey: CLIENT, httpOptions: { baseUrl: `${gw.url}/v2`, timeout: 10000, retryOptions: { attempts: 1 } } });
          const r = await g.models.embedContent({ model, contents: INPUT, config: { outputDimensionality: DIMS } });
          return r.embeddings.map((e) => e.values);
        },
      },
      ollama: {
        errorStatus: (e) => e?.status_code,
        async embed(model) {
          const o = new Ollama({ host: `${gw.url}/v5`, headers: { Authorization: `Bearer ${CLIENT}` } });
          return (await o.embed({ model, input: INPUT, dimensions: DIMS })).embeddings;
        },
      },
    };
    for (const [cn, c] of Object.entries(clients)) {
      for (const pv of NATIVE) {
        const model = `emb-${pv}`;
        if (pv === 'anthropic') {
          cell(G, 'embeddings (anthropic provider: the documented 400)', `${cn} -> ${pv}`, async () => {
            const e = await rejects(c.embed(model));
            assert.equal(c.errorStatus(e), 400, `status ${c.errorStatus(e)}: ${e?.message}`);
            assert.match(String(e?.message ?? e), /embed/i);
            await recorded(mocks[pv], { count: 0 });
          });
          continue;
        }
        cell(G, 'embeddings (anthropic provider: the documented 400)', `${cn} -> ${pv}`, async () => {
          const vectors = await c.embed(model);
          const [rec] = await recorded(mocks[pv], { count: 1 });
          checkWire(pv, rec, pv, { op: 'embed', model });
          const b = rec.bodyJson;
          if (pv === 'gemini') {
            assert.deepEqual(b.requests.map((q) => q.model), INPUT.map(() => `models/${model}`));
            assert.deepEqual(b.requests.map((q) => partsText(q.content.parts)), INPUT);
            assert.deepEqual(b.requests.map((q) => q.outputDimensionality), INPUT.map(() => DIMS), `outputDimensionality: ${rec.body}`);
          } else {
            assert.deepEqual(b.input, INPUT);
            assert.equal(b.dimensions, DIMS, `dimensions: ${rec.body}`);
          }
          const d = await fetch(mocks[pv].url + rec.path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': 'direct' }, body: rec.body });
          const j = await d.json();
          const want = pv === 'gemini' ? j.embeddings.map((e) => e.values) : j.embeddings;
          assert.equal(want.length, INPUT.length);
          assert.ok(want.every((v) => v.length === DIMS), 'the mock made vectors of the asked size');
          // Across protocols the vectors are re-serialised from doubles (Boost.JSON 1.81 parses them
          // with up to 1 ulp of error); same-protocol answers are passed through byte for byte.
          assert.equal(vectors.length, want.length);
          vectors.forEach((v, i) => {
            assert.equal(v.length, want[i].length);
            v.forEach((x, j) => assert.ok(Math.abs(x - want[i][j]) <= 1e-12 * Math.max(1, Math.abs(want[i][j])), `${x} vs ${want[i][j]}`));
          });
        });
      }
    }
  });
});
