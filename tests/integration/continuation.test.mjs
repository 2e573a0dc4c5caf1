// Streams cut mid-answer and continued by assistant prefill on the next candidate or fallback
// model (issue 12 item 2, docs/ROUTING.md "Continuing a cut stream"). mockA serves the first part
// and is cut (or stalls) after a few events; mockB continues. Each test asserts the exact text
// the client assembled (the mock's canonical answer, nothing repeated or missing at the seam),
// the prefill mockB received, what was billed, and the honest error where nothing may continue.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startMock, startGateway, mockProvider, userKeys, newKey, sseEvents, openTier, postChat, modelPosts, tokensUsed,
  waitFor,
} from './lib/harness.mjs';
import { protocols } from './lib/protocols.mjs';

const USER = newKey();
const GREETING = 'Hello! I am the anygpt mock provider. How can I help you today?';
const CLIENTS = protocols.map((p) => p.name);
const NATIVE = ['anthropic', 'gemini', 'ollama'];
const ask = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'hello there' }], stream: true, ...extra });
const text = (events) => events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e))
  .flatMap((p) => p.choices ?? []).map((c) => c.delta?.content ?? '').join('');
// The prefill (final assistant message) a continuation request carried, in any of the four formats.
function prefillOf(post) {
  const b = post.bodyJson;
  const last = (b.messages ?? b.contents ?? []).at(-1);
  if (!last || !['assistant', 'model'].includes(last.role)) return null;
  if (typeof last.content === 'string') return last.content;
  const parts = last.content ?? last.parts ?? [];
  return parts.map((p) => p.text ?? '').join('');
}
// A cut after `events` SSE events of the first provider: the role chunk, then ~3-character chunks.
const cutAfter = (mock, model, events = 4, fault = 'stream_cut') => mock.fault({ fault, afterChunks: events, model, count: 1 });

function provider(id, protocol, mock, models, extra = {}) {
  const p = mockProvider(mock, id, models, extra);
  p.protocol = protocol;
  p.provider_url = protocol === 'gemini' ? `${mock.url}/v1beta` : protocol === 'openai' ? `${mock.url}/v1/chat/completions` : mock.url;
  return p;
}

// skip-b may not continue 'skip': its capability_skips say so.
function skipping(p) {
  p.models.skip.capability_skips = { assistant_prefill: 'answers a trailing assistant message anew' };
  return p;
}

