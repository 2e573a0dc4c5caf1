// The capability matrix: the same scenarios driven through every client protocol anygpt serves,
// each with its official SDK (lib/protocols.mjs), against the real gateway and two real mock
// providers. One test per (scenario, protocol), named "<scenario> via <protocol>", so a gap in one
// protocol shows as one failing cell. Each test checks what the SDK returned and what reached the
// mock upstream (its /mock/requests recorder), including that the mock saw the provider's key and
// never the client's. Expected answers and usage come from the mock itself: the request it recorded
// is replayed to it directly (non-stream), which applies its documented rules (docs/MOCK.md).
// The `after` hook prints the matrix as a markdown table (for docs/PROTOCOLS.md).
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { startMock, startGateway, mockProvider, userKeys, newKey, openTier, sleep, BUILD_DIR } from './lib/harness.mjs';
import { protocols } from './lib/protocols.mjs';

const MODEL = 'mock-gpt-4';
const CLIENT = newKey();
const RATE_KEYS = Object.fromEntries(protocols.map((p) => [p.name, newKey()]));
const failoverModel = (p) => `failover-${p.name}`;
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const WEATHER = {
  name: 'get_weather', description: 'Current weather for a city',
  parameters: { type: 'object', properties: { location: { type: 'string', description: 'City name' } }, required: ['location'] },
};
const STREAM_CHUNKS = 6, CHUNK_INTERVAL_MS = 60;

let mockA, mockB, gw;
const crashes = [];  // cells during which the gateway died (it is restarted for the next cell)
const gwDead = () => gw && (gw.proc.exitCode !== null || gw.proc.signalCode !== null);

function startGw() {
  const failovers = protocols.map(failoverModel);
  return startGateway({
    files: {
      tiers: { open: openTier(), rpm1: openTier({ rpm: 1 }), enterprise: openTier() },
      keys: userKeys({
        [CLIENT]: { userId: 'matrix-user', tier: 'open' },
        ...Object.fromEntries(protocols.map((p) => [RATE_KEYS[p.name], { userId: `matrix-rate-${p.name}`, tier: 'rpm1' }])),
      }),
      // mock-a is first in file order, so a fresh failover model is tried on it first.
      providers: [mockProvider(mockA, 'mock-a', [MODEL, ...failovers]), mockProvider(mockB, 'mock-b', failovers)],
      excluded: { patterns: [] },
    },
    env: { ROUTING_SPREAD_POINTS: '0' },
  });
}

// ---- helpers ------------------------------------------------------------------------------------

