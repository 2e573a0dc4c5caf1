// The gateway driven by the official `openai` npm SDK (tests/integration/node_modules, v6), against
// the mock provider: completions, streaming, tool calls, error classes, models, keys/me.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMock, startGateway, mockProvider, userKeys, newKey, openTier, rejectsWith } from './lib/harness.mjs';

const USER = newKey();
const TOOLS_USER = newKey();
const ME_USER = newKey();
const TINY = newKey();
const GREETING = 'Hello! I am the anygpt mock provider. How can I help you today?';
const weatherTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city',
              parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } },
};

let mock, gw;
const client = (apiKey = USER, extra = {}) => new OpenAI({ apiKey, baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 10000, ...extra });
const hello = (extra = {}) => ({ model: 'mock-gpt-4', messages: [{ role: 'user', content: 'hello there' }], ...extra });

before(async () => {
  mock = await startMock();
  gw = await startGateway({
    files: {
      tiers: { open: openTier(), tiny: openTier({ max_tokens: 10 }), enterprise: openTier() },
      keys: userKeys({
        [USER]: { userId: 'sdk-user', tier: 'open' },
        [TOOLS_USER]: { userId: 'sdk-tools', tier: 'open' },
        [ME_USER]: { userId: 'sdk-me', tier: 'open' },
        [TINY]: { userId: 'sdk-tiny', tier: 'tiny' },
      }),
      providers: [mockProvider(mock, 'mock-a', ['mock-gpt-4', 'gpt-3.5-turbo'])],
    },
  });
});
after(async () => { await gw?.cleanup(); await mock?.stop(); });

describe('chat.completions with the SDK', () => {
  test('non-stream: content, usage and request id', async () => {
    const { data, request_id } = await client().chat.completions.create(hello()).withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.model, 'mock-gpt-4');
    assert.equal(data.choices.length, 1);
    assert.equal(data.choices[0].message.role, 'assistant');
    assert.equal(data.choices[0].message.content, GREETING);
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.ok(data.usage.prompt_tokens > 0);
    assert.ok(data.usage.completion_tokens > 0);
    assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);
    assert.match(request_id, /^req_[0-9a-f]{11}$/);
  });

  test('stream: for await yields the whole answer and a finish_reason', async () => {
    const stream = await client().chat.completions.create(hello({ stream: true }));
    let content = '';
    const finish = [];
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.ok(chunk.choices.length > 0, 'no usage-only chunk when not asked for');
      for (const c of chunk.choices) {
        content += c.delta?.content ?? '';
        if (c.finish_reason) finish.push(c.finish_reason);
      }
    }
    assert.ok(chunks >= 3, `got ${chunks} chunks`);
    assert.ok(content.length > 0);
    assert.equal(content, GREETING);
    assert.deepEqual(finish, ['stop']);
  });

  test('stream with stream_options.include_usage ends with a usage chunk', async () => {
    const stream = await client().chat.completions.create(hello({ stream: true, stream_options: { include_usage: true } }));
    const all = [];
    for await (const chunk of stream) all.push(chunk);
    const last = all.at(-1);
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage.total_tokens > 0);
    assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens);
    assert.equal(all.filter((c) => c.usage).length, 1, 'exactly one chunk carries usage');
    assert.equal(all.map((c) => c.choices[0]?.delta?.content ?? '').join(''), GREETING);
  });

  test('the stream() helper assembles the final completion', async () => {
    const runner = client().chat.completions.stream(hello());
    const final = await runner.finalChatCompletion();
    assert.equal(final.choices[0].message.content, GREETING);
    assert.equal(final.choices[0].finish_reason, 'stop');
  });
});

describe('tool calls with the SDK', () => {
  test('tools -> tool_calls, then the tool result gets a normal answer', async () => {
    const c = client(TOOLS_USER);
    const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const first = await c.chat.completions.create({ model: 'mock-gpt-4', messages, tools: [weatherTool] });
    const choice = first.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    assert.equal(choice.message.tool_calls.length, 1);
    const call = choice.message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { location: 'Paris' });
    assert.ok(call.id);

    messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: 'sunny, 21 C' });
    const second = await c.chat.completions.create({ model: 'mock-gpt-4', messages, tools: [weatherTool] });
    assert.equal(second.choices[0].finish_reason, 'stop');
    assert.equal(typeof second.choices[0].message.content, 'string');
    assert.ok(second.choices[0].message.content.length > 0);
    assert.ok(!second.choices[0].message.tool_calls?.length);

    // The tool round trip reached the provider intact.
    const seen = (await mock.requests()).requests.at(-1).bodyJson;
    assert.equal(seen.messages.length, 3);
    assert.equal(seen.messages[1].tool_calls[0].id, call.id);
    assert.equal(seen.messages[2].role, 'tool');
    assert.equal(seen.messages[2].tool_call_id, call.id);
    assert.equal(seen.messages[2].content, 'sunny, 21 C');
  });

  test('tool_choice names the function', async () => {
    const other = { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };
    const r = await client(TOOLS_USER).chat.completions.create({
      model: 'mock-gpt-4', messages: [{ role: 'user', content: 'time?' }], tools: [weatherTool, other],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    });
    assert.equal(r.choices[0].message.tool_calls[0].function.name, 'get_time');
  });

  test('streaming tool calls: deltas assemble into one call', async () => {
    const stream = await client(TOOLS_USER).chat.completions.create({
      model: 'mock-gpt-4', messages: [{ role: 'user', content: 'weather in Paris?' }], tools: [weatherTool], stream: true,
    });
    const calls = [];
    let finish = null;
    let text = '';
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        if (c.finish_reason) finish = c.finish_reason;
        text += c.delta?.content ?? '';
        for (const d of c.delta?.tool_calls ?? []) {
          const slot = (calls[d.index] ??= { id: '', name: '', arguments: '' });
          if (d.id) slot.id = d.id;
          if (d.function?.name) slot.name += d.function.name;
          if (d.function?.arguments) slot.arguments += d.function.arguments;
        }
      }
    }
    assert.equal(finish, 'tool_calls');
    assert.equal(text, '');
    assert.equal(calls.length, 1);
    assert.equal(calls[0].name, 'get_weather');
    assert.match(calls[0].id, /^call_mock_/);
    assert.deepEqual(JSON.parse(calls[0].arguments), { location: 'Paris' });
  });

  test('the stream() helper assembles streamed tool calls', async () => {
    const runner = client(TOOLS_USER).chat.completions.stream({
      model: 'mock-gpt-4', messages: [{ role: 'user', content: 'weather in Paris?' }], tools: [weatherTool],
    });
    const final = await runner.finalChatCompletion();
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
    const call = final.choices[0].message.tool_calls[0];
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { location: 'Paris' });
  });
});

