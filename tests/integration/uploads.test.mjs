// The multipart uploads of /v1 (images/edits, audio/transcriptions, audio/translations) through
// the official `openai` SDK's toFile: the form reaches the provider whole (the mock answers with
// the file's FNV-1a digest, so a byte out of place shows), the model renamed upstream or added
// from ?model=, spooled to a file past 256 KB, resent whole on failover, every response_format
// relayed as sent, usage billed, and the 400/404/413 cases with nothing sent upstream.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import OpenAI, { toFile } from 'openai';
import { startMock, startGateway, mockProvider, userKeys, newKey, openTier, tokensUsed as usedBy, modelPosts } from './lib/harness.mjs';

const USER = newKey();
let mock, flaky, gw, client;

before(async () => {
  mock = await startMock();
  flaky = await startMock();
  const host = mockProvider(mock, 'upload-host', ['whisper-1', 'whisper-alias', 'gpt-4o-transcribe', 'whisper-fo',
    'gpt-image-1', 'dall-e-2', 'text-only']);
  host.models['whisper-alias'].upstream_model = 'whisper-1';
  gw = await startGateway({
    files: {
      tiers: { enterprise: openTier() },
      keys: userKeys({ [USER]: { userId: 'upload-user' } }),
      providers: [mockProvider(flaky, 'flaky', ['whisper-fo']), host],
      models: { object: 'list', data: [
        { id: 'whisper-1', object: 'model', created: 1, owned_by: 'openai', capabilities: ['audio_input', 'text'] },
        { id: 'text-only', object: 'model', created: 1, owned_by: 'x', capabilities: ['text'] },
      ] },
    },
    env: { ROUTING_SPREAD_POINTS: '0', MAX_BODY_LENGTH: String(4 * 1024 * 1024) },
  });
  client = new OpenAI({ apiKey: USER, baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 20000 });
});

after(async () => {
  await gw?.cleanup();
  await mock?.stop();
  await flaky?.stop();
});

const clear = () => Promise.all([mock.control('/mock/requests', 'DELETE'), flaky.control('/mock/requests', 'DELETE')]);
const tokensUsed = () => usedBy(gw, USER);

// The mock's digest of a file: FNV-1a 64, 16 hex digits.
function fnv1a(bytes) {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}
const heard = (name, bytes) => `${name}: ${bytes.length} bytes, fnv ${fnv1a(bytes)}`;
const seconds = (bytes) => Math.max(1, Math.ceil(bytes.length / 32000));
// A form field's value as the provider received it.
const fieldOf = (rec, name) => rec.body.match(new RegExp(`name="${name}"\\r\\n\\r\\n([^\\r]*)\\r\\n`))?.[1];

async function postForm(path, form, { key = USER, query = '' } = {}) {
  return fetch(`${gw.url}${path}${query}`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form });
}

