// POST /v1/responses (and GET /v1/responses/{id}) driven by the official `openai` SDK (v6):
// `client.responses.create()`, `client.responses.stream()` and `create({stream: true})` against
// the gateway translating to chat completions on the mock, and forwarding untouched to a
// provider declared with "protocol": "openai-responses" (the mock's own /v1/responses); and
// what reached the mock each time.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMock, startGateway, mockProvider, userKeys, newKey, openTier, rejectsWith } from './lib/harness.mjs';

const USER = newKey();
const USAGE_USER = newKey();
const MODEL = 'mock-gpt-4';
const FAILOVER = 'resp-failover';
const CLAUDE = 'claude-mock';  // served by the mock's native Anthropic API, which applies max_tokens
const NATIVE = 'gpt-native';   // served only by mockC's Responses API
const MIXED = 'gpt-mixed';     // mockC's Responses API first, then mock-a's chat completions
const HAIKU = 'Silent servers hum\nA mock reply drifts like snow\nTests pass in the night';
const GREETING = 'Hello! I am the anygpt mock provider. How can I help you today?';
const weather = {
  type: 'function', name: 'get_weather', description: 'Weather for a city', strict: false,
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
};

let mockA, mockB, mockC, gw;
const client = (apiKey = USER) => new OpenAI({ apiKey, baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 10000 });

// The chat requests the mock received since the last reset, parsed; each with the provider's key.
async function chatRequests(mock, providerId) {
  const recs = (await mock.requests()).requests.filter((r) => r.method === 'POST');
  for (const r of recs) {
    if (r.path.startsWith('/v1/chat/completions')) assert.equal(r.headers.authorization, `Bearer provider-secret-${providerId}`);
    for (const v of Object.values(r.headers)) assert.ok(!String(v).includes(USER), 'client key leaked upstream');
  }
  return recs;
}
const bodies = async (mock, id) => (await chatRequests(mock, id)).map((r) => r.bodyJson);

// The event types a text-only stream has, in order.
function assertTextStreamOrder(types) {
  assert.deepEqual(types.slice(0, 5), ['response.created', 'response.in_progress', 'response.output_item.added',
                                       'response.content_part.added', 'response.output_text.delta']);
  const tail = types.slice(types.lastIndexOf('response.output_text.delta') + 1);
  assert.deepEqual(tail, ['response.output_text.done', 'response.content_part.done', 'response.output_item.done',
                          'response.completed']);
  for (const t of types.slice(4, types.length - 4)) assert.equal(t, 'response.output_text.delta');
}

before(async () => {
  [mockA, mockB, mockC] = await Promise.all([1, 2, 3].map(() => startMock({ MOCK_STREAM_CHUNKS: '5' })));
  gw = await startGateway({
    files: {
      tiers: { open: openTier() },
      keys: userKeys({ [USER]: { userId: 'resp-user', tier: 'open' }, [USAGE_USER]: { userId: 'resp-usage', tier: 'open' } }),
      // mock-a is first in file order, so the failover model is tried on it first.
      providers: [
        mockProvider(mockC, 'mock-native', [NATIVE, MIXED], { protocol: 'openai-responses', provider_url: `${mockC.url}/v1` }),
        mockProvider(mockA, 'mock-a', [MODEL, FAILOVER, MIXED]),
        mockProvider(mockB, 'mock-b', [FAILOVER]),
        mockProvider(mockA, 'mock-claude', [CLAUDE], { protocol: 'anthropic', provider_url: mockA.url }),
      ],
      excluded: { patterns: [] },
    },
    env: { ROUTING_SPREAD_POINTS: '0' },
  });
});
after(async () => { await gw?.cleanup(); await Promise.all([mockA?.stop(), mockB?.stop(), mockC?.stop()]); });
beforeEach(async () => {
  for (const m of [mockA, mockB, mockC]) { await m.control('/mock/requests', 'DELETE'); await m.control('/mock/faults', 'DELETE'); }
});

