// Integration tests of anygpt-mock's native wire formats (docs/MOCK.md, "Native routes"):
// Anthropic /v1/messages, Gemini /v1beta/models/{model}:*, Ollama /api/chat and /api/embed.
// Run: ANYGPT_BUILD_DIR=build node --test tests/integration/mock_native.test.mjs
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { Ollama } from 'ollama';
import { startMock } from './lib/harness.mjs';

let mock;
let base;

before(async () => {
  mock = await startMock();
  base = mock.url;
});

after(async () => {
  if (!mock) return;
  const { code } = await mock.stop();
  assert.equal(code, 0, 'anygpt-mock exits 0 on SIGTERM');
});

beforeEach(async () => {
  await fetch(base + '/mock/reset', { method: 'POST', body: '{}' });
});

const ANTHROPIC_HEADERS = { 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' };
const GEMINI_HEADERS = { 'x-goog-api-key': 'AIza-test' };

function post(path, body, headers = {}) {
  return fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function postJson(path, body, headers) {
  const res = await post(path, body, headers);
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { res, json, text };
}

async function addFault(fault) {
  const { res, json } = await postJson('/mock/faults', fault);
  assert.equal(res.status, 200, JSON.stringify(json));
  return json.id;
}

// Reads a whole body; a transport error is returned, not thrown.
async function readBody(res) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let error = null;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch (e) {
    error = e;
  }
  return { text, error };
}

const tokens = (chars) => Math.ceil(chars / 4);

// Assistant prefill (docs/MOCK.md): the greeting a user's "hello" gets, and what follows PREFILL.
const GREETING = 'Hello! I am the anygpt mock provider. How can I help you today?';
const PREFILL = 'Hello! I am the';
const REST = ' anygpt mock provider. How can I help you today?';

// ------------------------------------------------------------------------------------------
// Anthropic

const anthropic = (body, headers = ANTHROPIC_HEADERS) => postJson('/v1/messages', body, headers);

const claudeBody = (extra = {}) => ({
  model: 'claude-mock',
  max_tokens: 1024,
  system: 'You are terse.',
  messages: [{ role: 'user', content: 'Tell me about the weather today' }],
  ...extra,
});

const WEATHER_TOOL = { name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: {} } };

// Complete Anthropic SSE events: [{event, data}] (data parsed).
function anthropicEvents(text) {
  assert.ok(text.endsWith('\n\n'), 'the stream ends on an event boundary');
  return text
    .split('\n\n')
    .slice(0, -1)
    .map((block) => {
      const lines = block.split('\n');
      assert.equal(lines.length, 2, `event + data lines: ${block}`);
      assert.ok(lines[0].startsWith('event: '), block);
      assert.ok(lines[1].startsWith('data: '), block);
      return { event: lines[0].slice(7), data: lines[1].slice(6) };
    });
}

async function expectAnthropicError(r, status, type, messagePart) {
  assert.equal(r.res.status, status, r.text);
  assert.equal(r.json.type, 'error', r.text);
  assert.equal(r.json.error.type, type, r.text);
  assert.equal(typeof r.json.error.message, 'string');
  if (messagePart) assert.ok(r.json.error.message.includes(messagePart), `"${r.json.error.message}" has "${messagePart}"`);
}

