// Integration tests of anygpt-mock, the fake OpenAI-compatible upstream (docs/MOCK.md).
// Run from the repository root: node --test tests/integration/mock.test.mjs
// (ANYGPT_BUILD_DIR selects the build directory; default "build").
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';

const BINARY = path.resolve(process.env.ANYGPT_BUILD_DIR || 'build', 'anygpt-mock');

// Starts the mock on a free port; resolves { proc, base, stderr() } once it printed its address.
function startMock(extraEnv = {}) {
  const proc = spawn(BINARY, [], {
    env: { PATH: process.env.PATH, MOCK_PROVIDER_PORT: '0', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`anygpt-mock did not start: ${stderr}`)), 5000);
    proc.stdout.on('data', (d) => {
      stdout += d;
      const m = stdout.match(/^anygpt-mock listening on (http:\/\/[^\s:]+:(\d+))\n/);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, base: m[1], port: Number(m[2]), stderr: () => stderr });
      }
    });
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    proc.on('close', (code) => { clearTimeout(timer); reject(new Error(`anygpt-mock exited with ${code}: ${stderr}`)); });
  });
  return { proc, ready, stderr: () => stderr };
}

// Stops the process; resolves its exit code (SIGKILL after 3 s).
function stopMock(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => {
    const killer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    proc.once('exit', (code) => { clearTimeout(killer); resolve(code); });
    proc.kill('SIGTERM');
  });
}

let mock;
let base;

before(async () => {
  const started = startMock();
  mock = started.proc;
  ({ base } = await started.ready);
});

after(async () => {
  if (!mock) return;
  const code = await stopMock(mock);
  assert.equal(code, 0, 'anygpt-mock exits 0 on SIGTERM');
});

beforeEach(async () => {
  if (base) await post('/mock/reset', {});
});

function post(p, body, init = {}) {
  return fetch(base + p, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init.headers || {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: init.signal,
  });
}

async function postJson(p, body, init) {
  const res = await post(p, body, init);
  return { res, json: await res.json() };
}

async function getJson(p) {
  const res = await fetch(base + p);
  return { res, json: await res.json() };
}

const chatBody = (extra = {}) => ({
  model: 'mock-gpt-4',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Tell me about the weather today' },
  ],
  ...extra,
});