describe('responses.create', () => {
  test('text: a Response object, and the chat request that reached the mock', async () => {
    const { data: r, request_id } = await client().responses.create({ model: MODEL, input: 'hello there' }).withResponse();
    assert.match(r.id, /^resp_/);
    assert.equal(r.object, 'response');
    assert.equal(r.status, 'completed');
    assert.equal(r.model, MODEL);
    assert.equal(r.output_text, GREETING);
    assert.equal(r.output.length, 1);
    assert.equal(r.output[0].type, 'message');
    assert.equal(r.output[0].role, 'assistant');
    assert.equal(r.output[0].status, 'completed');
    assert.deepEqual(r.output[0].content, [{ type: 'output_text', text: GREETING, annotations: [], logprobs: [] }]);
    assert.ok(Math.abs(r.created_at - Date.now() / 1000) < 3600 * 24 * 365 * 10, 'created_at is in seconds');
    assert.equal(r.error, null);
    assert.equal(r.incomplete_details, null);
    assert.equal(r.usage.input_tokens, 3);  // ceil("hello there".length / 4)
    assert.equal(r.usage.output_tokens, Math.ceil(GREETING.length / 4));
    assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);
    assert.equal(r.usage.input_tokens_details.cached_tokens, 0);
    assert.equal(r.usage.output_tokens_details.reasoning_tokens, 0);
    assert.match(request_id, /^req_/);
    assert.deepEqual(await bodies(mockA, 'mock-a'), [{ model: MODEL, messages: [{ role: 'user', content: 'hello there' }] }]);
  });

  test('instructions, developer messages, sampling and max_output_tokens are translated', async () => {
    const r = await client().responses.create({
      model: MODEL, instructions: 'Be brief.', max_output_tokens: 64, temperature: 0.3, top_p: 0.5, user: 'u1',
      metadata: { tag: 'x' }, store: true,
      input: [{ role: 'developer', content: 'Speak French.' },
              { role: 'user', content: [{ type: 'input_text', text: 'hello' }, { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' }] }],
    });
    assert.equal(r.output_text, GREETING);
    assert.equal(r.instructions, 'Be brief.');
    assert.equal(r.max_output_tokens, 64);
    assert.equal(r.temperature, 0.3);
    assert.deepEqual(r.metadata, { tag: 'x' });
    assert.equal(r.store, false, 'a translated response is not stored');
    assert.deepEqual(await bodies(mockA, 'mock-a'), [{
      model: MODEL,
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'system', content: 'Speak French.' },
                 { role: 'user', content: [{ type: 'text', text: 'hello' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } }] }],
      temperature: 0.3, top_p: 0.5, max_tokens: 64, user: 'u1',
    }]);
  });

  test('function tools: a function_call, then its function_call_output sent back', async () => {
    const question = { role: 'user', content: "What's the weather in Paris?" };
    const first = await client().responses.create({ model: MODEL, input: [question], tools: [weather], tool_choice: 'auto' });
    assert.equal(first.status, 'completed');
    assert.equal(first.output.length, 1);
    const call = first.output[0];
    assert.equal(call.type, 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.equal(call.arguments, '{"location":"Paris"}');
    assert.match(call.call_id, /^call_mock_/);
    assert.match(call.id, /^fc_/);
    assert.equal(first.output_text, '');
    const [sent] = await bodies(mockA, 'mock-a');
    assert.deepEqual(sent.tools, [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city',
      parameters: weather.parameters, strict: false } }]);
    assert.equal(sent.tool_choice, 'auto');

    await mockA.control('/mock/requests', 'DELETE');
    const second = await client().responses.create({
      model: MODEL, tools: [weather],
      input: [question, ...first.output, { type: 'function_call_output', call_id: call.call_id, output: '18C, cloudy' }],
    });
    assert.equal(second.output_text, "Mock reply to: What's the weather in Paris?");
    const [back] = await bodies(mockA, 'mock-a');
    assert.deepEqual(back.messages, [
      { role: 'user', content: "What's the weather in Paris?" },
      { role: 'assistant', content: null, tool_calls: [{ id: call.call_id, type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
      { role: 'tool', tool_call_id: call.call_id, content: '18C, cloudy' },
    ]);
  });

  test('text.format json_schema becomes response_format and is echoed', async () => {
    const format = { type: 'json_schema', name: 'answer', strict: true,
                     schema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false } };
    const r = await client().responses.create({ model: MODEL, input: 'hello', text: { format } });
    assert.deepEqual(r.text, { format });
    const [sent] = await bodies(mockA, 'mock-a');
    assert.deepEqual(sent.response_format, { type: 'json_schema', json_schema: { name: 'answer', schema: format.schema, strict: true } });
  });

  test('max_output_tokens cut short: status incomplete, reason max_output_tokens', async () => {
    const r = await client().responses.create({ model: CLAUDE, input: 'hello there', max_output_tokens: 5 });
    assert.equal(r.status, 'incomplete');
    assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(r.output[0].status, 'incomplete');
    assert.equal(r.output_text, GREETING.slice(0, 20));
    assert.equal(r.usage.output_tokens, 5);
    const native = (await mockA.requests()).requests.filter((q) => q.path === '/v1/messages');
    assert.equal(native.length, 1);
    assert.equal(native[0].bodyJson.max_tokens, 5);
  });

  test('usage is counted like chat in /v1/keys/me', async () => {
    const me = async () => (await (await fetch(`${gw.url}/v1/keys/me`, { headers: { authorization: `Bearer ${USAGE_USER}` } })).json()).usage;
    const before = await me();
    const r = await client(USAGE_USER).responses.create({ model: MODEL, input: 'hello there' });
    const mid = await me();
    assert.equal(mid.token_usage - before.token_usage, r.usage.total_tokens);
    assert.equal(mid.request_count - before.request_count, 1);
    const stream = client(USAGE_USER).responses.stream({ model: MODEL, input: 'hello there' });
    const final = await stream.finalResponse();
    const after = await me();
    assert.equal(after.token_usage - mid.token_usage, final.usage.total_tokens);
    assert.equal(after.request_count - mid.request_count, 1);
  });

  test('failover: the first provider answers 503, the second serves it', async () => {
    await mockA.fault({ fault: 'status', status: 503, model: FAILOVER });
    const r = await client().responses.create({ model: FAILOVER, input: 'hello there' });
    assert.equal(r.output_text, GREETING);
    assert.equal(r.model, FAILOVER);
    const failed = await bodies(mockA, 'mock-a');
    assert.ok(failed.length >= 1, 'the failing provider was tried first');
    for (const b of failed) assert.equal(b.model, FAILOVER);
    assert.deepEqual(await bodies(mockB, 'mock-b'), [{ model: FAILOVER, messages: [{ role: 'user', content: 'hello there' }] }]);
  });
});

describe('responses streaming', () => {
  test('responses.stream(): events in the API order, the final response and usage', async () => {
    const stream = client().responses.stream({ model: MODEL, input: 'hello there' });
    const events = [];
    let text = '';
    for await (const e of stream) {
      events.push(e);
      if (e.type === 'response.output_text.delta') text += e.delta;
    }
    const final = await stream.finalResponse();
    assertTextStreamOrder(events.map((e) => e.type));
    events.forEach((e, i) => assert.equal(e.sequence_number, i));
    assert.equal(text, GREETING);
    assert.ok(events.filter((e) => e.type === 'response.output_text.delta').length >= 3, 'several deltas');
    assert.equal(final.output_text, GREETING);
    assert.equal(final.status, 'completed');
    assert.equal(final.usage.input_tokens, 3);
    assert.equal(final.usage.output_tokens, Math.ceil(GREETING.length / 4));
    const [sent] = await bodies(mockA, 'mock-a');
    assert.deepEqual(sent, { model: MODEL, messages: [{ role: 'user', content: 'hello there' }], stream: true, stream_options: { include_usage: true } });
  });

  test('create({stream: true}): raw events end with response.completed carrying usage', async () => {
    const stream = await client().responses.create({ model: MODEL, input: 'hello there', stream: true });
    const events = [];
    for await (const e of stream) events.push(e);
    assertTextStreamOrder(events.map((e) => e.type));
    const done = events.at(-1).response;
    assert.equal(done.status, 'completed');
    assert.equal(done.output[0].content[0].text, GREETING);
    assert.equal(done.usage.total_tokens, done.usage.input_tokens + done.usage.output_tokens);
    const added = events.find((e) => e.type === 'response.output_item.added');
    const delta = events.find((e) => e.type === 'response.output_text.delta');
    assert.equal(delta.item_id, added.item.id);
    assert.equal(delta.output_index, 0);
    assert.equal(delta.content_index, 0);
    assert.equal(events[0].response.id, done.id);
  });

  test('a streamed function call', async () => {
    const stream = client().responses.stream({ model: MODEL, input: 'weather in Paris?', tools: [weather] });
    const types = [];
    let args = '';
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === 'response.function_call_arguments.delta') args += e.delta;
    }
    const final = await stream.finalResponse();
    assert.equal(args, '{"location":"Paris"}');
    assert.equal(final.output.length, 1);
    assert.equal(final.output[0].type, 'function_call');
    assert.equal(final.output[0].name, 'get_weather');
    assert.equal(final.output[0].arguments, '{"location":"Paris"}');
    assert.equal(final.output[0].status, 'completed');
    assert.deepEqual([types[2], types.at(-3), types.at(-2), types.at(-1)],
                     ['response.output_item.added', 'response.function_call_arguments.done', 'response.output_item.done', 'response.completed']);
  });

  test('a stream cut by max_output_tokens ends with response.incomplete', async () => {
    const stream = await client().responses.create({ model: CLAUDE, input: 'hello there', max_output_tokens: 5, stream: true });
    const events = [];
    for await (const e of stream) events.push(e);
    assert.equal(events.at(-1).type, 'response.incomplete');
    assert.deepEqual(events.at(-1).response.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(events.at(-1).response.output[0].content[0].text, GREETING.slice(0, 20));
  });

  test('a stream that breaks ends with response.failed and an error event, never a completion', async () => {
    await mockA.fault({ fault: 'stream_cut', afterChunks: 3, model: MODEL });
    const stream = await client().responses.create({ model: MODEL, input: 'hello there', stream: true });
    const events = [];
    for await (const e of stream) events.push(e);
    const types = events.map((e) => e.type);
    assert.deepEqual(types.slice(-2), ['response.failed', 'error']);
    assert.ok(!types.includes('response.completed'));
    assert.equal(events.at(-2).response.status, 'failed');
    assert.equal(events.at(-2).response.error.code, 'server_error');
    assert.equal(events.at(-1).code, 'server_error');

    await mockA.fault({ fault: 'stream_cut', afterChunks: 3, model: MODEL });
    const helper = client().responses.stream({ model: MODEL, input: 'hello there' });
    await assert.rejects(helper.finalResponse());
  });
});