describe('anthropic /v1/messages', () => {
  test('non-stream answer is a Message with usage from character counts', async () => {
    const r = await anthropic(claudeBody());
    assert.equal(r.res.status, 200, r.text);
    assert.match(r.res.headers.get('content-type'), /^application\/json/);
    const m = r.json;
    assert.match(m.id, /^msg_mock_\d+$/);
    assert.equal(m.type, 'message');
    assert.equal(m.role, 'assistant');
    assert.equal(m.model, 'claude-mock');
    assert.deepEqual(m.content, [{ type: 'text', text: 'Mock reply to: Tell me about the weather today' }]);
    assert.equal(m.stop_reason, 'end_turn');
    assert.equal(m.stop_sequence, null);
    const input = tokens('You are terse.'.length + 'Tell me about the weather today'.length);
    assert.equal(m.usage.input_tokens, input);
    assert.equal(m.usage.output_tokens, tokens(m.content[0].text.length));
  });

  test('headers: no x-api-key is 401, no or unknown anthropic-version is 400; the key is recorded', async () => {
    let r = await anthropic(claudeBody(), { 'anthropic-version': '2023-06-01' });
    await expectAnthropicError(r, 401, 'authentication_error', 'x-api-key');
    r = await anthropic(claudeBody(), { 'x-api-key': 'k' });
    await expectAnthropicError(r, 400, 'invalid_request_error', 'anthropic-version: header is required');
    r = await anthropic(claudeBody(), { 'x-api-key': 'k', 'anthropic-version': '2024-10-22' });
    await expectAnthropicError(r, 400, 'invalid_request_error', 'is not a valid version');
    r = await anthropic(claudeBody({ model: 'claude-rec' }), { ...ANTHROPIC_HEADERS, 'x-api-key': 'sk-ant-recorded' });
    assert.equal(r.res.status, 200);
    const rec = await mock.requests();
    const last = rec.requests.at(-1);
    assert.equal(last.path, '/v1/messages');
    assert.equal(last.headers['x-api-key'], 'sk-ant-recorded');
    assert.equal(last.headers['anthropic-version'], '2023-06-01');
    assert.equal(last.model, 'claude-rec');
    assert.equal(last.bodyJson.max_tokens, 1024);
    assert.equal(rec.counts['claude-rec'], 1);
  });

  test('strict body rules answer 400 invalid_request_error', async () => {
    const cases = [
      [{ model: 'c', messages: [{ role: 'user', content: 'hi' }] }, 'max_tokens: Field required'],
      [claudeBody({ max_tokens: 0 }), 'max_tokens'],
      [claudeBody({ max_tokens: 'ten' }), 'max_tokens'],
      [claudeBody({ messages: [] }), 'at least one message'],
      [claudeBody({ messages: [{ role: 'system', content: 'x' }, { role: 'user', content: 'hi' }] }), 'Unexpected role "system"'],
      [claudeBody({ messages: [{ role: 'assistant', content: 'x' }, { role: 'user', content: 'hi' }] }), 'first message must use the "user" role'],
      [claudeBody({ messages: [{ role: 'tool', content: 'x' }] }), "messages.0.role: Input should be 'user' or 'assistant'"],
      [claudeBody({ messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] }), 'text content blocks must be non-empty'],
      [claudeBody({ messages: [{ role: 'user', content: '' }] }), 'must have non-empty content'],
      [claudeBody({ n: 2 }), 'n: Extra inputs are not permitted'],
      [claudeBody({ stream_options: { include_usage: true } }), 'stream_options: Extra inputs are not permitted'],
      [claudeBody({ messages: [{ role: 'user', content: 'hi', name: 'bob' }] }), 'messages.0.name: Extra inputs are not permitted'],
      [claudeBody({ temperature: 1.5 }), 'temperature'],
      [claudeBody({ system: [{ type: 'text', text: '' }] }), 'non-empty'],
      [claudeBody({ tools: [{ name: 'f' }] }), 'tools.0.custom.input_schema: Field required'],
      [claudeBody({ tools: [{ type: 'function', function: { name: 'f' } }] }), "tools.0: Input tag 'function'"],
      [claudeBody({ tools: [{ name: 'f', parameters: { type: 'object' } }] }), 'tools.0.custom.parameters: Extra inputs are not permitted'],
      [claudeBody({ tools: [{ name: 'f', input_schema: { anyOf: [] , type: 'object' } }] }), 'does not support oneOf, allOf, or anyOf'],
      [claudeBody({ tools: [{ name: 'bad name', input_schema: { type: 'object' } }] }), 'String should match pattern'],
      [claudeBody({ tools: [WEATHER_TOOL, WEATHER_TOOL] }), 'Tool names must be unique'],
      [claudeBody({ tool_choice: { type: 'auto' } }), 'tool_choice may only be specified while providing tools'],
      [claudeBody({ tools: [WEATHER_TOOL], tool_choice: 'auto' }), 'tool_choice: Input should be a valid dictionary'],
      [claudeBody({ tools: [WEATHER_TOOL], tool_choice: { type: 'required' } }), "Input tag 'required'"],
      [claudeBody({ tools: [WEATHER_TOOL], tool_choice: { type: 'tool' } }), 'tool_choice.tool.name: Field required'],
      [
        claudeBody({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x/y.png' } }] }] }),
        "Input tag 'image_url'",
      ],
      [
        claudeBody({
          messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'AAAA' } }] }],
        }),
        'media_type',
      ],
      [
        claudeBody({
          messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'not base64!' } }] }],
        }),
        'invalid base64',
      ],
      ['{"model": "c", ', 'error parsing the body'],
    ];
    for (const [body, part] of cases) {
      const r = await anthropic(body);
      await expectAnthropicError(r, 400, 'invalid_request_error', part ?? undefined);
    }
    assert.equal((await mock.requests()).counts['claude-mock'], undefined, 'rejected requests count no model');
  });

  test('tool_use / tool_result pairing is enforced like the real API', async () => {
    const use = { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } };
    const result = { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' };
    const ask = { role: 'user', content: 'weather?' };
    let r = await anthropic(claudeBody({ tools: [WEATHER_TOOL], messages: [ask, { role: 'assistant', content: [use] }, { role: 'user', content: 'and?' }] }));
    await expectAnthropicError(r, 400, 'invalid_request_error', 'messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1');
    r = await anthropic(claudeBody({ messages: [ask, { role: 'assistant', content: 'ok' }, { role: 'user', content: [result] }] }));
    await expectAnthropicError(r, 400, 'invalid_request_error', 'messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_1');
    r = await anthropic(claudeBody({
      messages: [ask, { role: 'assistant', content: [use] }, { role: 'user', content: [{ type: 'text', text: 'here' }, result] }],
    }));
    await expectAnthropicError(r, 400, 'invalid_request_error', 'messages.2: Did not find 1 `tool_result` block(s) at the beginning');
    r = await anthropic(claudeBody({ messages: [ask, { role: 'assistant', content: [{ ...use, input: '{"location":"Paris"}' }] }, { role: 'user', content: [result] }] }));
    await expectAnthropicError(r, 400, 'invalid_request_error', 'tool_use.input: Input should be a valid dictionary');
    // The proper sequence: answered with text, from the last user turn that has text.
    r = await anthropic(claudeBody({ tools: [WEATHER_TOOL], messages: [ask, { role: 'assistant', content: [use] }, { role: 'user', content: [result] }] }));
    assert.equal(r.res.status, 200, r.text);
    assert.equal(r.json.stop_reason, 'end_turn', 'no tool call when the last turn is only tool results');
    assert.deepEqual(r.json.content, [{ type: 'text', text: 'Mock reply to: weather?' }]);
    const chars = 'You are terse.'.length + 'weather?'.length + 'sunny'.length;
    assert.equal(r.json.usage.input_tokens, tokens(chars), 'tool_result text counts as prompt');
  });

  test('consecutive same-role turns are accepted and merged; images by url and base64 are accepted', async () => {
    const r = await anthropic(claudeBody({
      messages: [
        { role: 'user', content: 'part one' },
        { role: 'user', content: [{ type: 'text', text: 'two' }, { type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] },
        { role: 'assistant', content: 'fine' },
        { role: 'assistant', content: 'really' },
        { role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }, { type: 'text', text: 'last' }] },
        { role: 'user', content: 'words' },
      ],
    }));
    assert.equal(r.res.status, 200, r.text);
    assert.equal(r.json.content[0].text, 'Mock reply to: last words');
  });

  test('tools: a tool_use answer; tool_choice none, tool and any', async () => {
    const second = { name: 'get_time', input_schema: { type: 'object' } };
    let r = await anthropic(claudeBody({ tools: [WEATHER_TOOL, second] }));
    assert.equal(r.res.status, 200, r.text);
    assert.equal(r.json.stop_reason, 'tool_use');
    assert.equal(r.json.content.length, 1);
    const block = r.json.content[0];
    assert.equal(block.type, 'tool_use');
    assert.match(block.id, /^toolu_mock_\d+$/);
    assert.equal(block.name, 'get_weather');
    assert.deepEqual(block.input, { location: 'Paris' });
    assert.equal(r.json.usage.output_tokens, tokens('get_weather'.length + '{"location":"Paris"}'.length));
    r = await anthropic(claudeBody({ tools: [WEATHER_TOOL], tool_choice: { type: 'none' } }));
    assert.equal(r.json.stop_reason, 'end_turn');
    r = await anthropic(claudeBody({ tools: [WEATHER_TOOL, second], tool_choice: { type: 'tool', name: 'get_time' } }));
    assert.equal(r.json.content[0].name, 'get_time');
    r = await anthropic(claudeBody({ tools: [WEATHER_TOOL, second], tool_choice: { type: 'any', disable_parallel_tool_use: true } }));
    assert.equal(r.json.content[0].name, 'get_weather');
  });

  test('stop_sequences and max_tokens cut the reply (stop_reason stop_sequence / max_tokens)', async () => {
    let r = await anthropic(claudeBody({ stop_sequences: ['weather'] }));
    assert.equal(r.json.stop_reason, 'stop_sequence');
    assert.equal(r.json.stop_sequence, 'weather');
    assert.equal(r.json.content[0].text, 'Mock reply to: Tell me about the ');
    r = await anthropic(claudeBody({ max_tokens: 3 }));
    assert.equal(r.json.stop_reason, 'max_tokens');
    assert.equal(r.json.content[0].text, 'Mock reply t');
    assert.equal(r.json.usage.output_tokens, 3);
  });

  test('stream: the exact event sequence, with one ping', async () => {
    const res = await post('/v1/messages', claudeBody({ stream: true }), ANTHROPIC_HEADERS);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    const { text, error } = await readBody(res);
    assert.equal(error, null);
    const events = anthropicEvents(text);
    const names = events.map((e) => e.event);
    const deltas = names.filter((n) => n === 'content_block_delta').length;
    assert.ok(deltas > 1, 'several deltas');
    assert.deepEqual(names, [
      'message_start', 'content_block_start', 'ping',
      ...Array(deltas).fill('content_block_delta'),
      'content_block_stop', 'message_delta', 'message_stop',
    ]);
    const data = events.map((e) => JSON.parse(e.data));
    data.forEach((d, i) => assert.equal(d.type, names[i], 'data.type names the event'));
    const start = data[0].message;
    assert.match(start.id, /^msg_mock_\d+$/);
    assert.deepEqual(start.content, []);
    assert.equal(start.stop_reason, null);
    const input = tokens('You are terse.'.length + 'Tell me about the weather today'.length);
    assert.equal(start.usage.input_tokens, input);
    assert.deepEqual(data[1], { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    const textOut = data.filter((d) => d.type === 'content_block_delta').map((d) => {
      assert.equal(d.index, 0);
      assert.equal(d.delta.type, 'text_delta');
      return d.delta.text;
    }).join('');
    assert.equal(textOut, 'Mock reply to: Tell me about the weather today');
    assert.deepEqual(data.at(-3), { type: 'content_block_stop', index: 0 });
    assert.deepEqual(data.at(-2), {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: tokens(textOut.length) },
    });
  });

  test('stream: a tool call streams input_json_delta pieces', async () => {
    const res = await post('/v1/messages', claudeBody({ stream: true, tools: [WEATHER_TOOL] }), ANTHROPIC_HEADERS);
    const events = anthropicEvents((await readBody(res)).text).map((e) => JSON.parse(e.data));
    const start = events[1];
    assert.equal(start.content_block.type, 'tool_use');
    assert.match(start.content_block.id, /^toolu_mock_\d+$/);
    assert.equal(start.content_block.name, 'get_weather');
    assert.deepEqual(start.content_block.input, {});
    const pieces = events.filter((e) => e.type === 'content_block_delta').map((e) => {
      assert.equal(e.delta.type, 'input_json_delta');
      return e.delta.partial_json;
    });
    assert.ok(pieces.length > 1);
    assert.deepEqual(JSON.parse(pieces.join('')), { location: 'Paris' });
    assert.equal(events.at(-2).delta.stop_reason, 'tool_use');
  });

  test('faults: 529 overloaded_error, 429 with retry-after, stream_cut, malformed_chunk, missing_done', async () => {
    await addFault({ fault: 'status', status: 529, count: 1 });
    let r = await anthropic(claudeBody());
    await expectAnthropicError(r, 529, 'overloaded_error', 'Overloaded');
    await addFault({ fault: 'status', status: 429, retryAfter: 7, count: 1 });
    r = await anthropic(claudeBody());
    await expectAnthropicError(r, 429, 'rate_limit_error');
    assert.equal(r.res.headers.get('retry-after'), '7');
    await addFault({ fault: 'status', status: 400, type: 'invalid_request_error', message: 'prompt is too long', count: 1 });
    r = await anthropic(claudeBody());
    await expectAnthropicError(r, 400, 'invalid_request_error', 'prompt is too long');
    await addFault({ fault: 'status', status: 500, count: 1 });
    r = await anthropic(claudeBody());
    await expectAnthropicError(r, 500, 'api_error');

    await addFault({ fault: 'stream_cut', afterChunks: 3, count: 1 });
    let res = await post('/v1/messages', claudeBody({ stream: true }), ANTHROPIC_HEADERS);
    let body = await readBody(res);
    assert.ok(body.error, 'the connection is reset');
    assert.deepEqual(anthropicEvents(body.text).map((e) => e.event), ['message_start', 'content_block_start', 'ping']);

    await addFault({ fault: 'malformed_chunk', afterChunks: 1, count: 1 });
    res = await post('/v1/messages', claudeBody({ stream: true }), ANTHROPIC_HEADERS);
    body = await readBody(res);
    const events = anthropicEvents(body.text);
    assert.equal(events[1].data, '{this is not json');
    assert.equal(events.at(-1).event, 'message_stop');

    await addFault({ fault: 'missing_done', count: 1 });
    res = await post('/v1/messages', claudeBody({ stream: true }), ANTHROPIC_HEADERS);
    body = await readBody(res);
    assert.equal(body.error, null, 'the body ends cleanly');
    assert.equal(anthropicEvents(body.text).at(-1).event, 'message_delta', 'no message_stop');

    await addFault({ fault: 'stream_cut', count: 1 });
    await assert.rejects(post('/v1/messages', claudeBody(), ANTHROPIC_HEADERS), 'non-stream stream_cut resets');
  });

  test('assistant prefill: the answer continues a final assistant turn; trailing whitespace is 400', async () => {
    const prefilled = (assistant, extra = {}) => claudeBody({
      messages: [{ role: 'user', content: 'hello' }, { role: 'assistant', content: assistant }],
      ...extra,
    });
    let r = await anthropic(prefilled(PREFILL, { tools: [WEATHER_TOOL] }));
    assert.equal(r.res.status, 200, r.text);
    assert.deepEqual(r.json.content, [{ type: 'text', text: REST }], 'the rest, and no tool call');
    assert.equal(r.json.stop_reason, 'end_turn');
    assert.equal(r.json.usage.input_tokens, tokens('You are terse.'.length + 'hello'.length + PREFILL.length));
    assert.equal(r.json.usage.output_tokens, tokens(REST.length));
    r = await anthropic(claudeBody({
      messages: [
        { role: 'user', content: 'hello' },
        { role: 'assistant', content: [{ type: 'text', text: 'Hello!' }, { type: 'text', text: ' I am' }] },
        { role: 'assistant', content: ' the' },
      ],
    }));
    assert.equal(r.json.content[0].text, REST, 'the final turn\'s text, concatenated as it is');
    r = await anthropic(prefilled('Goodbye'));
    assert.equal(r.json.content[0].text, GREETING, 'not a prefix: the full reply');
    assert.equal(r.json.usage.output_tokens, tokens(GREETING.length));

    for (const bad of ['Hello! I am ', [{ type: 'text', text: 'Hello!\n' }]]) {
      r = await anthropic(prefilled(bad));
      await expectAnthropicError(r, 400, 'invalid_request_error');
      assert.equal(r.json.error.message, 'messages: final assistant content cannot end with trailing whitespace');
    }

    const res = await post('/v1/messages', prefilled(PREFILL, { stream: true }), ANTHROPIC_HEADERS);
    const events = anthropicEvents((await readBody(res)).text);
    const names = events.map((e) => e.event);
    const deltas = names.filter((n) => n === 'content_block_delta').length;
    assert.deepEqual(names, [
      'message_start', 'content_block_start', 'ping',
      ...Array(deltas).fill('content_block_delta'),
      'content_block_stop', 'message_delta', 'message_stop',
    ]);
    const data = events.map((e) => JSON.parse(e.data));
    assert.equal(data.filter((d) => d.type === 'content_block_delta').map((d) => d.delta.text).join(''), REST);
    assert.deepEqual(data.at(-2).usage, { output_tokens: tokens(REST.length) });

    await addFault({ fault: 'status', status: 529, model: 'claude-mock', count: 1 });
    await expectAnthropicError(await anthropic(prefilled(PREFILL)), 529, 'overloaded_error');
  });

  test('the official Anthropic SDK reads the answer and the stream', async () => {
    // The SDK authenticates with `Authorization: Bearer` by default; the mock wants x-api-key,
    // which is what anygpt sends.
    const client = new Anthropic({ apiKey: null, defaultHeaders: { 'x-api-key': 'sk-ant-sdk' }, baseURL: base, maxRetries: 0 });
    const msg = await client.messages.create(claudeBody({ messages: [{ role: 'user', content: 'hello' }] }));
    assert.match(msg.content[0].text, /^Hello!/);
    const stream = client.messages.stream(claudeBody({ tools: [WEATHER_TOOL] }));
    const final = await stream.finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    assert.deepEqual(final.content[0].input, { location: 'Paris' });
    assert.ok(final.usage.output_tokens > 1, 'usage from message_delta');
    await assert.rejects(
      client.messages.create({ model: 'c', max_tokens: 5, messages: [{ role: 'assistant', content: 'x' }] }),
      (e) => e.status === 400 && e.error?.error?.type === 'invalid_request_error',
    );
  });
});