async function addFault(fault) {
  const { res, json } = await postJson('/mock/faults', fault);
  assert.equal(res.status, 200, JSON.stringify(json));
  assert.equal(json.success, true);
  assert.equal(typeof json.id, 'number');
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

// The data payloads of complete SSE events.
function sseData(text) {
  return text
    .split('\n\n')
    .slice(0, -1)
    .map((block) => {
      assert.ok(block.startsWith('data: '), `SSE block starts with "data: ": ${block}`);
      return block.slice('data: '.length);
    });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('basic routes', () => {
  test('GET /health answers ok', async () => {
    const { res, json } = await getJson('/health');
    assert.equal(res.status, 200);
    assert.deepEqual(json, { status: 'ok', provider: 'mock' });
  });

  test('GET /v1/models lists the mock models in OpenAI list shape', async () => {
    const { json } = await getJson('/v1/models');
    assert.equal(json.object, 'list');
    const ids = json.data.map((m) => m.id);
    for (const id of ['mock-gpt-4', 'mock-gpt-3.5-turbo', 'gpt-3.5-turbo', 'mock-embed']) assert.ok(ids.includes(id), id);
    for (const m of json.data) {
      assert.equal(m.object, 'model');
      assert.ok(Number.isInteger(m.created) && m.created < 1e11, 'created is in seconds');
      assert.equal(typeof m.owned_by, 'string');
    }
  });

  test('an unknown route answers 404 in OpenAI error shape', async () => {
    const { res, json } = await getJson('/v1/nope');
    assert.equal(res.status, 404);
    assert.equal(typeof json.error.message, 'string');
  });
});

describe('chat completions', () => {
  test('non-stream answer has the chat.completion shape and usage from character counts', async () => {
    const body = chatBody();
    const { res, json } = await postJson('/v1/chat/completions', body);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assert.match(json.id, /^chatcmpl-mock-\d+$/);
    assert.equal(json.object, 'chat.completion');
    assert.ok(Math.abs(json.created - Date.now() / 1000) < 600, 'created is now, in seconds');
    assert.equal(json.model, 'mock-gpt-4');
    assert.equal(json.system_fingerprint, 'mock_fp');
    assert.equal(json.choices.length, 1);
    const [choice] = json.choices;
    assert.equal(choice.index, 0);
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(choice.logprobs, null);
    assert.deepEqual(choice.message, {
      role: 'assistant',
      content: 'Mock reply to: Tell me about the weather today',
      refusal: null,
    });
    const promptChars = 'You are terse.'.length + 'Tell me about the weather today'.length;
    const completionTokens = Math.ceil(choice.message.content.length / 4);
    assert.deepEqual(json.usage, {
      prompt_tokens: Math.ceil(promptChars / 4),
      completion_tokens: completionTokens,
      total_tokens: Math.ceil(promptChars / 4) + completionTokens,
    });
  });

  test('the reply depends on the last user message: haiku, hello, array content, truncation', async () => {
    const ask = async (content) =>
      (await postJson('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content }] })).json.choices[0]
        .message.content;
    const haiku = await ask('Write a HAIKU about servers, hello');
    assert.equal(haiku.split('\n').length, 3);
    assert.equal(await ask('write a haiku'), haiku, 'deterministic');
    assert.match(await ask('Hello there'), /^Hello!/);
    assert.equal(
      await ask([{ type: 'text', text: 'part one' }, { type: 'image_url', image_url: { url: 'x' } }, { type: 'text', text: 'two' }]),
      'Mock reply to: part one two',
    );
    const long = await ask('x'.repeat(1000));
    assert.ok(long.length < 300 && long.startsWith('Mock reply to: xxx'), 'long text is truncated');
  });

  test('n asks for n choices and counts their tokens', async () => {
    const { json } = await postJson('/v1/chat/completions', chatBody({ n: 3 }));
    assert.deepEqual(json.choices.map((c) => c.index), [0, 1, 2]);
    const one = Math.ceil(json.choices[0].message.content.length / 4);
    assert.equal(json.usage.completion_tokens, 3 * one);
  });

  test('invalid JSON and missing messages answer 400 invalid_request_error', async () => {
    let r = await postJson('/v1/chat/completions', '{"model": "m", ');
    assert.equal(r.res.status, 400);
    assert.equal(r.json.error.type, 'invalid_request_error');
    assert.ok('param' in r.json.error && 'code' in r.json.error);
    r = await postJson('/v1/chat/completions', { model: 'm' });
    assert.equal(r.res.status, 400);
    assert.equal(r.json.error.type, 'invalid_request_error');
    assert.equal(r.json.error.param, 'messages');
  });

  test('stream: role chunk, content chunks, finish chunk, usage chunk, [DONE]', async () => {
    const res = await post('/v1/chat/completions', chatBody({ stream: true, stream_options: { include_usage: true } }));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    const { text, error } = await readBody(res);
    assert.equal(error, null);
    const data = sseData(text);
    assert.equal(data.at(-1), '[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    for (const c of chunks) {
      assert.equal(c.object, 'chat.completion.chunk');
      assert.match(c.id, /^chatcmpl-mock-\d+$/);
      assert.equal(c.id, chunks[0].id);
      assert.equal(c.model, 'mock-gpt-4');
      assert.ok('usage' in c);
    }
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
    const usageChunk = chunks.at(-1);
    assert.deepEqual(usageChunk.choices, []);
    const finish = chunks.at(-2);
    assert.deepEqual(finish.choices[0].delta, {});
    assert.equal(finish.choices[0].finish_reason, 'stop');
    const content = chunks.slice(1, -2);
    assert.ok(content.length > 1, 'several content chunks');
    for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null);
    for (const c of content) assert.equal(c.choices[0].finish_reason, null);
    const textOut = content.map((c) => c.choices[0].delta.content).join('');
    assert.equal(textOut, 'Mock reply to: Tell me about the weather today');
    const promptTokens = Math.ceil(('You are terse.'.length + 'Tell me about the weather today'.length) / 4);
    assert.deepEqual(usageChunk.usage, {
      prompt_tokens: promptTokens,
      completion_tokens: Math.ceil(textOut.length / 4),
      total_tokens: promptTokens + Math.ceil(textOut.length / 4),
    });
  });

  test('stream without include_usage has no usage field and no usage chunk', async () => {
    const res = await post('/v1/chat/completions', chatBody({ stream: true }));
    const data = sseData((await readBody(res)).text);
    assert.equal(data.at(-1), '[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    for (const c of chunks) {
      assert.ok(!('usage' in c));
      assert.equal(c.choices.length, 1);
    }
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  });

  test('streamChunks and chunkIntervalMs shape the stream', async () => {
    await postJson('/mock/config', { streamChunks: 4, chunkIntervalMs: 60 });
    const start = Date.now();
    const res = await post('/v1/chat/completions', chatBody({ stream: true }));
    const data = sseData((await readBody(res)).text);
    const elapsed = Date.now() - start;
    assert.equal(data.length, 1 + 4 + 1 + 1, 'role + 4 content + finish + [DONE]');
    assert.ok(elapsed >= 200, `content chunks are spaced (took ${elapsed} ms)`);
  });

  test('tools: answers with a tool call (non-stream)', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
    const { json } = await postJson('/v1/chat/completions', chatBody({ tools }));
    const [choice] = json.choices;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    assert.equal(choice.message.tool_calls.length, 1);
    const call = choice.message.tool_calls[0];
    assert.match(call.id, /^call_mock_\d+/);
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { location: 'Paris' });

    const none = await postJson('/v1/chat/completions', chatBody({ tools, tool_choice: 'none' }));
    assert.equal(none.json.choices[0].finish_reason, 'stop');
    const afterTool = await postJson('/v1/chat/completions', {
      model: 'm',
      tools,
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'sunny' },
      ],
    });
    assert.equal(afterTool.json.choices[0].finish_reason, 'stop', 'no tool call when the last message is not user');
  });

  test('tools: streams a tool call as delta.tool_calls', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather' } }];
    const res = await post('/v1/chat/completions', chatBody({ tools, stream: true }));
    const data = sseData((await readBody(res)).text);
    assert.equal(data.at(-1), '[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    const first = chunks[0].choices[0].delta;
    assert.equal(first.role, 'assistant');
    assert.equal(first.tool_calls[0].index, 0);
    assert.match(first.tool_calls[0].id, /^call_mock_/);
    assert.equal(first.tool_calls[0].type, 'function');
    assert.equal(first.tool_calls[0].function.name, 'get_weather');
    const args = chunks
      .slice(1, -1)
      .map((c) => c.choices[0].delta.tool_calls[0].function.arguments)
      .join('');
    assert.deepEqual(JSON.parse(args), { location: 'Paris' });
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'tool_calls');
  });
});

