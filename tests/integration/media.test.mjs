// /v1/images/generations and /v1/audio/speech through the official `openai` SDK: the client's
// bytes reach the provider as they are, the answer comes back as the provider sent it (speech:
// binary, streamed), usage billed (the provider's, else the documented estimate), failover, the
// 400 cases, and the static /v1/audio/voices and /v1/audio/models.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMock, startGateway, mockProvider, userKeys, newKey, openTier, tokensUsed as usedBy, modelPosts } from './lib/harness.mjs';

const USER = newKey();
const OTHER = newKey();
let mock, flaky, gw, client;

before(async () => {
  mock = await startMock();
  flaky = await startMock();
  const gemini = mockProvider(mock, 'gemini-only', ['img-native']);
  gemini.protocol = 'gemini';
  gemini.provider_url = `${mock.url}/v1beta`;
  gw = await startGateway({
    files: {
      tiers: { enterprise: openTier() },
      keys: userKeys({ [USER]: { userId: 'media-user' }, [OTHER]: { userId: 'other-user' } }),
      providers: [
        mockProvider(flaky, 'flaky', ['dall-e-fo', 'tts-fo', 'video-fo']),  // first in file order: tried first
        mockProvider(mock, 'media-host', ['dall-e-3', 'gpt-image-1', 'dall-e-fo', 'tts-1', 'tts-fo', 'dall-e-2', 'grok-video', 'video-fo', 'text-only']),
        gemini,
      ],
      // Declared capabilities gate the routes as in the original: images need image_output,
      // speech audio_output; a model with none declared (the rest) passes.
      models: { object: 'list', data: [
        { id: 'dall-e-3', object: 'model', created: 1, owned_by: 'openai', capabilities: ['text', 'image_output'] },
        { id: 'tts-1', object: 'model', created: 1, owned_by: 'openai', capabilities: ['text', 'audio_output'] },
        { id: 'text-only', object: 'model', created: 1, owned_by: 'x', capabilities: ['text'] },
      ] },
    },
    env: { ROUTING_SPREAD_POINTS: '0' },
  });
  client = new OpenAI({ apiKey: USER, baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 10000 });
});

after(async () => {
  await gw?.cleanup();
  await mock?.stop();
  await flaky?.stop();
});