// ------------------------------------------------------------------------------------------
// Gemini

const gemini = (model, method, body, { headers = GEMINI_HEADERS, query = '' } = {}) =>
  postJson(`/v1beta/models/${model}:${method}${query}`, body, headers);

const geminiBody = (extra = {}) => ({
  systemInstruction: { parts: [{ text: 'You are terse.' }] },
  contents: [{ role: 'user', parts: [{ text: 'Tell me about the weather today' }] }],
  ...extra,
});

const WEATHER_DECL = { functionDeclarations: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } } } }] };

async function expectGeminiError(r, code, status, messagePart) {
  assert.equal(r.res.status, code, r.text);
  assert.equal(r.json.error.code, code, r.text);
  assert.equal(r.json.error.status, status, r.text);
  if (messagePart) assert.ok(r.json.error.message.includes(messagePart), `"${r.json.error.message}" has "${messagePart}"`);
}

// Complete Gemini SSE events (`data: <json>\r\n\r\n`), parsed.
function geminiEvents(text) {
  assert.ok(text.endsWith('\r\n\r\n'), 'the stream ends on an event boundary');
  return text.split('\r\n\r\n').slice(0, -1).map((block) => {
    assert.ok(block.startsWith('data: '), block);
    return block.slice(6);
  });
}