describe('assistant prefill', () => {
  const GREETING = 'Hello! I am the anygpt mock provider. How can I help you today?';
  const REST = ' anygpt mock provider. How can I help you today?';
  const prefilled = (assistant, extra = {}) => ({
    model: 'mock-gpt-4',
    messages: [{ role: 'user', content: 'hello' }, { role: 'assistant', content: assistant }],
    ...extra,
  });

  test('a final assistant message is continued: the answer is the rest, usage counts the rest', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather' } }];
    let { json } = await postJson('/v1/chat/completions', prefilled('Hello! I am the', { tools }));
    assert.equal(json.choices[0].message.content, REST, 'no tool call after an assistant turn');
    assert.equal(json.choices[0].finish_reason, 'stop');
    const prompt = Math.ceil(('hello'.length + 'Hello! I am the'.length) / 4);
    assert.deepEqual(json.usage, {
      prompt_tokens: prompt,
      completion_tokens: Math.ceil(REST.length / 4),
      total_tokens: prompt + Math.ceil(REST.length / 4),
    });
    ({ json } = await postJson('/v1/chat/completions', prefilled([{ type: 'text', text: 'Hello! I am' }, { type: 'text', text: ' the' }])));
    assert.equal(json.choices[0].message.content, REST, 'text parts are concatenated as they are');
    ({ json } = await postJson('/v1/chat/completions', prefilled('Goodbye')));
    assert.equal(json.choices[0].message.content, GREETING, 'a prefill that is not a prefix: the full reply');
    assert.equal(json.usage.completion_tokens, Math.ceil(GREETING.length / 4));
  });

  test('stream: role chunk, the rest in content chunks, finish, usage on the rest, [DONE]; stream_cut still cuts', async () => {
    const body = prefilled('Hello! I am the', { stream: true, stream_options: { include_usage: true } });
    const { text, error } = await readBody(await post('/v1/chat/completions', body));
    assert.equal(error, null);
    const data = sseData(text);
    assert.equal(data.at(-1), '[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
    assert.deepEqual(chunks.at(-2).choices[0].delta, {});
    assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
    assert.equal(chunks.slice(1, -2).map((c) => c.choices[0].delta.content).join(''), REST);
    assert.equal(chunks.at(-1).usage.completion_tokens, Math.ceil(REST.length / 4));

    await addFault({ fault: 'stream_cut', afterChunks: 2, count: 1 });
    const cut = await readBody(await post('/v1/chat/completions', body));
    assert.ok(cut.error, 'the connection is reset');
    const two = sseData(cut.text).map((d) => JSON.parse(d));
    assert.equal(two.length, 2);
    assert.ok(REST.startsWith(two[1].choices[0].delta.content));
  });
});

