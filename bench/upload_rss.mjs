// Memory cost of large bodies through anygpt: its RSS (sampled every 2 ms from /proc) while a
// 20 MB transcription upload goes up (spooled to a file, sent upstream from it) and while a 20 MB
// speech answer comes down (relayed as it arrives). Target: growth < 4 MB each (issue 10).
//
//   node bench/upload_rss.mjs        # needs build/anygpt and build/anygpt-mock (BUILD_DIR overrides)
//
// Prints one JSON line per case: baseline and peak RSS (KiB) and the growth.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startMock, startGateway, mockProvider, userKeys, newKey, openTier } from '../tests/integration/lib/harness.mjs';

const MB = 1024 * 1024;
const key = newKey();
const mock = await startMock({ MOCK_SPEECH_BYTES_PER_CHAR: '5120' });  // 4096 characters -> 20 MB of audio
const gw = await startGateway({
  files: {
    tiers: { enterprise: openTier() },
    keys: userKeys({ [key]: { userId: 'bench' } }),
    providers: [mockProvider(mock, 'host', ['whisper-1', 'tts-1'])],
  },
  env: { MAX_BODY_LENGTH: String(64 * MB) },
});
const rssKiB = () => Number(readFileSync(`/proc/${gw.proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);

async function measure(name, run) {
  await run();  // warm-up: pools, first-use allocations
  await new Promise((r) => setTimeout(r, 200));
  const baseline = rssKiB();
  let peak = baseline;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKiB()); }, 2);
  const started = performance.now();
  const bytes = await run();
  const ms = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, rssKiB());
  console.log(JSON.stringify({ case: name, bytes, ms: Math.round(ms), baseline_kib: baseline, peak_kib: peak,
    growth_kib: peak - baseline, target_kib: 4096, met: peak - baseline < 4096 }));
}

const audio = randomBytes(20 * MB);
const form = new FormData();
form.append('file', new Blob([audio]), 'long.wav');
form.append('model', 'whisper-1');
const encoded = new Response(form);  // (one encoding: each picks its own boundary)
const type = encoded.headers.get('content-type');
const body = Buffer.from(await encoded.arrayBuffer());

try {
  await measure('transcription upload 20 MB', async () => {
    const r = await fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': type }, body });
    const answer = await r.json();
    if (r.status !== 200 || !answer.text.includes(`${audio.length} bytes`)) throw new Error(`bad answer ${r.status}: ${JSON.stringify(answer)}`);
    return body.length;
  });
  await measure('speech answer 20 MB', async () => {
    const r = await fetch(`${gw.url}/v1/audio/speech`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: 'a'.repeat(4096) }) });
    let n = 0;
    for await (const piece of r.body) n += piece.length;
    if (r.status !== 200 || n < 20 * MB) throw new Error(`bad answer ${r.status} (${n} bytes)`);
    return n;
  });
} finally {
  await gw.cleanup();
  await mock.stop();
}