describe('gemini /v1beta/models/{model}:*', () => {
  test('generateContent answers a GenerateContentResponse', async () => {
    const r = await gemini('gemini-mock', 'generateContent', geminiBody());
    assert.equal(r.res.status, 200, r.text);
    const input = tokens('You are terse.'.length + 'Tell me about the weather today'.length);
    const reply = 'Mock reply to: Tell me about the weather today';
    assert.deepEqual(r.json.candidates, [
      { content: { parts: [{ text: reply }], role: 'model' }, finishReason: 'STOP', index: 0 },
    ]);
    assert.deepEqual(r.json.usageMetadata, {
      promptTokenCount: input,
      candidatesTokenCount: tokens(reply.length),
      totalTokenCount: input + tokens(reply.length),
    });
    assert.equal(r.json.modelVersion, 'gemini-mock');
    assert.match(r.json.responseId, /^mock-\d+$/);
    const rec = (await mock.requests()).requests.at(-1);
    assert.equal(rec.path, '/v1beta/models/gemini-mock:generateContent');
    assert.equal(rec.headers['x-goog-api-key'], 'AIza-test');
    assert.equal(rec.model, 'gemini-mock');
  });

  test('keys: a key in the URL is 400, no x-goog-api-key is 403; streaming needs alt=sse', async () => {
    let r = await gemini('g', 'generateContent', geminiBody(), { query: '?key=AIza-in-url' });
    await expectGeminiError(r, 400, 'INVALID_ARGUMENT', 'API keys in URLs are not accepted by this mock');
    r = await gemini('g', 'generateContent', geminiBody(), { headers: {} });
    await expectGeminiError(r, 403, 'PERMISSION_DENIED', 'unregistered callers');
    r = await gemini('g', 'streamGenerateContent', geminiBody());
    await expectGeminiError(r, 400, 'INVALID_ARGUMENT', 'alt=sse');
    r = await gemini('g', 'batchEmbedContents', { requests: [] }, { query: '?alt=json&key=x' });
    await expectGeminiError(r, 400, 'INVALID_ARGUMENT', 'API keys in URLs');
  });

  test('strict proto parsing and field rules answer 400 INVALID_ARGUMENT', async () => {
    const user = (text) => ({ role: 'user', parts: [{ text }] });
    const decl = (parameters) => ({ tools: [{ functionDeclarations: [{ name: 'f', parameters }] }] });
    const cases = [
      [geminiBody({ contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] }), 'Please use a valid role: user, model.'],
      [geminiBody({ contents: [{ role: 'system', parts: [{ text: 'x' }] }, user('hi')] }), 'Please use a valid role'],
      [geminiBody({ contents: [] }), 'contents is not specified'],
      [{ messages: [{ role: 'user', content: 'hi' }] }, 'Unknown name "messages": Cannot find field.'],
      [geminiBody({ contents: [{ role: 'user', parts: [] }] }), 'contents.parts must not be empty'],
      [geminiBody({ contents: [{ role: 'user', parts: [{}] }] }), "required oneof field 'data'"],
      [geminiBody({ contents: [{ role: 'user', parts: [{ text: 'a', inlineData: { mimeType: 'image/png', data: 'AAAA' } }] }] }), "Oneof field 'data' is already set"],
      [geminiBody({ contents: [{ role: 'user', content: 'hi' }] }), 'Unknown name "content" at \'contents[0]\''],
      [geminiBody({ generationConfig: { max_tokens: 5 } }), 'Unknown name "max_tokens" at \'generation_config\': Cannot find field.'],
      [geminiBody({ generationConfig: { temperature: 'hot' } }), "Invalid value at 'generation_config.temperature' (TYPE_FLOAT)"],
      [geminiBody(decl({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false })),
        'Unknown name "additionalProperties" at \'tools[0].function_declarations[0].parameters\''],
      [geminiBody(decl({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' })), 'Unknown name "$schema"'],
      [geminiBody(decl({ type: 'object', properties: { a: { $ref: '#/defs/a' } } })),
        "Unknown name \"$ref\" at 'tools[0].function_declarations[0].parameters.properties[0].value'"],
      [geminiBody(decl({ type: 'object', properties: { a: { type: ['string', 'null'] } } })), 'Proto field is not repeating, cannot start list.'],
      [geminiBody(decl({ type: 'object', properties: { a: { const: 'x' } } })), 'Unknown name "const"'],
      [geminiBody({ tools: [{ functionDeclarations: [{ name: '1bad name', parameters: { type: 'object' } }] }] }), 'Invalid function name'],
      [geminiBody({ tools: [{ type: 'function', function: { name: 'f' } }] }), 'Unknown name "type" at \'tools[0]\''],
      [geminiBody({ contents: [user('hi'), { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] }, { role: 'user', parts: [{ functionResponse: { response: { r: 1 } } }] }] }),
        'function_response.name: Name cannot be empty.'],
      [geminiBody({ contents: [user('hi'), { role: 'model', parts: [{ functionCall: { name: 'f' } }] }, { role: 'user', parts: [{ functionResponse: { name: 'f' } }] }] }),
        'function_response.response'],
      [geminiBody({ contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: 'not base64!' } }] }] }), 'Base64 decoding failed'],
      [geminiBody({ toolConfig: { functionCallingConfig: { mode: 'REQUIRED' } } }), "Invalid value at 'tool_config.function_calling_config.mode'"],
      [geminiBody({ generationConfig: { responseSchema: { type: 'OBJECT', properties: { a: { type: 'STRING' } } } } }), 'response_mime_type'],
      ['{"contents": [', 'Invalid JSON payload received.'],
    ];
    for (const [body, part] of cases) {
      const r = await gemini('gemini-mock', 'generateContent', body);
      await expectGeminiError(r, 400, 'INVALID_ARGUMENT', part);
    }
  });

  test('proto JSON accepts snake_case names; generation config shapes the answer', async () => {
    let r = await gemini('g', 'generateContent', {
      system_instruction: { parts: [{ text: 'sys' }] },
      contents: [{ parts: [{ text: 'hello' }] }],  // role may be left out
      generation_config: { max_output_tokens: 2, stop_sequences: ['x'] },
      safety_settings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
    });
    assert.equal(r.res.status, 200, r.text);
    assert.equal(r.json.candidates[0].finishReason, 'MAX_TOKENS');
    assert.equal(r.json.candidates[0].content.parts[0].text, 'Hello! I');
    r = await gemini('g', 'generateContent', geminiBody({ generationConfig: { candidateCount: 2, responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { a: { type: 'STRING' } } } } }));
    assert.equal(r.res.status, 200, r.text);
    assert.deepEqual(r.json.candidates.map((c) => c.index), [0, 1]);
    const one = tokens(r.json.candidates[0].content.parts[0].text.length);
    assert.equal(r.json.usageMetadata.candidatesTokenCount, 2 * one);
  });

  test('function calling: functionCall parts; toolConfig NONE / ANY; no call after a functionResponse', async () => {
    const second = { name: 'get_time', parameters: { type: 'OBJECT', properties: { tz: { type: 'STRING' } } } };
    const tools = [{ functionDeclarations: [WEATHER_DECL.functionDeclarations[0], second] }];
    let r = await gemini('g', 'generateContent', geminiBody({ tools }));
    assert.equal(r.res.status, 200, r.text);
    assert.deepEqual(r.json.candidates[0].content, { parts: [{ functionCall: { name: 'get_weather', args: { location: 'Paris' } } }], role: 'model' });
    assert.equal(r.json.candidates[0].finishReason, 'STOP');
    r = await gemini('g', 'generateContent', geminiBody({ tools, toolConfig: { functionCallingConfig: { mode: 'NONE' } } }));
    assert.ok('text' in r.json.candidates[0].content.parts[0]);
    r = await gemini('g', 'generateContent', geminiBody({ tools, toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_time'] } } }));
    assert.equal(r.json.candidates[0].content.parts[0].functionCall.name, 'get_time');
    r = await gemini('g', 'generateContent', geminiBody({
      tools,
      contents: [
        { role: 'user', parts: [{ text: 'weather?' }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { location: 'Paris' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { content: 'sunny' } } }] },
      ],
    }));
    assert.equal(r.res.status, 200, r.text);
    assert.deepEqual(r.json.candidates[0].content.parts, [{ text: 'Mock reply to: weather?' }]);
  });

  test('streamGenerateContent?alt=sse: one event per piece, running usage, finishReason last', async () => {
    const res = await post('/v1beta/models/gemini-mock:streamGenerateContent?alt=sse', geminiBody(), GEMINI_HEADERS);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    const { text, error } = await readBody(res);
    assert.equal(error, null);
    const events = geminiEvents(text).map((d) => JSON.parse(d));
    assert.ok(events.length > 1);
    let previous = 0;
    const input = tokens('You are terse.'.length + 'Tell me about the weather today'.length);
    events.forEach((e, i) => {
      const c = e.candidates[0];
      assert.equal(c.content.role, 'model');
      assert.equal(c.index, 0);
      assert.equal('finishReason' in c, i === events.length - 1, 'finishReason only on the last event');
      assert.equal(e.usageMetadata.promptTokenCount, input);
      assert.ok(e.usageMetadata.candidatesTokenCount >= previous, 'running totals');
      previous = e.usageMetadata.candidatesTokenCount;
      assert.equal(e.usageMetadata.totalTokenCount, input + previous);
      assert.equal(e.modelVersion, 'gemini-mock');
    });
    const out = events.map((e) => e.candidates[0].content.parts[0].text).join('');
    assert.equal(out, 'Mock reply to: Tell me about the weather today');
    assert.equal(events.at(-1).candidates[0].finishReason, 'STOP');
    assert.equal(previous, tokens(out.length));
  });

  test('batchEmbedContents: the same vectors as /v1/embeddings, per-request dimensions, model checks', async () => {
    const r = await gemini('text-embedding-mock', 'batchEmbedContents', {
      requests: [
        { model: 'models/text-embedding-mock', content: { parts: [{ text: 'alpha' }] } },
        { model: 'models/text-embedding-mock', content: { parts: [{ text: 'beta' }] }, outputDimensionality: 4, taskType: 'RETRIEVAL_DOCUMENT' },
      ],
    });
    assert.equal(r.res.status, 200, r.text);
    assert.equal(r.json.embeddings.length, 2);
    assert.equal(r.json.embeddings[0].values.length, 8);
    assert.equal(r.json.embeddings[1].values.length, 4);
    const openai = await postJson('/v1/embeddings', { model: 'e', input: ['alpha'] });
    assert.deepEqual(r.json.embeddings[0].values, openai.json.data[0].embedding);
    let bad = await gemini('text-embedding-mock', 'batchEmbedContents', { requests: [{ model: 'text-embedding-mock', content: { parts: [{ text: 'a' }] } }] });
    await expectGeminiError(bad, 400, 'INVALID_ARGUMENT', 'unexpected model name format');
    bad = await gemini('text-embedding-mock', 'batchEmbedContents', { requests: [{ model: 'models/other', content: { parts: [{ text: 'a' }] } }] });
    await expectGeminiError(bad, 400, 'INVALID_ARGUMENT', 'must match the model in the URL');
    bad = await gemini('text-embedding-mock', 'batchEmbedContents', { input: ['a'] });
    await expectGeminiError(bad, 400, 'INVALID_ARGUMENT', 'Unknown name "input"');
  });

  test('faults: 429 RESOURCE_EXHAUSTED, 503 UNAVAILABLE, stream faults in the SSE framing', async () => {
    await addFault({ fault: 'status', status: 429, retryAfter: 2, count: 1 });
    let r = await gemini('g', 'generateContent', geminiBody());
    await expectGeminiError(r, 429, 'RESOURCE_EXHAUSTED');
    assert.equal(r.res.headers.get('retry-after'), '2');
    await addFault({ fault: 'status', status: 503, count: 1 });
    r = await gemini('g', 'generateContent', geminiBody());
    await expectGeminiError(r, 503, 'UNAVAILABLE');
    await addFault({ fault: 'status', status: 500, model: 'g', count: 1 });
    r = await gemini('g', 'batchEmbedContents', { requests: [{ model: 'models/g', content: { parts: [{ text: 'a' }] } }] });
    await expectGeminiError(r, 500, 'INTERNAL');

    const url = '/v1beta/models/g:streamGenerateContent?alt=sse';
    await addFault({ fault: 'missing_done', count: 1 });
    let body = await readBody(await post(url, geminiBody(), GEMINI_HEADERS));
    assert.equal(body.error, null);
    const events = geminiEvents(body.text).map((d) => JSON.parse(d));
    assert.ok(events.every((e) => !('finishReason' in e.candidates[0])), 'no event carries finishReason');
    await addFault({ fault: 'malformed_chunk', afterChunks: 2, count: 1 });
    body = await readBody(await post(url, geminiBody(), GEMINI_HEADERS));
    assert.equal(geminiEvents(body.text)[2], '{this is not json');
    await addFault({ fault: 'stream_cut', afterChunks: 2, count: 1 });
    body = await readBody(await post(url, geminiBody(), GEMINI_HEADERS));
    assert.ok(body.error, 'reset');
    assert.equal(geminiEvents(body.text).length, 2);
  });

  test('assistant prefill: a final model turn is continued, streamed and not', async () => {
    const prefilled = (model) => geminiBody({
      contents: [{ role: 'user', parts: [{ text: 'hello' }] }, { role: 'model', parts: model.map((text) => ({ text })) }],
    });
    let r = await gemini('gemini-mock', 'generateContent', prefilled([PREFILL]));
    assert.equal(r.res.status, 200, r.text);
    assert.deepEqual(r.json.candidates[0].content.parts, [{ text: REST }]);
    assert.equal(r.json.candidates[0].finishReason, 'STOP');
    const input = tokens('You are terse.'.length + 'hello'.length + PREFILL.length);
    assert.deepEqual(r.json.usageMetadata, {
      promptTokenCount: input,
      candidatesTokenCount: tokens(REST.length),
      totalTokenCount: input + tokens(REST.length),
    });
    r = await gemini('gemini-mock', 'generateContent', prefilled(['Hello! I', ' am the']));
    assert.deepEqual(r.json.candidates[0].content.parts, [{ text: REST }], 'text parts concatenated as they are');
    r = await gemini('gemini-mock', 'generateContent', prefilled(['Goodbye']));
    assert.deepEqual(r.json.candidates[0].content.parts, [{ text: GREETING }], 'not a prefix: the full reply');
    assert.equal(r.json.usageMetadata.candidatesTokenCount, tokens(GREETING.length));

    const res = await post('/v1beta/models/gemini-mock:streamGenerateContent?alt=sse', prefilled([PREFILL]), GEMINI_HEADERS);
    const events = geminiEvents((await readBody(res)).text).map((d) => JSON.parse(d));
    assert.equal(events.map((e) => e.candidates[0].content.parts[0].text).join(''), REST);
    events.forEach((e, i) => assert.equal('finishReason' in e.candidates[0], i === events.length - 1));
    assert.equal(events.at(-1).usageMetadata.candidatesTokenCount, tokens(REST.length));
  });

  test('the official @google/genai SDK reads the answer, the stream and embeddings', async () => {
    const ai = new GoogleGenAI({ apiKey: 'AIza-sdk', httpOptions: { baseUrl: base } });
    const res = await ai.models.generateContent({ model: 'gemini-mock', contents: 'hello', config: { systemInstruction: 'Be nice.' } });
    assert.match(res.text, /^Hello!/);
    assert.equal(res.usageMetadata.promptTokenCount, tokens('hello'.length + 'Be nice.'.length));
    let streamed = '';
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-mock', contents: 'write a haiku' })) streamed += chunk.text ?? '';
    assert.equal(streamed.split('\n').length, 3);
    const call = await ai.models.generateContent({
      model: 'gemini-mock',
      contents: 'weather?',
      config: { tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } } } }] }] },
    });
    assert.deepEqual(call.functionCalls[0].args, { location: 'Paris' });
    const rec = (await mock.requests()).requests.at(-1);
    assert.equal(rec.headers['x-goog-api-key'], 'AIza-sdk', 'the SDK sends the key as a header');
  });
});