describe('embeddings', () => {
  test('float and base64 encodings carry the same deterministic vectors', async () => {
    const input = ['alpha', 'beta'];
    const f = await postJson('/v1/embeddings', { model: 'mock-embed', input });
    assert.equal(f.res.status, 200);
    assert.equal(f.json.object, 'list');
    assert.equal(f.json.model, 'mock-embed');
    assert.equal(f.json.data.length, 2);
    for (const [i, d] of f.json.data.entries()) {
      assert.equal(d.object, 'embedding');
      assert.equal(d.index, i);
      assert.equal(d.embedding.length, 8);
    }
    assert.notDeepEqual(f.json.data[0].embedding, f.json.data[1].embedding);
    const expectedTokens = Math.ceil(5 / 4) + Math.ceil(4 / 4);
    assert.deepEqual(f.json.usage, { prompt_tokens: expectedTokens, total_tokens: expectedTokens });

    const again = await postJson('/v1/embeddings', { model: 'mock-embed', input: 'alpha' });
    assert.deepEqual(again.json.data[0].embedding, f.json.data[0].embedding, 'same text, same vector');

    const b = await postJson('/v1/embeddings', { model: 'mock-embed', input, encoding_format: 'base64' });
    for (const [i, d] of b.json.data.entries()) {
      assert.equal(typeof d.embedding, 'string');
      const bytes = Buffer.from(d.embedding, 'base64');
      assert.equal(bytes.length, 8 * 4);
      const floats = Array.from({ length: 8 }, (_, k) => bytes.readFloatLE(k * 4));
      assert.deepEqual(floats, f.json.data[i].embedding.map(Math.fround));
    }
  });

  test('dimensions sets the vector size; a bad input answers 400', async () => {
    const { json } = await postJson('/v1/embeddings', { model: 'e', input: 'x', dimensions: 16 });
    assert.equal(json.data[0].embedding.length, 16);
    const bad = await postJson('/v1/embeddings', { model: 'e', input: 42 });
    assert.equal(bad.res.status, 400);
    assert.equal(bad.json.error.param, 'input');
  });
});