// build/ may be mid-rebuild: wait until both binaries exist and have stopped changing.
async function waitForBinaries(timeoutMs = 30000) {
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

// Text of an OpenAI message content as the mock reads it (string, or text parts joined by a space).
const contentText = (c) => (typeof c === 'string' ? c : Array.isArray(c) ? c.filter((p) => p.type === 'text').map((p) => p.text).join(' ') : '');

// The chat requests a mock received; asserts their count and that each carried the provider's key
// (and nowhere the client's). Returns the parsed bodies.
async function upstream(mock, providerId, count, clientKey = CLIENT) {
  const recs = (await mock.requests()).requests.filter((r) => r.method === 'POST' && r.path.startsWith('/v1/chat/completions'));
  assert.equal(recs.length, count, `${providerId} got ${recs.length} chat requests, expected ${count}: ${recs.map((r) => r.body.slice(0, 300)).join(' | ')}`);
  for (const r of recs) {
    assert.equal(r.headers.authorization, `Bearer provider-secret-${providerId}`, 'the mock saw the provider key');
    for (const [h, v] of Object.entries(r.headers)) assert.ok(!String(v).includes(clientKey), `client key leaked upstream in ${h}`);
    assert.ok(r.bodyJson && typeof r.bodyJson === 'object', `upstream body is JSON: ${r.body.slice(0, 200)}`);
  }
  return recs.map((r) => r.bodyJson);
}
const onlyBody = async (mock = mockA, id = 'mock-a') => (await upstream(mock, id, 1))[0];

// What the mock answers for the body it recorded, asked directly without streaming.
async function mockAnswer(body, mock = mockA) {
  const direct = { ...body, stream: false };
  delete direct.stream_options;
  const r = await fetch(`${mock.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(direct) });
  assert.equal(r.status, 200, 'direct call to the mock');
  const j = await r.json();
  const m = j.choices[0].message;
  return { text: m.content ?? '', toolCalls: m.tool_calls ?? [], usage: { input: j.usage.prompt_tokens, output: j.usage.completion_tokens } };
}

const lastUser = (body) => body.messages.filter((m) => m.role === 'user').at(-1);
const conversation = (body) => body.messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role, text: contentText(m.content) }));

async function rejects(promise) {
  try { await promise; } catch (e) { return e; }
  assert.fail('expected the SDK call to fail, but it succeeded');
}
function assertSdkError(p, e, status) {
  assert.equal(p.errorProblem(e), null);
  assert.equal(p.errorStatus(e), status, `status ${p.errorStatus(e)}: ${p.errorMessage(e).slice(0, 300)}`);
}

function assertWeatherCall(r, body, expected, p) {
  const t = body.tools;
  assert.ok(Array.isArray(t) && t.length === 1, `mock got tools: ${JSON.stringify(t)}`);
  assert.equal(t[0].type, 'function');
  assert.equal(t[0].function.name, WEATHER.name);
  assert.equal(t[0].function.description, WEATHER.description);
  assert.deepEqual(t[0].function.parameters, WEATHER.parameters, 'parameters as JSON schema with lower-case types');
  assert.equal(expected.toolCalls.length, 1, 'the mock answers this request with a tool call');
  const want = expected.toolCalls[0].function;
  assert.equal(want.name, 'get_weather');
  assert.equal(r.toolCalls.length, 1, `client got tool calls: ${JSON.stringify(r.toolCalls)} text ${JSON.stringify(r.text)}`);
  assert.equal(r.toolCalls[0].name, want.name);
  assert.deepEqual(r.toolCalls[0].args, JSON.parse(want.arguments));
  assert.deepEqual(r.toolCalls[0].args, { location: 'Paris' });
  if (p.sendsToolIds) assert.ok(typeof r.toolCalls[0].id === 'string' && r.toolCalls[0].id.length > 0, 'the call has an id');
  assert.equal(r.finish, 'tool');
}

const hello = { model: MODEL, turns: [{ role: 'user', text: 'hello there' }] };
const weatherReq = { model: MODEL, turns: [{ role: 'user', text: 'What is the weather in Paris?' }], tools: [WEATHER] };

// ---- scenarios ----------------------------------------------------------------------------------

const scenarios = [
  ['non-stream text', async (p) => {
    const r = await p.chat(gw, CLIENT, hello);
    const body = await onlyBody();
    assert.equal(body.model, MODEL);
    assert.ok(!body.stream, 'not streamed upstream');
    assert.equal(contentText(lastUser(body).content), 'hello there');
    const want = await mockAnswer(body);
    assert.equal(r.text, want.text);
    assert.equal(r.finish, 'stop');
    assert.deepEqual(r.toolCalls, []);
  }],

  ['system prompt', async (p) => {
    const system = 'You are a terse assistant. Answer in French.';
    const r = await p.chat(gw, CLIENT, { ...hello, system });
    const body = await onlyBody();
    const sys = body.messages.filter((m) => m.role === 'system');
    assert.equal(sys.length, 1, `one system message: ${JSON.stringify(body.messages)}`);
    assert.equal(body.messages[0].role, 'system', 'the system message comes first');
    assert.equal(contentText(sys[0].content), system);
    assert.equal(r.text, (await mockAnswer(body)).text);
  }],

  ['multi-turn', async (p) => {
    const turns = [
      { role: 'user', text: 'My name is Ada.' },
      { role: 'assistant', text: 'Nice to meet you, Ada.' },
      { role: 'user', text: 'What is my name?' },
    ];
    const r = await p.chat(gw, CLIENT, { model: MODEL, turns });
    const body = await onlyBody();
    assert.deepEqual(conversation(body), turns);
    assert.equal(r.text, (await mockAnswer(body)).text);
  }],

  ['stream', async (p) => {
    await mockA.control('/mock/config', 'POST', { streamChunks: STREAM_CHUNKS, chunkIntervalMs: CHUNK_INTERVAL_MS });
    const r = await p.stream(gw, CLIENT, hello);
    const body = await onlyBody();
    assert.equal(body.stream, true, 'streamed upstream');
    const want = await mockAnswer(body);
    assert.equal(r.deltas.join(''), want.text, `deltas ${JSON.stringify(r.deltas)}`);
    assert.equal(r.text, want.text);
    assert.ok(r.deltas.length >= 3, `${r.deltas.length} deltas`);
    assert.equal(r.finish, 'stop');
    // The mock spaces its 6 chunks 60 ms apart: a relay that buffers delivers them all at the end.
    const lead = r.endedAt - r.times[0];
    assert.ok(lead >= (STREAM_CHUNKS - 2) * CHUNK_INTERVAL_MS * 0.75,
              `first delta only ${lead} ms before the end (stream took ${r.endedAt - r.startedAt} ms): not delivered as it arrives`);
  }],

  ['tools declared and called', async (p) => {
    const r = await p.chat(gw, CLIENT, weatherReq);
    const body = await onlyBody();
    assert.ok(!body.stream);
    assertWeatherCall(r, body, await mockAnswer(body), p);
  }],

  ['tools streamed', async (p) => {
    const r = await p.stream(gw, CLIENT, weatherReq);
    const body = await onlyBody();
    assert.equal(body.stream, true);
    assertWeatherCall(r, body, await mockAnswer(body), p);
    assert.equal(r.text, '', 'no text next to the call');
  }],

  ['tool result sent back', async (p) => {
    const prior = { id: 'call_prior_1', name: 'get_weather', args: { location: 'Paris' }, result: 'sunny, 21 C' };
    const r = await p.chat(gw, CLIENT, { ...weatherReq, toolResult: prior });
    const body = await onlyBody();
    const roles = body.messages.map((m) => m.role);
    const ai = roles.indexOf('assistant'), ti = roles.indexOf('tool');
    assert.ok(ai >= 0 && ti > ai, `an assistant message then a tool message: ${JSON.stringify(body.messages)}`);
    const calls = body.messages[ai].tool_calls;
    assert.equal(calls?.length, 1, `assistant tool_calls: ${JSON.stringify(body.messages[ai])}`);
    assert.equal(calls[0].type, 'function');
    assert.equal(calls[0].function.name, prior.name);
    assert.deepEqual(JSON.parse(calls[0].function.arguments), prior.args);
    const tool = body.messages[ti];
    assert.ok(typeof calls[0].id === 'string' && calls[0].id, 'the call has an id upstream');
    assert.equal(tool.tool_call_id, calls[0].id, 'tool_call_id matches the call');
    if (p.sendsToolIds) assert.equal(tool.tool_call_id, prior.id, 'the client\'s call id is kept');
    const content = typeof tool.content === 'string' ? tool.content : JSON.stringify(tool.content);
    assert.ok(content.includes(prior.result), `tool content carries the result: ${content}`);
    assert.equal(contentText(body.messages[0].content), weatherReq.turns[0].text);
    const want = await mockAnswer(body);
    assert.equal(want.toolCalls.length, 0, 'after a tool result the mock answers with text');
    assert.equal(r.text, want.text);
    assert.equal(r.finish, 'stop');
  }],

  ['image input', async (p) => {
    const text = 'What is in this picture?';
    const r = await p.chat(gw, CLIENT, { model: MODEL, turns: [{ role: 'user', text }], image: { mime: 'image/png', base64: PNG } });
    const body = await onlyBody();
    const parts = lastUser(body).content;
    assert.ok(Array.isArray(parts), `user content is an array of parts: ${JSON.stringify(parts)}`);
    const img = parts.filter((x) => x.type === 'image_url');
    assert.equal(img.length, 1, `one image_url part: ${JSON.stringify(parts)}`);
    assert.equal(img[0].image_url?.url, `data:image/png;base64,${PNG}`);
    assert.equal(contentText(parts), text);
    assert.equal(r.text, (await mockAnswer(body)).text);
  }],

  ['usage', async (p) => {
    const r = await p.chat(gw, CLIENT, { model: MODEL, system: 'Count carefully.', turns: [{ role: 'user', text: 'Count my tokens please, this is the usage test.' }] });
    const want = await mockAnswer(await onlyBody());
    assert.deepEqual(r.usage, want.usage);
  }],

  ['usage streamed', async (p) => {
    const r = await p.stream(gw, CLIENT, { model: MODEL, system: 'Count carefully.', turns: [{ role: 'user', text: 'Count my streamed tokens please.' }] });
    const body = await onlyBody();
    assert.equal(body.stream, true);
    assert.deepEqual(r.usage, (await mockAnswer(body)).usage);
  }],

  ['max tokens forwarded', async (p) => {
    await p.chat(gw, CLIENT, { ...hello, maxTokens: 77 });
    const body = await onlyBody();
    assert.equal(body.max_tokens ?? body.max_completion_tokens, 77, `upstream body: ${JSON.stringify(body)}`);
  }],

  ['bad key', async (p) => {
    const e = await rejects(p.chat(gw, `sk-bad-${newKey()}`, hello));
    assertSdkError(p, e, 401);
    await upstream(mockA, 'mock-a', 0);
  }],

  ['unknown model', async (p) => {
    // The route serves a known model (so the 404 below is the model's, not a missing route's).
    assert.ok((await p.chat(gw, CLIENT, hello)).text.length > 0);
    const model = `no-such-model-${p.name}`;
    const e = await rejects(p.chat(gw, CLIENT, { ...hello, model }));
    assertSdkError(p, e, 404);
    assert.ok(p.errorMessage(e).includes(model), `the error names the model: ${p.errorMessage(e)}`);
    assert.doesNotMatch(p.errorMessage(e), /unknown route/i);
    const seen = await upstream(mockA, 'mock-a', 1);
    assert.equal(seen[0].model, MODEL, 'the unknown model never reached a provider');
  }],

  ['rate limit', async (p) => {
    const key = RATE_KEYS[p.name];
    const first = await p.chat(gw, key, hello);
    assert.ok(first.text.length > 0);
    const e = await rejects(p.chat(gw, key, hello));
    assertSdkError(p, e, 429);
    await upstream(mockA, 'mock-a', 1, key);
  }],

  ['upstream failure with failover', async (p) => {
    const model = failoverModel(p);
    await mockA.fault({ fault: 'status', status: 500, model });
    const r = await p.chat(gw, CLIENT, { ...hello, model });
    const failed = await upstream(mockA, 'mock-a', (await mockA.requests()).counts[model] ?? 0);
    assert.ok(failed.length >= 1, 'the faulty provider was called first');
    for (const b of failed) assert.equal(b.model, model);
    const [served] = await upstream(mockB, 'mock-b', 1);
    assert.equal(served.model, model);
    assert.equal(r.text, (await mockAnswer(served, mockB)).text);
    assert.equal(r.finish, 'stop');
  }],
];

// ---- the matrix ---------------------------------------------------------------------------------

const cells = new Map();  // `${scenario}|${protocol}` -> {ok, reason}

describe('protocol capability matrix', () => {
  before(async () => {
    await waitForBinaries();
    [mockA, mockB] = await Promise.all([startMock(), startMock()]);
    gw = await startGw();
  });

  after(async () => {
    await gw?.cleanup();
    await Promise.all([mockA?.stop(), mockB?.stop()]);
    const mark = (s, p) => { const c = cells.get(`${s}|${p.name}`); return c ? (c.ok ? '✓' : '✗') : '-'; };
    const lines = [`| scenario | ${protocols.map((p) => p.name).join(' | ')} |`, `|---|${protocols.map(() => ':-:').join('|')}|`];
    for (const [s] of scenarios) lines.push(`| ${s} | ${protocols.map((p) => mark(s, p)).join(' | ')} |`);
    const failing = [...cells].filter(([, c]) => !c.ok).map(([k, c]) => `- ${k.replace('|', ' via ')}: ${c.reason}`);
    console.log(`\n${lines.join('\n')}\n${failing.length ? `\nFailing cells:\n${failing.join('\n')}\n` : ''}` +
                (crashes.length ? `\nThe gateway crashed during: ${crashes.join(', ')}\n` : ''));
  });

  beforeEach(async () => {
    // A gateway crash fails its own cell only: the next cell gets a fresh gateway.
    if (gwDead()) { await gw.cleanup(); gw = await startGw(); }
    await Promise.all([mockA, mockB].map((m) => m.control('/mock/reset', 'POST')));
  });

  for (const [name, run] of scenarios) {
    for (const p of protocols) {
      test(`${name} via ${p.name}`, { timeout: 15000 }, async () => {
        try {
          await run(p);
          cells.set(`${name}|${p.name}`, { ok: true });
        } catch (e) {
          await sleep(100);
          const status = p.errorStatus(e);
          const died = gwDead() ? `GATEWAY DIED (${gw.proc.signalCode ?? gw.proc.exitCode}); ` : '';
          if (died) crashes.push(`${name} via ${p.name}`);
          const reason = `${died}${status ? `HTTP ${status}: ` : ''}${String(p.errorMessage(e)).replace(/\s+/g, ' ').slice(0, 240)}`;
          cells.set(`${name}|${p.name}`, { ok: false, reason });
          throw e;
        }
      });
    }
  }
});