describe('a stream cut mid-answer is continued by prefill', () => {
  let mockA, mockB, gw;
  const clientModels = CLIENTS.map((c) => `cm-${c}`);
  const nativeModels = NATIVE.map((pv) => `nx-${pv}`);
  const plain = ['stall', 'refused', 'skip', 'bad400', 'tools', 'billing'];
  const prefillModels = [...clientModels, ...plain, 'fb-target'];

  before(async () => {
    [mockA, mockB] = await Promise.all([startMock(), startMock()]);
    const withCaps = (id, caps) => ({ id, object: 'model', created: 1, owned_by: 'x', capabilities: caps });
    gw = await startGateway({
      files: {
        tiers: { open: openTier() }, excluded: { patterns: [] },
        keys: userKeys({ [USER]: { userId: 'cont', tier: 'open' } }),
        // First in file order: tried first (ROUTING_SPREAD_POINTS 0).
        providers: [
          ...NATIVE.map((pv) => provider(`${pv}-a`, pv, mockA, [`wx-${pv}`])),
          provider('cut-a', 'openai', mockA, [...clientModels, ...nativeModels, ...plain, 'fb-first']),
          provider('cont-b', 'openai', mockB, [...clientModels, ...plain.filter((m) => m !== 'skip'), 'fb-target']),
          skipping(provider('skip-b', 'openai', mockB, ['skip'])),
          ...NATIVE.map((pv) => provider(`${pv}-b`, pv, mockB, [`nx-${pv}`, `wx-${pv}`])),
        ],
        models: { object: 'list', data: [
          ...prefillModels.map((m) => withCaps(m, m === 'refused' ? ['text'] : ['text', 'assistant_prefill'])),
          { id: 'fb-first', object: 'model', created: 1, owned_by: 'x', fallbacks: ['fb-target'] },
        ] },
      },
      env: { ROUTING_SPREAD_POINTS: '0', UPSTREAM_IDLE_TIMEOUT_MS: '500', LOG_LEVEL: 'warn' },
    });
  });
  after(async () => { await gw?.cleanup(); await mockA?.stop(); await mockB?.stop(); });
  beforeEach(async () => {
    for (const m of [mockA, mockB]) { await m.control('/mock/faults', 'DELETE'); await m.control('/mock/requests', 'DELETE'); }
  });

  for (const p of protocols) {
    test(`${p.name} client: the answer is finished on the next provider, exactly once`, async () => {
      const model = `cm-${p.name}`;
      await cutAfter(mockA, model);
      const out = await p.stream(gw, USER, { model, turns: [{ role: 'user', text: 'hello there' }] });
      assert.equal(out.text, GREETING);
      assert.equal(out.finish, 'stop');
      const [cont] = await modelPosts(mockB);
      const prefill = prefillOf(cont);
      assert.ok(prefill && GREETING.startsWith(prefill) && prefill.length < GREETING.length, `prefill ${prefill}`);
      assert.equal(prefill, prefill.trimEnd(), 'sent without trailing whitespace');
      assert.equal((await modelPosts(mockA)).length, 1, 'never restarted on the cut provider');
    });
  }

  for (const pv of NATIVE) {
    test(`openai client: continued on a native ${pv} provider`, async () => {
      const model = `nx-${pv}`;
      await cutAfter(mockA, model);
      const r = await postChat(gw, ask(model), USER);
      assert.equal(r.status, 200);
      const events = await sseEvents(r);
      assert.equal(events.at(-1), '[DONE]');
      assert.equal(text(events), GREETING);
      const [cont] = await modelPosts(mockB);
      assert.ok(GREETING.startsWith(prefillOf(cont)), JSON.stringify(cont.bodyJson));
    });
  }

  // A native provider's stream relayed untouched to a client of its own protocol, cut, and
  // finished on another provider of that protocol (the request is decoded only then).
  const own = { anthropic: 5, gemini: 3, ollama: 3 };  // events before the cut: some text delivered
  for (const pv of NATIVE) {
    test(`${pv} client of a ${pv} provider: the relayed stream is finished on the next one`, async () => {
      const model = `wx-${pv}`;
      await cutAfter(mockA, model, own[pv]);
      const client = protocols.find((p) => p.name === pv);
      const out = await client.stream(gw, USER, { model, turns: [{ role: 'user', text: 'hello there' }] });
      assert.equal(out.text, GREETING);
      assert.equal(out.finish, 'stop');
      const [cut] = await modelPosts(mockA);
      const [cont] = await modelPosts(mockB);
      assert.equal(prefillOf(cut), null, 'the first part was the client\'s own request');
      const prefill = prefillOf(cont);
      assert.ok(prefill && GREETING.startsWith(prefill) && prefill.length < GREETING.length, `prefill ${prefill}`);
    });
  }

  test('billing: both parts, and the usage the client sees covers them', async () => {
    await cutAfter(mockA, 'billing');
    const before = await tokensUsed(gw, USER);
    const r = await postChat(gw, ask('billing', { stream_options: { include_usage: true } }), USER);
    const events = await sseEvents(r);
    assert.equal(text(events), GREETING);
    const usage = JSON.parse(events.at(-2)).usage;
    const prefill = prefillOf((await modelPosts(mockB))[0]);
    const firstChars = prefill.length + (GREETING[prefill.length] === ' ' ? 1 : 0);  // the client got the space
    const rest = GREETING.length - prefill.length;
    assert.equal(usage.completion_tokens, Math.ceil(firstChars / 4) + Math.ceil(rest / 4));
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
    assert.equal((await tokensUsed(gw, USER)) - before, usage.total_tokens, 'billed what the client was shown');
    const stats = await waitFor(() => {
      const p = gw.readJson('providers.json');
      const cut = p.find((x) => x.id === 'cut-a').models.billing;
      return cut.errors === 1 && { cut, cont: p.find((x) => x.id === 'cont-b').models.billing };
    });
    assert.ok(stats, 'the cut counts as an error of cut-a/billing');
    assert.equal(stats.cont.errors, 0, 'the continuation served');
  });

  test('a stall past the idle timeout is continued too', async () => {
    await cutAfter(mockA, 'stall', 5, 'stream_stall');
    const t0 = Date.now();
    const events = await sseEvents(await postChat(gw, ask('stall'), USER));
    assert.ok(Date.now() - t0 >= 450, 'waited for the idle timeout');
    assert.equal(events.at(-1), '[DONE]');
    assert.equal(text(events), GREETING);
  });

  test('a cut continued on a fallback model', async () => {
    await cutAfter(mockA, 'fb-first');
    const r = await postChat(gw, ask('fb-first'), USER);
    const events = await sseEvents(r);
    assert.equal(text(events), GREETING);
    const [cont] = await modelPosts(mockB);
    assert.equal(cont.model, 'fb-target');
    assert.ok(GREETING.startsWith(prefillOf(cont)));
  });

  test('no candidate accepts prefill: the real failure in-band, no [DONE], nothing restarted', async () => {
    await cutAfter(mockA, 'refused');
    const before = await tokensUsed(gw, USER);
    const events = await sseEvents(await postChat(gw, ask('refused'), USER));
    assert.ok(!events.includes('[DONE]'));
    const last = JSON.parse(events.at(-1));
    assert.match(last.error.message, /cut-a/, 'names the provider that broke');
    const delivered = text(events.slice(0, -1));
    assert.ok(delivered.length > 0 && GREETING.startsWith(delivered));
    assert.equal((await modelPosts(mockB)).length, 0, 'an OpenAI host without assistant_prefill is not asked');
    assert.equal((await tokensUsed(gw, USER)) - before, Math.ceil(delivered.length / 4), 'the delivered part billed');
  });

  test('capability_skips assistant_prefill keeps a provider out of the continuation', async () => {
    await cutAfter(mockA, 'skip');
    const events = await sseEvents(await postChat(gw, ask('skip'), USER));
    assert.ok(!events.includes('[DONE]'));
    assert.equal((await modelPosts(mockB)).length, 0);
  });

  test("a continuation's 400 never hides the real failure", async () => {
    await cutAfter(mockA, 'bad400');
    await mockB.fault({ fault: 'status', status: 400, message: 'prefill not supported', model: 'bad400', count: 1 });
    const events = await sseEvents(await postChat(gw, ask('bad400'), USER));
    assert.ok(!events.includes('[DONE]'));
    const last = JSON.parse(events.at(-1));
    assert.match(last.error.message, /cut-a/);
    assert.doesNotMatch(last.error.message, /prefill not supported/);
    assert.equal((await modelPosts(mockB)).length, 1);
  });

  test('a cut inside tool-call arguments is not continued', async () => {
    await cutAfter(mockA, 'tools', 2);
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    const events = await sseEvents(await postChat(gw, ask('tools', { tools }), USER));
    assert.ok(!events.includes('[DONE]'));
    assert.ok(JSON.parse(events.at(-1)).error);
    assert.equal((await modelPosts(mockB)).length, 0);
  });
});