describe('runtime config', () => {
  test('POST /mock/config updates, clamps and rejects invalid JSON; /mock/reset restores', async () => {
    const initial = (await getJson('/mock/config')).json;
    assert.deepEqual(initial, {
      baseDelay: 0, delayVariance: 0, errorRate: 0, timeoutRate: 0, slowRate: 0, slowDelay: 0, tokenSpeed: 0,
      enableLogs: false, streamChunks: 0, chunkIntervalMs: 0,
    });
    const { res, json } = await postJson('/mock/config', { errorRate: 5, baseDelay: -10, tokenSpeed: 50 });
    assert.equal(res.status, 200);
    assert.equal(json.success, true);
    assert.equal(json.config.errorRate, 1);
    assert.equal(json.config.baseDelay, 0);
    assert.equal(json.config.tokenSpeed, 50);
    assert.deepEqual((await getJson('/mock/config')).json, json.config);

    const bad = await postJson('/mock/config', '{nope');
    assert.equal(bad.res.status, 400);

    const reset = await postJson('/mock/reset', {});
    assert.equal(reset.json.success, true);
    assert.deepEqual((await getJson('/mock/config')).json, initial);
  });

  test('errorRate 1 answers 500/503/429 with an OpenAI error body', async () => {
    await postJson('/mock/config', { errorRate: 1 });
    for (let i = 0; i < 5; ++i) {
      const { res, json } = await postJson('/v1/chat/completions', chatBody());
      assert.ok([500, 503, 429].includes(res.status), `status ${res.status}`);
      assert.equal(typeof json.error.message, 'string');
      assert.equal(typeof json.error.type, 'string');
    }
  });

  test('timeoutRate 1 never answers', async () => {
    await postJson('/mock/config', { timeoutRate: 1 });
    await assert.rejects(post('/v1/chat/completions', chatBody(), { signal: AbortSignal.timeout(300) }), {
      name: 'TimeoutError',
    });
  });

  test('slowRate 1 adds slowDelay to every answer; slowRate 0 none', async () => {
    await postJson('/mock/config', { slowRate: 1, slowDelay: 200 });
    let start = Date.now();
    await postJson('/v1/chat/completions', chatBody());
    assert.ok(Date.now() - start >= 190);
    await postJson('/mock/config', { slowRate: 0 });
    start = Date.now();
    await postJson('/v1/chat/completions', chatBody());
    assert.ok(Date.now() - start < 150);
  });

  test('baseDelay delays the answer', async () => {
    await postJson('/mock/config', { baseDelay: 150 });
    const start = Date.now();
    await postJson('/v1/chat/completions', chatBody());
    assert.ok(Date.now() - start >= 140);
  });
});