describe('transcriptions', () => {
  test('a small upload: the form reaches the provider whole, billed by its duration', async () => {
    await clear();
    const before = await tokensUsed();
    const audio = randomBytes(40000);
    const r = await client.audio.transcriptions.create({ file: await toFile(audio, 'clip.wav', { type: 'audio/wav' }), model: 'whisper-1', language: 'en' });
    assert.equal(r.text, heard('clip.wav', audio));
    const [rec] = await modelPosts(mock);
    assert.equal(rec.path, '/v1/audio/transcriptions');
    assert.equal(rec.headers.authorization, 'Bearer provider-secret-upload-host');
    assert.match(rec.headers['content-type'], /^multipart\/form-data; boundary=/);
    assert.equal(fieldOf(rec, 'model'), 'whisper-1');
    assert.equal(fieldOf(rec, 'language'), 'en');
    assert.equal(await tokensUsed(), before + seconds(audio) * 10);
  });

  test('stream: transcript.text.delta events relayed as they come, then the done event; billed its usage', async () => {
    await clear();
    const before = await tokensUsed();
    const audio = randomBytes(64000);
    const stream = await client.audio.transcriptions.create({ file: await toFile(audio, 'live.wav'), model: 'gpt-4o-transcribe', stream: true });
    const events = [];
    for await (const ev of stream) events.push(ev);
    const deltas = events.filter((e) => e.type === 'transcript.text.delta');
    const done = events.at(-1);
    assert.ok(deltas.length > 3, `${deltas.length} deltas`);
    assert.equal(deltas.map((e) => e.delta).join(''), heard('live.wav', audio));
    assert.equal(done.type, 'transcript.text.done');
    assert.equal(done.text, heard('live.wav', audio));
    assert.equal(done.usage.type, 'tokens');
    assert.equal(await tokensUsed(), before + done.usage.total_tokens);
    const [rec] = await modelPosts(mock);
    assert.equal(fieldOf(rec, 'stream'), 'true');
  });

  test('a large upload is spooled, and the model renamed to the provider\'s name', async () => {
    await clear();
    const audio = randomBytes(900 * 1024);  // past the 256 KB kept in memory
    const r = await client.audio.transcriptions.create({ file: await toFile(audio, 'long.mp3'), model: 'whisper-alias' });
    assert.equal(r.text, heard('long.mp3', audio));
    const [rec] = await modelPosts(mock);
    assert.equal(fieldOf(rec, 'model'), 'whisper-1');
  });

  test('the model from ?model= (the original\'s way): a model field is added upstream', async () => {
    await clear();
    const audio = randomBytes(1000);
    const form = new FormData();
    form.append('file', new Blob([audio]), 'q.wav');
    const res = await postForm('/v1/audio/transcriptions', form, { query: '?model=whisper-alias' });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).text, heard('q.wav', audio));
    const [rec] = await modelPosts(mock);
    assert.equal(fieldOf(rec, 'model'), 'whisper-1');
  });

  for (const [format, type, check] of [
    ['text', /^text\/plain/, (body, text) => assert.equal(body, `${text}\n`)],
    ['srt', /^text\/plain/, (body, text) => assert.equal(body, `1\n00:00:00,000 --> 00:00:01,000\n${text}\n\n`)],
    ['vtt', /^text\/plain/, (body, text) => assert.equal(body, `WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n${text}\n\n`)],
    ['verbose_json', /^application\/json/, (body, text) => {
      const v = JSON.parse(body);
      assert.equal(v.text, text);
      assert.equal(v.duration, 1);
      assert.equal(v.segments[0].text, text);
    }],
  ]) {
    test(`response_format ${format} is relayed as the provider sent it`, async () => {
      const before = await tokensUsed();
      const audio = randomBytes(500);
      const form = new FormData();
      form.append('file', new Blob([audio]), 'f.wav');
      form.append('model', 'whisper-1');
      form.append('response_format', format);
      const res = await postForm('/v1/audio/transcriptions', form);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), type);
      check(await res.text(), heard('f.wav', audio));
      // verbose_json has a duration (10 tokens a second); plain text reports nothing: the flat 100.
      assert.equal(await tokensUsed(), before + (format === 'verbose_json' ? 10 : 100));
    });
  }

  test('the SDK\'s text format comes back as a string', async () => {
    const audio = randomBytes(300);
    const text = await client.audio.transcriptions.create({ file: await toFile(audio, 's.wav'), model: 'whisper-1', response_format: 'text' });
    assert.equal(text.trim(), heard('s.wav', audio));
  });

  test('gpt-4o-transcribe: the provider\'s token usage is billed', async () => {
    const before = await tokensUsed();
    const audio = randomBytes(64000);
    const r = await client.audio.transcriptions.create({ file: await toFile(audio, 't.wav'), model: 'gpt-4o-transcribe' });
    assert.equal(r.usage.type, 'tokens');
    assert.equal(await tokensUsed(), before + r.usage.total_tokens);
  });

  test('a 503 fails over, and the next provider gets the whole upload again', async () => {
    await flaky.fault({ fault: 'status', status: 503, model: 'whisper-fo' });
    await clear();
    const audio = randomBytes(300 * 1024);
    const r = await client.audio.transcriptions.create({ file: await toFile(audio, 'fo.wav'), model: 'whisper-fo' });
    assert.equal(r.text, heard('fo.wav', audio));
    assert.ok((await modelPosts(flaky)).length >= 1);
    assert.equal((await modelPosts(mock)).length, 1);
    await flaky.control('/mock/faults', 'DELETE');
  });

  test('translations', async () => {
    await clear();
    const audio = randomBytes(2000);
    const r = await client.audio.translations.create({ file: await toFile(audio, 'fr.wav'), model: 'whisper-1' });
    assert.equal(r.text, heard('fr.wav', audio));
    assert.equal((await modelPosts(mock))[0].path, '/v1/audio/translations');
  });
});

describe('image edits', () => {
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

  test('gpt-image-1: the images and the prompt go up, the provider\'s usage is billed', async () => {
    await clear();
    const before = await tokensUsed();
    const r = await client.images.edit({ model: 'gpt-image-1', image: [await toFile(png, 'a.png', { type: 'image/png' }), await toFile(png, 'b.png', { type: 'image/png' })], prompt: 'add a hat' });
    assert.ok(r.data[0].b64_json);
    assert.equal(await tokensUsed(), before + r.usage.total_tokens);
    const [rec] = await modelPosts(mock);
    assert.equal(rec.path, '/v1/images/edits');
    assert.equal(fieldOf(rec, 'prompt'), 'add a hat');
    assert.equal(rec.body.split('filename=').length - 1, 2);
  });

  test('dall-e-2 without usage: billed ceil(prompt / 4) + 500 per image', async () => {
    const before = await tokensUsed();
    const prompt = 'make it blue please';
    const r = await client.images.edit({ model: 'dall-e-2', image: await toFile(png, 'a.png', { type: 'image/png' }), prompt, n: 2 });
    assert.equal(r.data.length, 2);
    assert.equal(await tokensUsed(), before + Math.ceil(prompt.length / 4) + 1000);
  });
});