const posts = (m = mock) => modelPosts(m);
const clear = () => Promise.all([mock.control('/mock/requests', 'DELETE'), flaky.control('/mock/requests', 'DELETE')]);
const tokensUsed = () => usedBy(gw, USER);
const raw = (path, body) => fetch(gw.url + path, { method: 'POST', headers: { authorization: `Bearer ${USER}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
async function directBytes(rec) {
  const r = await fetch(mock.url + rec.path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: rec.body });
  return { type: r.headers.get('content-type'), bytes: Buffer.from(await r.arrayBuffer()) };
}

describe('images', () => {
  test('dall-e: the request goes as sent, the answer comes back, billed the estimate', async () => {
    await clear();
    const before = await tokensUsed();
    const prompt = 'a lighthouse at dusk';
    const r = await client.images.generate({ model: 'dall-e-3', prompt, n: 2, size: '1024x1024' });
    const [rec] = await posts();
    assert.equal(rec.path, '/v1/images/generations');
    assert.deepEqual(rec.bodyJson, { model: 'dall-e-3', prompt, n: 2, size: '1024x1024' });
    assert.equal(rec.headers.authorization, 'Bearer provider-secret-media-host');
    assert.equal(r.data.length, 2);
    assert.match(r.data[0].url, /^https:\/\/mock\.invalid\/images\//);
    assert.equal(await tokensUsed(), before + Math.ceil(prompt.length / 4) + 2 * 500);
  });

  test('gpt-image-1: b64_json and the provider\'s usage', async () => {
    const before = await tokensUsed();
    const r = await client.images.generate({ model: 'gpt-image-1', prompt: 'a red square' });
    assert.ok(Buffer.from(r.data[0].b64_json, 'base64').subarray(1, 4).toString() === 'PNG');
    assert.ok(r.usage.total_tokens > 0);
    assert.equal(await tokensUsed(), before + r.usage.total_tokens);
  });

  test('no model: OpenAI\'s default (dall-e-2) is routed and named upstream', async () => {
    await clear();
    const r = await raw('/v1/images/generations', { prompt: 'default model' });
    assert.equal(r.status, 200);
    const [rec] = await posts();
    assert.equal(rec.bodyJson.model, 'dall-e-2');
  });

  test('a 503 fails over to the next provider', async () => {
    await flaky.fault({ fault: 'status', status: 503, model: 'dall-e-fo' });
    await clear();
    const r = await client.images.generate({ model: 'dall-e-fo', prompt: 'fail over' });
    assert.equal(r.data.length, 1);
    assert.equal((await posts(flaky)).length >= 1, true);
    assert.equal((await posts()).length, 1);
    await flaky.control('/mock/faults', 'DELETE');
  });

  for (const [name, body, param] of [
    ['no prompt', { model: 'dall-e-3' }, 'prompt'],
    ['n out of range', { model: 'dall-e-3', prompt: 'x', n: 11 }, 'n'],
    ['a bad response_format', { model: 'dall-e-3', prompt: 'x', response_format: 'png' }, 'response_format'],
    ['stream', { model: 'gpt-image-1', prompt: 'x', stream: true }, 'stream'],
  ]) {
    test(`${name}: 400 naming ${param}, nothing upstream`, async () => {
      await clear();
      const r = await raw('/v1/images/generations', body);
      assert.equal(r.status, 400);
      assert.equal((await r.json()).error.param, param);
      assert.equal((await posts()).length, 0);
    });
  }

  test('a model only a native provider serves: 400, nothing upstream', async () => {
    await clear();
    const e = await client.images.generate({ model: 'img-native', prompt: 'x' }).catch((x) => x);
    assert.equal(e.status, 400);
    assert.equal(e.error?.code, 'operation_not_supported');
    assert.equal((await posts()).length, 0);
  });

  test('an unknown model is 404', async () => {
    const e = await client.images.generate({ model: 'no-such-painter', prompt: 'x' }).catch((x) => x);
    assert.equal(e.status, 404);
  });
});

describe('capabilities', () => {
  test('a model declared without image_output or audio_output is refused by name, nothing upstream', async () => {
    await clear();
    for (const [path, body, cap] of [
      ['/v1/images/generations', { model: 'text-only', prompt: 'a cat' }, 'image_output'],
      ['/v1/audio/speech', { model: 'text-only', input: 'hi', voice: 'alloy' }, 'audio_output'],
    ]) {
      const r = await raw(path, body);
      assert.equal(r.status, 400, path);
      const { error } = await r.json();
      assert.equal(error.code, 'model_capability_missing');
      assert.equal(error.param, 'model');
      assert.match(error.message, new RegExp(cap));
    }
    assert.equal((await posts()).length, 0);
  });
});

describe('speech', () => {
  test('the audio comes back byte for byte with the provider\'s content type, billed ceil(chars/4)', async () => {
    await clear();
    const before = await tokensUsed();
    const input = 'The quick brown fox jumps over the lazy dog.';
    const res = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input });
    const bytes = Buffer.from(await res.arrayBuffer());
    const [rec] = await posts();
    assert.equal(rec.path, '/v1/audio/speech');
    assert.deepEqual(rec.bodyJson, { model: 'tts-1', voice: 'alloy', input });
    const want = await directBytes(rec);
    assert.equal(res.headers.get('content-type'), 'audio/mpeg');
    assert.equal(bytes.length, want.bytes.length);
    assert.ok(bytes.equals(want.bytes), 'the same bytes');
    assert.equal(await tokensUsed(), before + Math.ceil(input.length / 4));
  });

  test('every response_format keeps its content type; a long input streams through whole', async () => {
    const wav = await client.audio.speech.create({ model: 'tts-1', voice: 'nova', input: 'wave', response_format: 'wav' });
    assert.equal(wav.headers.get('content-type'), 'audio/wav');
    assert.equal(Buffer.from(await wav.arrayBuffer()).subarray(0, 4).toString(), 'RIFF');
    await clear();
    const input = 'x'.repeat(4096);  // 2 MiB of audio from the mock, in 16 KiB chunks
    const res = await client.audio.speech.create({ model: 'tts-1', voice: { id: 'voice_custom' }, input });
    const bytes = Buffer.from(await res.arrayBuffer());
    const want = await directBytes((await posts())[0]);
    assert.ok(bytes.length > 2_000_000 && bytes.equals(want.bytes));
  });

  test('a 503 fails over before any audio is sent', async () => {
    await flaky.fault({ fault: 'status', status: 503, model: 'tts-fo' });
    const res = await client.audio.speech.create({ model: 'tts-fo', voice: 'alloy', input: 'fail over' });
    assert.ok(Buffer.from(await res.arrayBuffer()).length > 0);
    await flaky.control('/mock/faults', 'DELETE');
  });

  test('audio cut midway: the client\'s transfer fails (no clean end)', async () => {
    await mock.fault({ fault: 'stream_cut', afterChunks: 2, model: 'tts-1', count: 1 });
    const res = await raw('/v1/audio/speech', { model: 'tts-1', voice: 'alloy', input: 'y'.repeat(1000) });
    assert.equal(res.status, 200);
    await assert.rejects(res.arrayBuffer(), 'reading the body fails');
  });

  for (const [name, body, param] of [
    ['no input', { model: 'tts-1', voice: 'alloy' }, 'input'],
    ['no voice', { model: 'tts-1', input: 'x' }, 'voice'],
    ['input too long', { model: 'tts-1', voice: 'alloy', input: 'z'.repeat(4097) }, 'input'],
    ['a bad format', { model: 'tts-1', voice: 'alloy', input: 'x', response_format: 'ogg' }, 'response_format'],
    ['speed out of range', { model: 'tts-1', voice: 'alloy', input: 'x', speed: 5 }, 'speed'],
    ['sse stream format', { model: 'tts-1', voice: 'alloy', input: 'x', stream_format: 'sse' }, 'stream_format'],
  ]) {
    test(`${name}: 400 naming ${param}, nothing upstream`, async () => {
      await clear();
      const r = await raw('/v1/audio/speech', body);
      assert.equal(r.status, 400);
      assert.equal((await r.json()).error.param, param);
      assert.equal((await posts()).length, 0);
    });
  }
});

describe('videos', () => {
  const poll = (id, key = USER) => fetch(`${gw.url}/v1/videos/${id}`, { headers: { authorization: `Bearer ${key}` } });

  test('a job started on a provider is polled on that provider, for its creator only, and billed once', async () => {
    await clear();
    const before = await tokensUsed();
    const prompt = 'a cat surfing';
    const r = await raw('/v1/videos/generations', { model: 'grok-video', prompt });
    assert.equal(r.status, 200);
    const job = await r.json();
    assert.equal(job.status, 'pending');
    assert.match(job.request_id, /^vid_mock_/);
    const [rec] = await posts();
    assert.equal(rec.path, '/v1/videos/generations');
    assert.deepEqual(rec.bodyJson, { model: 'grok-video', prompt });
    const billed = Math.ceil(prompt.length / 4) + 500;
    assert.equal(await tokensUsed(), before + billed);
    for (let i = 0; i < 2; i++) {
      const p = await poll(job.request_id);
      assert.equal(p.status, 200);
      const done = await p.json();
      assert.equal(done.status, 'done');
      assert.match(done.video.url, /\.mp4$/);
    }
    const gets = (await mock.requests()).requests.filter((x) => x.method === 'GET' && x.path.startsWith('/v1/videos/'));
    assert.equal(gets.length, 2);
    assert.equal(gets[0].path, `/v1/videos/${job.request_id}`);
    assert.equal(gets[0].headers.authorization, 'Bearer provider-secret-media-host', 'the creating provider\'s key');
    assert.equal(await tokensUsed(), before + billed, 'polls are not billed');
    const other = await poll(job.request_id, OTHER);
    assert.equal(other.status, 404, 'another key cannot poll it');
    assert.equal((await poll('vid_unknown')).status, 404);
    assert.equal((await poll(job.request_id, 'wrong-key')).status, 401);
  });

  test('the poll goes to the provider that created the job, after a failover', async () => {
    await flaky.fault({ fault: 'status', status: 503, model: 'video-fo' });
    await clear();
    const r = await raw('/v1/videos/generations', { model: 'video-fo', input: 'failing over' });
    assert.equal(r.status, 200);
    const job = await r.json();
    await flaky.control('/mock/faults', 'DELETE');
    const p = await poll(job.request_id);
    assert.equal(p.status, 200, 'asked of the provider that has it');
    assert.equal((await flaky.requests()).requests.filter((x) => x.method === 'GET').length, 0);
  });

  test('no prompt: 400 naming it, nothing upstream', async () => {
    await clear();
    const r = await raw('/v1/videos/generations', { model: 'grok-video' });
    assert.equal(r.status, 400);
    assert.equal((await r.json()).error.param, 'prompt');
    assert.equal((await posts()).length, 0);
  });
});

test('GET /v1/audio/voices and /v1/audio/models answer as the original', async () => {
  const voices = await (await fetch(`${gw.url}/v1/audio/voices`)).json();
  assert.deepEqual(voices.voices.map((v) => v.voice_id), ['alloy', 'echo', 'fable', 'onyx', 'nova', 'shimmer']);
  assert.ok(voices.voices.every((v) => v.category === 'openai'));
  const models = await (await fetch(`${gw.url}/v1/audio/models`)).json();
  assert.deepEqual(models.data.map((m) => m.id), ['tts-1', 'tts-1-hd', 'whisper-1']);
  const spec = await (await fetch(`${gw.url}/openapi.json`)).json();
  for (const p of ['/v1/images/generations', '/v1/audio/speech', '/v1/audio/voices', '/v1/audio/models', '/v1/videos/generations', '/v1/videos/{id}'])
    assert.ok(spec.paths[p], `${p} documented`);
});