describe('faults', () => {
  test('status: answers the status with Retry-After, count limits it', async () => {
    await addFault({ fault: 'status', status: 429, retryAfter: 7, count: 2 });
    for (let i = 0; i < 2; ++i) {
      const { res, json } = await postJson('/v1/chat/completions', chatBody());
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('retry-after'), '7');
      assert.equal(typeof json.error.message, 'string');
      assert.equal(json.error.code, 'rate_limit_exceeded');
    }
    const ok = await post('/v1/chat/completions', chatBody());
    assert.equal(ok.status, 200, 'an exhausted fault is removed');
    assert.deepEqual((await getJson('/mock/faults')).json.faults, []);
  });

  test('status: custom message and code (context length), scoped to one model', async () => {
    const message = "This model's maximum context length is 8192 tokens.";
    await addFault({ fault: 'status', status: 400, model: 'mock-gpt-4', code: 'context_length_exceeded', message });
    const { res, json } = await postJson('/v1/chat/completions', chatBody());
    assert.equal(res.status, 400);
    assert.deepEqual(json.error, { message, type: 'invalid_request_error', param: null, code: 'context_length_exceeded' });
    const other = await post('/v1/chat/completions', chatBody({ model: 'gpt-3.5-turbo' }));
    assert.equal(other.status, 200);
    const listed = (await getJson('/mock/faults')).json.faults;
    assert.equal(listed.length, 1);
    assert.equal(listed[0].model, 'mock-gpt-4');
    assert.equal(listed[0].remaining, null);
  });

  test('a fault for the request model takes precedence over a global one', async () => {
    await addFault({ fault: 'status', status: 500 });
    await addFault({ fault: 'status', status: 503, model: 'mock-gpt-4' });
    assert.equal((await post('/v1/chat/completions', chatBody())).status, 503);
    assert.equal((await post('/v1/chat/completions', chatBody({ model: 'x' }))).status, 500);
    const del = await fetch(base + '/mock/faults', { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.equal((await post('/v1/chat/completions', chatBody())).status, 200);
  });

  test('an unknown fault kind answers 400', async () => {
    const { res } = await postJson('/mock/faults', { fault: 'explode' });
    assert.equal(res.status, 400);
  });

  test('reset: the connection is reset before any response', async () => {
    await addFault({ fault: 'reset', count: 1 });
    await assert.rejects(post('/v1/chat/completions', chatBody()), TypeError);
    assert.equal((await post('/v1/chat/completions', chatBody())).status, 200);
  });

  test('no_answer: the request is held until the client gives up', async () => {
    await addFault({ fault: 'no_answer', count: 1 });
    await assert.rejects(post('/v1/chat/completions', chatBody(), { signal: AbortSignal.timeout(300) }), {
      name: 'TimeoutError',
    });
    assert.equal((await fetch(base + '/health')).status, 200);
  });

  test('slow_first_token: headers come after delayMs, then a normal answer', async () => {
    await addFault({ fault: 'slow_first_token', delayMs: 300, count: 1 });
    const start = Date.now();
    const res = await post('/v1/chat/completions', chatBody({ stream: true }));
    const headersAfter = Date.now() - start;
    assert.ok(headersAfter >= 280, `headers after ${headersAfter} ms`);
    const data = sseData((await readBody(res)).text);
    assert.equal(data.at(-1), '[DONE]');
  });

  test('stream_cut: afterChunks events then a reset, no [DONE]', async () => {
    await addFault({ fault: 'stream_cut', afterChunks: 2, count: 1 });
    const res = await post('/v1/chat/completions', chatBody({ stream: true }));
    assert.equal(res.status, 200);
    const { text, error } = await readBody(res);
    assert.ok(error, 'the body ends with a transport error');
    const data = sseData(text);
    assert.equal(data.length, 2);
    assert.ok(!text.includes('[DONE]'));
    // Non-stream requests are reset.
    await addFault({ fault: 'stream_cut', count: 1 });
    await assert.rejects(post('/v1/chat/completions', chatBody()), TypeError);
  });

  test('stream_stall: afterChunks events then silence with the connection open', async () => {
    await addFault({ fault: 'stream_stall', afterChunks: 2, count: 1 });
    const controller = new AbortController();
    const res = await post('/v1/chat/completions', chatBody({ stream: true }), { signal: controller.signal });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (sseData(text).length < 2) {
      const { done, value } = await reader.read();
      assert.ok(!done, 'the stream stays open');
      text += decoder.decode(value, { stream: true });
    }
    const next = await Promise.race([reader.read().then(() => 'data'), sleep(400).then(() => 'silence')]);
    assert.equal(next, 'silence');
    assert.equal(sseData(text).length, 2);
    controller.abort();
    await reader.cancel().catch(() => {});
    assert.equal((await fetch(base + '/health')).status, 200);
  });

  test('malformed_chunk: a non-JSON event after afterChunks events, then the normal stream', async () => {
    await addFault({ fault: 'malformed_chunk', afterChunks: 1, count: 1 });
    const res = await post('/v1/chat/completions', chatBody({ stream: true }));
    const { text, error } = await readBody(res);
    assert.equal(error, null);
    const data = sseData(text);
    assert.equal(data[1], '{this is not json');
    assert.throws(() => JSON.parse(data[1]));
    assert.deepEqual(JSON.parse(data[0]).choices[0].delta, { role: 'assistant', content: '' });
    assert.equal(data.at(-1), '[DONE]');
    for (const d of [data[0], ...data.slice(2, -1)]) JSON.parse(d);
  });

  test('missing_done: a complete stream without the final [DONE]', async () => {
    await addFault({ fault: 'missing_done', count: 1 });
    const res = await post('/v1/chat/completions', chatBody({ stream: true }));
    const { text, error } = await readBody(res);
    assert.equal(error, null, 'the body ends cleanly');
    const data = sseData(text);
    assert.ok(!data.includes('[DONE]'));
    assert.equal(JSON.parse(data.at(-1)).choices[0].finish_reason, 'stop');
  });

  test('faults apply to embeddings too', async () => {
    await addFault({ fault: 'status', status: 503, model: 'mock-embed', count: 1 });
    const { res } = await postJson('/v1/embeddings', { model: 'mock-embed', input: 'x' });
    assert.equal(res.status, 503);
  });
});

describe('request records', () => {
  test('GET /mock/requests shows what was received, including authorization and the body', async () => {
    const body = chatBody({ temperature: 0.2, max_tokens: 12, user: 'u-1', stream: false });
    const raw = JSON.stringify(body, null, 1);  // odd spacing: the record keeps the exact bytes
    await post('/v1/chat/completions', raw, { headers: { authorization: 'Bearer sk-provider', 'x-custom': 'yes' } });
    await post('/v1/embeddings', { model: 'mock-embed', input: 'x' });
    await post('/v1/chat/completions', '{broken');
    await fetch(base + '/health');  // not a /v1 route: not recorded
    const { json } = await getJson('/mock/requests');
    assert.equal(json.total, 3);
    assert.equal(json.requests.length, 3);
    const [chat, emb, broken] = json.requests;
    assert.equal(broken.body, '{broken');
    assert.equal(broken.bodyJson, null);
    assert.equal(broken.model, null);
    assert.equal(chat.method, 'POST');
    assert.equal(chat.path, '/v1/chat/completions');
    assert.equal(chat.headers.authorization, 'Bearer sk-provider');
    assert.equal(chat.headers['x-custom'], 'yes');
    assert.equal(chat.body, raw);
    assert.deepEqual(chat.bodyJson, body);
    assert.equal(chat.model, 'mock-gpt-4');
    assert.equal(typeof chat.receivedAt, 'number');
    assert.equal(emb.path, '/v1/embeddings');
    assert.deepEqual(json.counts, { 'mock-gpt-4': 1, 'mock-embed': 1 });

    const del = await fetch(base + '/mock/requests', { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.deepEqual((await getJson('/mock/requests')).json, { requests: [], counts: {}, total: 0 });
  });

  test('only the last 100 requests are kept, the counters keep counting', async () => {
    for (let i = 0; i < 105; ++i) await post('/v1/chat/completions', chatBody({ user: `u${i}` }));
    const { json } = await getJson('/mock/requests');
    assert.equal(json.requests.length, 100);
    assert.equal(json.total, 105);
    assert.equal(json.counts['mock-gpt-4'], 105);
    assert.equal(json.requests[0].bodyJson.user, 'u5');
  });
});

describe('process', () => {
  test('a malformed variable stops start-up and names the variable', async () => {
    const { proc, ready } = startMock({ MOCK_ERROR_RATE: 'lots' });
    ready.catch(() => {});
    const code = await new Promise((resolve) => proc.once('close', resolve));
    await assert.rejects(ready, /MOCK_ERROR_RATE/);
    assert.equal(code, 1);
  });

  test('enableLogs writes one line per request to stderr', async () => {
    const { proc, ready, stderr } = startMock({ MOCK_ENABLE_LOGS: 'true' });
    try {
      const { base: logBase } = await ready;
      await fetch(logBase + '/health');
      for (let i = 0; i < 50 && !stderr().includes('/health'); ++i) await sleep(20);
      const lines = stderr().split('\n').filter((l) => l.includes('/health'));
      assert.equal(lines.length, 1);
    } finally {
      assert.equal(await stopMock(proc), 0);
    }
  });
});