// ------------------------------------------------------------------------------------------
// Ollama

const ollamaBody = (extra = {}) => ({
  model: 'llama-mock',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Tell me about the weather today' },
  ],
  ...extra,
});

function ndjson(text) {
  assert.ok(text.endsWith('\n'), 'the stream ends with a full line');
  return text.split('\n').slice(0, -1);
}

async function expectOllamaError(r, status, messagePart) {
  assert.equal(r.res.status, status, r.text);
  assert.deepEqual(Object.keys(r.json), ['error'], r.text);
  if (messagePart) assert.ok(r.json.error.includes(messagePart), `"${r.json.error}" has "${messagePart}"`);
}

describe('ollama /api/chat and /api/embed', () => {
  test('/api/chat streams NDJSON by default: pieces, then done:true with the counts', async () => {
    const res = await post('/api/chat', ollamaBody());
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/x-ndjson/);
    const { text, error } = await readBody(res);
    assert.equal(error, null);
    const lines = ndjson(text).map((l) => JSON.parse(l));
    const last = lines.at(-1);
    for (const l of lines.slice(0, -1)) {
      assert.deepEqual(Object.keys(l), ['model', 'created_at', 'message', 'done']);
      assert.equal(l.model, 'llama-mock');
      assert.match(l.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      assert.equal(l.message.role, 'assistant');
      assert.equal(l.done, false);
    }
    const out = lines.slice(0, -1).map((l) => l.message.content).join('');
    assert.equal(out, 'Mock reply to: Tell me about the weather today');
    assert.equal(last.done, true);
    assert.equal(last.done_reason, 'stop');
    assert.deepEqual(last.message, { role: 'assistant', content: '' });
    assert.equal(last.prompt_eval_count, tokens('You are terse.'.length + 'Tell me about the weather today'.length));
    assert.equal(last.eval_count, tokens(out.length));
    for (const k of ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration']) assert.ok(Number.isInteger(last[k]), k);
  });

  test('stream:false answers one object; tools give tool_calls with object arguments; auth is recorded', async () => {
    let r = await postJson('/api/chat', ollamaBody({ stream: false }), { authorization: 'Bearer ollama-key' });
    assert.equal(r.res.status, 200, r.text);
    assert.equal(r.json.message.content, 'Mock reply to: Tell me about the weather today');
    assert.equal(r.json.done, true);
    assert.equal(r.json.done_reason, 'stop');
    const rec = await mock.requests();
    assert.equal(rec.requests.at(-1).headers.authorization, 'Bearer ollama-key');
    assert.equal(rec.counts['llama-mock'], 1);
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    r = await postJson('/api/chat', ollamaBody({ stream: false, tools }));
    assert.deepEqual(r.json.message, { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { location: 'Paris' } } }] });
    const lines = ndjson((await readBody(await post('/api/chat', ollamaBody({ tools })))).text).map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    assert.deepEqual(lines[0].message.tool_calls[0].function.arguments, { location: 'Paris' });
    assert.equal(lines[1].done, true);
    r = await postJson('/api/chat', ollamaBody({
      stream: false,
      tools,
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { location: 'Paris' } } }] },
        { role: 'tool', content: 'sunny', tool_name: 'get_weather' },
      ],
    }));
    assert.equal(r.res.status, 200, r.text);
    assert.equal(r.json.message.content, 'Mock reply to: weather?', 'no tool call after a tool result');
  });

  test("what Ollama's JSON decoding rejects answers 400 {error}", async () => {
    const call = (args) => ({ role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: args } }] });
    const cases = [
      [ollamaBody({ messages: [{ role: 'user', content: 'hi' }, call('{"location":"Paris"}'), { role: 'tool', content: 'x' }] }),
        'cannot unmarshal string into Go struct field ChatRequest.messages.tool_calls.function.arguments of type api.ToolCallFunctionArguments'],
      [ollamaBody({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }), 'cannot unmarshal array into Go struct field ChatRequest.messages.content of type string'],
      [ollamaBody({ messages: [{ role: 'user', content: 'hi', images: ['data:image/png;base64,AAAA'] }] }), 'illegal base64 data'],
      [ollamaBody({ messages: [{ role: 'developer', content: 'hi' }] }), 'invalid role'],
      [ollamaBody({ stream: 'yes' }), 'ChatRequest.stream of type bool'],
      [ollamaBody({ format: 'xml' }), 'invalid format'],
      [{ messages: [{ role: 'user', content: 'hi' }] }, 'model is required'],
      ['{"model":', null],
    ];
    for (const [body, part] of cases) await expectOllamaError(await postJson('/api/chat', body), 400, part);
    const ok = await postJson('/api/chat', ollamaBody({ stream: false, format: { type: 'object' }, messages: [{ role: 'user', content: 'look', images: ['iVBORw0KGgo='] }] }));
    assert.equal(ok.res.status, 200, ok.text);
  });

  test('options.num_predict and options.stop cut the reply', async () => {
    let r = await postJson('/api/chat', ollamaBody({ stream: false, options: { num_predict: 2, temperature: 0.2 } }));
    assert.equal(r.json.done_reason, 'length');
    assert.equal(r.json.message.content, 'Mock rep');
    assert.equal(r.json.eval_count, 2);
    r = await postJson('/api/chat', ollamaBody({ stream: false, options: { stop: ['about'] } }));
    assert.equal(r.json.done_reason, 'stop');
    assert.equal(r.json.message.content, 'Mock reply to: Tell me ');
  });

  test('/api/embed: the same vectors as /v1/embeddings', async () => {
    const r = await postJson('/api/embed', { model: 'embed-mock', input: ['alpha', 'beta'] });
    assert.equal(r.res.status, 200, r.text);
    assert.equal(r.json.model, 'embed-mock');
    assert.equal(r.json.embeddings.length, 2);
    const openai = await postJson('/v1/embeddings', { model: 'e', input: ['alpha', 'beta'] });
    assert.deepEqual(r.json.embeddings, openai.json.data.map((d) => d.embedding));
    assert.equal(r.json.prompt_eval_count, tokens(5) + tokens(4));
    for (const k of ['total_duration', 'load_duration']) assert.ok(Number.isInteger(r.json[k]), k);
    const one = await postJson('/api/embed', { model: 'embed-mock', input: 'alpha', dimensions: 3 });
    assert.equal(one.json.embeddings[0].length, 3);
    await expectOllamaError(await postJson('/api/embed', { model: 'embed-mock', input: 5 }), 400);
  });

  test('faults: {error} bodies, stream_cut and missing_done in NDJSON', async () => {
    await addFault({ fault: 'status', status: 503, count: 1 });
    await expectOllamaError(await postJson('/api/chat', ollamaBody({ stream: false })), 503);
    await addFault({ fault: 'status', status: 429, message: 'slow down', count: 1 });
    await expectOllamaError(await postJson('/api/embed', { model: 'm', input: 'a' }), 429, 'slow down');
    await addFault({ fault: 'missing_done', count: 1 });
    let body = await readBody(await post('/api/chat', ollamaBody()));
    assert.equal(body.error, null);
    assert.ok(ndjson(body.text).map((l) => JSON.parse(l)).every((l) => l.done === false), 'no done:true line');
    await addFault({ fault: 'stream_cut', afterChunks: 2, count: 1 });
    body = await readBody(await post('/api/chat', ollamaBody()));
    assert.ok(body.error);
    assert.equal(ndjson(body.text).length, 2);
    await addFault({ fault: 'malformed_chunk', count: 1 });
    body = await readBody(await post('/api/chat', ollamaBody()));
    assert.equal(ndjson(body.text)[0], '{this is not json');
  });

  test('assistant prefill: a final assistant message is continued, streamed and not', async () => {
    const prefilled = (assistant, extra = {}) => ollamaBody({
      messages: [{ role: 'user', content: 'hello' }, { role: 'assistant', content: assistant }],
      ...extra,
    });
    let r = await postJson('/api/chat', prefilled(PREFILL, { stream: false }));
    assert.equal(r.res.status, 200, r.text);
    assert.deepEqual(r.json.message, { role: 'assistant', content: REST });
    assert.equal(r.json.done_reason, 'stop');
    assert.equal(r.json.prompt_eval_count, tokens('hello'.length + PREFILL.length));
    assert.equal(r.json.eval_count, tokens(REST.length));
    r = await postJson('/api/chat', prefilled('Goodbye', { stream: false }));
    assert.equal(r.json.message.content, GREETING, 'not a prefix: the full reply');
    assert.equal(r.json.eval_count, tokens(GREETING.length));

    const lines = ndjson((await readBody(await post('/api/chat', prefilled(PREFILL)))).text).map((l) => JSON.parse(l));
    assert.equal(lines.slice(0, -1).map((l) => l.message.content).join(''), REST);
    assert.ok(lines.slice(0, -1).every((l) => l.done === false));
    assert.equal(lines.at(-1).done, true);
    assert.equal(lines.at(-1).eval_count, tokens(REST.length));
  });

  test('the official ollama SDK reads the answer and the stream', async () => {
    const client = new Ollama({ host: base });
    const res = await client.chat({ model: 'llama-mock', messages: [{ role: 'user', content: 'hello' }] });
    assert.match(res.message.content, /^Hello!/);
    let streamed = '';
    for await (const part of await client.chat({ model: 'llama-mock', messages: [{ role: 'user', content: 'hello' }], stream: true })) streamed += part.message.content;
    assert.equal(streamed, res.message.content);
    const emb = await client.embed({ model: 'embed-mock', input: 'alpha' });
    assert.equal(emb.embeddings[0].length, 8);
  });
});