describe('refused before anything goes upstream', () => {
  const audioForm = (fields) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) {
      if (v instanceof Blob) form.append(k, v, `${k}.bin`);
      else form.append(k, v);
    }
    return form;
  };
  for (const [name, path, fields, status, param] of [
    ['no file', '/v1/audio/transcriptions', { model: 'whisper-1' }, 400, 'file'],
    ['no model', '/v1/audio/transcriptions', { file: new Blob(['x']) }, 400, 'model'],
    ['a bad response_format', '/v1/audio/translations', { file: new Blob(['x']), model: 'whisper-1', response_format: 'diarized_json' }, 400, 'response_format'],
    ['a stream of a translation', '/v1/audio/translations', { file: new Blob(['x']), model: 'whisper-1', stream: 'true' }, 400, 'stream'],
    ['a stream that is not a boolean', '/v1/audio/transcriptions', { file: new Blob(['x']), model: 'whisper-1', stream: 'yes' }, 400, 'stream'],
    ['an unknown model', '/v1/audio/transcriptions', { file: new Blob(['x']), model: 'no-such-model' }, 404, 'model'],
    ['a model without audio_input', '/v1/audio/transcriptions', { file: new Blob(['x']), model: 'text-only' }, 400, 'model'],
    ['an edit without prompt', '/v1/images/edits', { image: new Blob(['x']), model: 'dall-e-2' }, 400, 'prompt'],
    ['an edit without image', '/v1/images/edits', { prompt: 'p', model: 'dall-e-2' }, 400, 'image'],
  ]) {
    test(`${name}: ${status} naming ${param}`, async () => {
      await clear();
      const res = await postForm(path, audioForm(fields));
      assert.equal(res.status, status);
      const body = await res.json();
      assert.equal(body.error.param, param, JSON.stringify(body));
      assert.equal((await modelPosts(mock)).length, 0);
    });
  }

  test('/openapi.json lists the upload routes with a multipart body', async () => {
    const doc = await (await fetch(`${gw.url}/openapi.json`)).json();
    for (const path of ['/v1/images/edits', '/v1/audio/transcriptions', '/v1/audio/translations'])
      assert.ok(doc.paths[path].post.requestBody.content['multipart/form-data'], path);
  });

  test('a JSON body: 400, the route takes a form', async () => {
    const res = await fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${USER}`, 'content-type': 'application/json' }, body: '{"model":"whisper-1"}' });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.param, 'Content-Type');
  });

  test('a truncated form: 400 naming the body', async () => {
    const res = await fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${USER}`, 'content-type': 'multipart/form-data; boundary=b' }, body: '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n' });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.param, 'body');
  });

  test('no key: 401 without reading the upload', async () => {
    const res = await fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST', body: audioForm({ file: new Blob([randomBytes(1000)]), model: 'whisper-1' }) });
    assert.equal(res.status, 401);
  });

  test('over MAX_BODY_LENGTH: 413, whether the length is declared or the body is chunked', async () => {
    await clear();
    const big = audioForm({ model: 'whisper-1', file: new Blob([randomBytes(5 * 1024 * 1024)]) });
    const declared = await postForm('/v1/audio/transcriptions', big);
    assert.equal(declared.status, 413);
    assert.equal((await declared.json()).error.type, 'invalid_request_error');
    const encoded = new Response(big);  // (one encoding: each picks its own boundary)
    const type = encoded.headers.get('content-type');
    const bytes = Buffer.from(await encoded.arrayBuffer());
    const chunked = await fetch(`${gw.url}/v1/audio/transcriptions`, {
      method: 'POST', duplex: 'half', headers: { authorization: `Bearer ${USER}`, 'content-type': type },
      body: new ReadableStream({ start(c) { for (let i = 0; i < bytes.length; i += 65536) c.enqueue(bytes.subarray(i, i + 65536)); c.close(); } }),
    }).catch((e) => e);
    // The gateway answers 413 as soon as the limit is passed and closes the connection; the
    // client may see the answer or, still sending, a reset.
    if (!(chunked instanceof Error)) assert.equal(chunked.status, 413);
    assert.equal((await modelPosts(mock)).length, 0);
  });
});