describe('responses errors', () => {
  test('a missing input is a 400 naming it, and nothing goes upstream', async () => {
    const e = await rejectsWith(client().responses.create({ model: MODEL }), OpenAI.BadRequestError);
    assert.equal(e.status, 400);
    assert.equal(e.param, 'input');
    assert.equal(e.type, 'invalid_request_error');
    assert.equal((await mockA.requests()).total, 0);
  });

  test('an unknown model is a 404', async () => {
    const e = await rejectsWith(client().responses.create({ model: 'no-such-model', input: 'hi' }), OpenAI.NotFoundError);
    assert.equal(e.code, 'model_not_found');
    assert.equal(e.param, 'model');
    assert.equal((await mockA.requests()).total, 0);
  });

  test('what a chat upstream cannot do is a 400 naming the field', async () => {
    const builtIn = await rejectsWith(client().responses.create({ model: MODEL, input: 'hi', tools: [{ type: 'web_search' }] }), OpenAI.BadRequestError);
    assert.equal(builtIn.param, 'tools[0].type');
    const stateful = await rejectsWith(client().responses.create({ model: MODEL, input: 'hi', previous_response_id: 'resp_x' }), OpenAI.BadRequestError);
    assert.equal(stateful.param, 'previous_response_id');
    const orphan = await rejectsWith(client().responses.create({ model: MODEL, input: [{ type: 'function_call_output', call_id: 'c1', output: 'x' }] }), OpenAI.BadRequestError);
    assert.equal(orphan.param, 'input[0].call_id');
    assert.equal((await mockA.requests()).total, 0);
  });

  test('a bad key is a 401', async () => {
    await rejectsWith(client('not-a-key').responses.create({ model: MODEL, input: 'hi' }), OpenAI.AuthenticationError);
  });

  test('GET /v1/responses/{id} of a translated response is a 404 in OpenAI shape', async () => {
    const r = await client().responses.create({ model: MODEL, input: 'hello' });
    const e = await rejectsWith(client().responses.retrieve(r.id), OpenAI.NotFoundError);
    assert.match(e.message, new RegExp(r.id));
    assert.equal(e.type, 'invalid_request_error');  // (OpenAI's type for unknown objects)
  });

  test('the routes are in /openapi.json', async () => {
    const doc = await (await fetch(`${gw.url}/openapi.json`)).json();
    assert.ok(doc.paths['/v1/responses'].post);
    assert.ok(doc.paths['/v1/responses/{id}'].get);
  });
});