// ------------------------------------------------------------------------------------------

describe('native routes: shared behaviour', () => {
  test('server-level errors come in the shape of the API the path belongs to', async () => {
    let r = await gemini('g', 'countTokens', geminiBody());
    assert.equal(r.res.status, 404);
    assert.equal(r.json.error.code, 404);
    assert.equal(typeof r.json.error.status, 'string');
    r = await postJson('/api/generate', { model: 'm' });
    assert.equal(r.res.status, 404);
    assert.equal(typeof r.json.error, 'string');
    const res = await fetch(base + '/v1/messages');
    const json = await res.json();
    assert.equal(res.status, 405);
    assert.equal(json.type, 'error');
    assert.equal(typeof json.error.type, 'string');
  });

  test('errorRate failures use each protocol\'s error shape', async () => {
    await postJson('/mock/config', { errorRate: 1 });
    const a = await anthropic(claudeBody());
    assert.ok([429, 500, 503].includes(a.res.status));
    assert.equal(a.json.type, 'error');
    const g = await gemini('g', 'generateContent', geminiBody());
    assert.equal(typeof g.json.error.status, 'string');
    const o = await postJson('/api/chat', ollamaBody({ stream: false }));
    assert.equal(typeof o.json.error, 'string');
  });

  test('a model-scoped fault applies to its model in every protocol, and counts per model', async () => {
    await addFault({ fault: 'status', status: 503, model: 'shared-model', count: 3 });
    assert.equal((await anthropic(claudeBody({ model: 'shared-model' }))).res.status, 503);
    assert.equal((await gemini('shared-model', 'generateContent', geminiBody())).res.status, 503);
    assert.equal((await postJson('/api/chat', ollamaBody({ model: 'shared-model', stream: false }))).res.status, 503);
    assert.equal((await postJson('/api/chat', ollamaBody({ model: 'shared-model', stream: false }))).res.status, 200);
    const rec = await mock.requests();
    assert.equal(rec.counts['shared-model'], 4);
  });

  test('slow_first_token and no_answer apply to native routes', async () => {
    await addFault({ fault: 'slow_first_token', delayMs: 150, count: 1 });
    const start = Date.now();
    const r = await gemini('g', 'generateContent', geminiBody());
    assert.equal(r.res.status, 200);
    assert.ok(Date.now() - start >= 140);
    await addFault({ fault: 'no_answer', count: 1 });
    const ctl = new AbortController();
    const pending = fetch(base + '/v1/messages', { method: 'POST', headers: ANTHROPIC_HEADERS, body: JSON.stringify(claudeBody()), signal: ctl.signal });
    setTimeout(() => ctl.abort(), 200);
    await assert.rejects(pending);
  });
});