describe('errors map to the SDK error classes', () => {
  test('unknown key -> AuthenticationError 401', async () => {
    const e = await rejectsWith(client('sk-not-a-real-key').chat.completions.create(hello()), OpenAI.AuthenticationError);
    assert.equal(e.status, 401);
    assert.equal(e.code, 'invalid_api_key');
    assert.ok(!e.message.includes('sk-not-a-real-key'));
    assert.match(e.requestID, /^req_/);
  });

  test('unknown model -> NotFoundError 404', async () => {
    const e = await rejectsWith(client().chat.completions.create(hello({ model: 'no-such-model' })), OpenAI.NotFoundError);
    assert.equal(e.status, 404);
    assert.equal(e.code, 'model_not_found');
    assert.match(e.message, /no-such-model/);
  });

  test('bad request -> BadRequestError 400 naming the param', async () => {
    const e = await rejectsWith(
      client().chat.completions.create({ model: 'mock-gpt-4', messages: [{ role: 'user', content: 5 }] }),
      OpenAI.BadRequestError);
    assert.equal(e.status, 400);
    assert.equal(e.param, 'messages[0].content');
    assert.equal(e.type, 'invalid_request_error');
    const e2 = await rejectsWith(client().chat.completions.create({ model: 'mock-gpt-4', messages: [] }), OpenAI.BadRequestError);
    assert.equal(e2.status, 400);
  });

  test('exhausted token quota -> RateLimitError 429 insufficient_quota', async () => {
    const c = client(TINY);
    const first = await c.chat.completions.create(hello());
    assert.ok(first.usage.total_tokens > 10, 'the first call uses up the 10-token quota');
    const before = (await mock.requests()).total;
    const e = await rejectsWith(c.chat.completions.create(hello()), OpenAI.RateLimitError);
    assert.equal(e.status, 429);
    assert.equal(e.code, 'insufficient_quota');
    assert.equal(e.error.code, 'insufficient_quota');
    assert.equal((await mock.requests()).total, before, 'a refused request never reaches the provider');
  });

  test('an upstream stream cut surfaces as an APIError while iterating', async () => {
    await mock.fault({ fault: 'stream_cut', afterChunks: 3, model: 'mock-gpt-4', count: 1 });
    const stream = await client().chat.completions.create(hello({ stream: true }));
    let got = 0;
    const e = await rejectsWith((async () => { for await (const _ of stream) got++; })(), OpenAI.APIError);
    assert.ok(got >= 1 && got <= 3, `chunks before the error: ${got}`);
    assert.ok(e.error?.message, 'the error event carries a message');
  });
});

describe('other routes with the SDK', () => {
  test('models.list() returns the ids', async () => {
    const page = await client().models.list();
    const ids = page.data.map((m) => m.id);
    assert.ok(ids.includes('mock-gpt-4'), ids.join(','));
    assert.ok(ids.includes('gpt-3.5-turbo'), ids.join(','));
    for (const m of page.data) {
      assert.equal(m.object, 'model');
      assert.ok(Number.isInteger(m.created) && m.created < 1e11, `created in seconds: ${m.created}`);
    }
    const seen = [];
    for await (const m of client().models.list()) seen.push(m.id);
    assert.deepEqual(seen.sort(), [...ids].sort());
  });

  test('client.get("/keys/me") reports the calling key and its usage', async () => {
    const c = client(ME_USER);
    const before = await c.get('/keys/me');
    assert.equal(before.user.id, 'sdk-me');
    assert.equal(before.tier.id, 'open');
    assert.equal(before.usage.request_count, 0);
    assert.equal(before.usage.token_usage, 0);
    const r = await c.chat.completions.create(hello());
    const after = await c.get('/keys/me');
    assert.equal(after.usage.request_count, 1);
    assert.equal(after.usage.token_usage, r.usage.total_tokens);
    assert.ok(!JSON.stringify(after).includes(ME_USER), 'the key never echoes back');
    await rejectsWith(client('sk-nope').get('/keys/me'), OpenAI.AuthenticationError);
  });
});