describe('providers that serve the Responses API natively ("protocol": "openai-responses")', () => {
  // The requests mockC's Responses API received; each with the provider's key, never the client's.
  async function nativeRequests() {
    const recs = (await mockC.requests()).requests;
    for (const r of recs) {
      assert.equal(r.headers.authorization, 'Bearer provider-secret-mock-native');
      for (const v of Object.values(r.headers)) assert.ok(!String(v).includes(USER), 'client key leaked upstream');
    }
    return recs;
  }

  test("create(): the client's request goes to {base}/responses as it was sent, the answer comes back as is", async () => {
    const params = { model: NATIVE, input: 'hello there', instructions: 'Be brief.', store: true, metadata: { k: 'v' },
                     tools: [{ type: 'web_search' }], include: ['reasoning.encrypted_content'] };
    const r = await client().responses.create(params);
    assert.match(r.id, /^resp_mock_/, "the provider's own response");
    assert.equal(r.output_text, GREETING);
    assert.equal(r.store, true);
    assert.equal(r.instructions, 'Be brief.');
    const [rec] = await nativeRequests();
    assert.equal(rec.method, 'POST');
    assert.equal(rec.path, '/v1/responses');
    assert.deepEqual(rec.bodyJson, params, 'fields a translation refuses (built-in tools, store) reach the provider');
    assert.equal((await mockA.requests()).total, 0);
  });

  test('previous_response_id is resolved by the provider, and GET /v1/responses/{id} reads its store', async () => {
    const first = await client().responses.create({ model: NATIVE, input: 'write a haiku' });
    const again = await client().responses.create({ model: NATIVE, previous_response_id: first.id, input: 'hello' });
    assert.equal(again.previous_response_id, first.id);
    const got = await client().responses.retrieve(first.id);
    assert.equal(got.id, first.id);
    assert.equal(got.output_text, HAIKU);
    assert.deepEqual(got.usage, first.usage);
    const reads = (await nativeRequests()).filter((q) => q.method === 'GET');
    assert.deepEqual(reads.map((q) => q.path), [`/v1/responses/${first.id}`]);
    const e = await rejectsWith(client().responses.retrieve('resp_unknown'), OpenAI.NotFoundError);
    assert.match(e.message, /resp_unknown/);
  });

  test("stream(): the provider's events go through untouched and usage is counted", async () => {
    const me = async () => (await (await fetch(`${gw.url}/v1/keys/me`, { headers: { authorization: `Bearer ${USAGE_USER}` } })).json()).usage;
    const before = await me();
    const stream = client(USAGE_USER).responses.stream({ model: NATIVE, input: 'hello there' });
    const events = [];
    for await (const e of stream) events.push(e);
    const final = await stream.finalResponse();
    assertTextStreamOrder(events.map((e) => e.type));
    assert.match(events[0].response.id, /^resp_mock_/);
    assert.equal(final.output_text, GREETING);
    const after = await me();
    assert.equal(after.token_usage - before.token_usage, final.usage.total_tokens);
    const [rec] = await nativeRequests();
    assert.equal(rec.bodyJson.stream, true);
    assert.equal(rec.bodyJson.stream_options, undefined, "nothing added to the client's request");
  });

  test('a stored response is read back for the key that created it only (streamed ones too)', async () => {
    const mine = await client().responses.create({ model: NATIVE, input: 'write a haiku' });
    const stream = client().responses.stream({ model: NATIVE, input: 'hello there' });
    for await (const e of stream) void e;
    const streamed = await stream.finalResponse();
    assert.equal((await client().responses.retrieve(streamed.id)).output_text, GREETING);
    const before = (await nativeRequests()).filter((q) => q.method === 'GET').length;
    for (const id of [mine.id, streamed.id]) {
      const e = await rejectsWith(client(USAGE_USER).responses.retrieve(id), OpenAI.NotFoundError);
      assert.match(e.message, /of yours/);
    }
    const after = (await nativeRequests()).filter((q) => q.method === 'GET').length;
    assert.equal(after, before, "another key's read never reaches the provider");
  });

  test('an incomplete native response stays incomplete; a provider 400 comes back as a 400', async () => {
    const r = await client().responses.create({ model: NATIVE, input: 'write a haiku', max_output_tokens: 16 });
    assert.equal(r.status, 'incomplete');
    assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
    const e = await rejectsWith(client().responses.create({ model: NATIVE, input: 'hi', max_output_tokens: 5 }), OpenAI.BadRequestError);
    assert.match(e.message, /max_output_tokens/);
  });

  test('a native stream that breaks after its first text ends with an error event', async () => {
    await mockC.fault({ fault: 'stream_cut', afterChunks: 6, model: NATIVE });
    const stream = await client().responses.create({ model: NATIVE, input: 'hello there', stream: true });
    const events = [];
    for await (const e of stream) events.push(e);
    assert.ok(events.some((e) => e.type === 'response.output_text.delta'), 'text was delivered first');
    assert.equal(events.at(-1).type, 'error');
    assert.ok(!events.some((e) => e.type === 'response.completed'));
    await mockC.fault({ fault: 'stream_cut', afterChunks: 6, model: NATIVE });
    await assert.rejects(client().responses.stream({ model: NATIVE, input: 'hello there' }).finalResponse());
  });

  test('a native stream cut before any text is an HTTP error, not a started stream (nothing was sent)', async () => {
    await mockC.fault({ fault: 'stream_cut', afterChunks: 4, model: NATIVE });
    const e = await rejectsWith(client().responses.create({ model: NATIVE, input: 'hello there', stream: true }), OpenAI.APIError);
    assert.equal(e.status, 502);
  });

  test('failover from a native provider answering 503 to a translating one', async () => {
    await mockC.fault({ fault: 'status', status: 503, model: MIXED });
    const r = await client().responses.create({ model: MIXED, input: 'hello there' });
    assert.equal(r.output_text, GREETING);
    assert.match(r.id, /^resp_req_/, 'answered by translation');
    assert.ok((await nativeRequests()).length >= 1, 'the native provider was tried first');
    assert.deepEqual(await bodies(mockA, 'mock-a'), [{ model: MIXED, messages: [{ role: 'user', content: 'hello there' }] }]);
  });

  test('a chat client is not sent to a Responses-only provider: 400', async () => {
    const e = await rejectsWith(client().chat.completions.create({ model: NATIVE, messages: [{ role: 'user', content: 'hi' }] }), OpenAI.BadRequestError);
    assert.equal(e.code, 'responses_only');
    assert.match(e.message, /\/v1\/responses/);
    assert.equal((await mockC.requests()).total, 0);
  });
});

describe("the mock's own /v1/responses (docs/MOCK.md)", () => {
  const post = (body) => fetch(`${mockC.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  test('validates like the API and names the field', async () => {
    for (const [body, param] of [[{ model: 'm', messages: [] }, 'messages'], [{ model: 'm' }, 'input'], [{ input: 'x' }, 'model'],
                                 [{ model: 'm', input: 'x', max_output_tokens: 15 }, 'max_output_tokens'], [{ model: 'm', input: 7 }, 'input']]) {
      const r = await post(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal((await r.json()).error.param, param);
    }
    assert.equal((await post({ model: 'm', previous_response_id: 'resp_x' })).status, 200);
  });
  test('keeps what it created for GET /v1/responses/{id}', async () => {
    const created = await (await post({ model: 'm', input: 'hello', tools: [{ type: 'function', name: 'f' }], tool_choice: 'none' })).json();
    assert.equal(created.output[0].content[0].text, GREETING);
    const got = await (await fetch(`${mockC.url}/v1/responses/${created.id}`)).json();
    assert.deepEqual(got, created);
    assert.equal((await fetch(`${mockC.url}/v1/responses/resp_nope`)).status, 404);
  });
});
