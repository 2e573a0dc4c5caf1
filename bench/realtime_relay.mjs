// The /v1/realtime relay against nginx proxying the same WebSockets (issue 11): CPU per relayed
// session of anygpt vs nginx, in the same run, alternating, to the same mock realtime endpoint.
// Each round: SESSIONS sockets open at once, each waits for session.created, sends FRAMES small
// text frames and waits for their FRAMES echoes (mock.echo), then closes.
// Target: anygpt at most 1.2x nginx's CPU.
//
//   node bench/realtime_relay.mjs     # needs build/anygpt, build/anygpt-mock and nginx (NGINX overrides)
//   SESSIONS=64 FRAMES=100 ROUNDS=5 REPEAT=3 node bench/realtime_relay.mjs
//
// CPU is utime+stime from /proc (anygpt's process; nginx's master and worker). Prints one JSON
// line per phase and a summary line.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from '../tests/integration/node_modules/ws/wrapper.mjs';
import { startMock, startGateway, mockProvider, userKeys, newKey, openTier, freePort, sleep } from '../tests/integration/lib/harness.mjs';

const SESSIONS = Number(process.env.SESSIONS ?? 64);
const FRAMES = Number(process.env.FRAMES ?? 100);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const REPEAT = Number(process.env.REPEAT ?? 3);
const NGINX = process.env.NGINX ?? '/usr/sbin/nginx';
const key = newKey();
const mock = await startMock();
const gw = await startGateway({
  files: {
    tiers: { open: openTier() }, excluded: { patterns: [] },
    keys: userKeys({ [key]: { userId: 'bench', tier: 'open' } }),
    providers: [mockProvider(mock, 'bench', ['rt-bench'])],
  },
  env: { LOG_LEVEL: 'warn' },
});

const dir = mkdtempSync(join(tmpdir(), 'anygpt-nginx-ws-'));
chmodSync(dir, 0o755);
const nginxPort = await freePort();
writeFileSync(join(dir, 'nginx.conf'), `worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${nginxPort};
    location / {
      proxy_pass ${mock.url};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 3600s;
    }
  }
}
`);
const nginx = spawn(NGINX, ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' });
await sleep(500);

function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10000;  // utime + stime, 100 ticks/s
}
const nginxPids = () => [nginx.pid, ...readFileSync(`/proc/${nginx.pid}/task/${nginx.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)];
const cpuOf = (pids) => pids.reduce((sum, p) => sum + cpuMicros(p), 0);

// One session: open, session.created, FRAMES frames out and their echoes back, close.
function session(url, headers) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    let echoes = 0;
    ws.on('error', reject);
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('{"type":"session.created"')) {
        for (let i = 0; i < FRAMES; i++) ws.send(`{"type":"input_audio_buffer.append","audio":"frame-${i}"}`);
      } else if (text.startsWith('{"type":"mock.echo"') && ++echoes === FRAMES) {
        ws.close(1000);
      }
    });
    ws.on('close', () => (echoes === FRAMES ? resolve() : reject(new Error(`closed after ${echoes} echoes`))));
  });
}

const targets = {
  anygpt: { pids: () => [gw.proc.pid], url: `ws://127.0.0.1:${gw.port}/v1/realtime?model=rt-bench`, headers: { authorization: `Bearer ${key}` } },
  nginx: { pids: nginxPids, url: `ws://127.0.0.1:${nginxPort}/v1/realtime?model=rt-bench`, headers: {} },
};
const round = (t) => Promise.all(Array.from({ length: SESSIONS }, () => session(t.url, t.headers)));

for (const t of Object.values(targets)) await round(t);  // warm-up
const results = { anygpt: [], nginx: [] };
for (let r = 0; r < REPEAT; r++) {
  for (const [name, t] of Object.entries(targets)) {
    const pids = t.pids();
    const cpu0 = cpuOf(pids);
    const t0 = performance.now();
    for (let i = 0; i < ROUNDS; i++) await round(t);
    const perSession = (cpuOf(pids) - cpu0) / (ROUNDS * SESSIONS);
    results[name].push(perSession);
    console.log(JSON.stringify({ target: name, repeat: r, sessions: ROUNDS * SESSIONS, frames_per_session: FRAMES, cpu_us_per_session: Math.round(perSession), wall_ms: Math.round(performance.now() - t0) }));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const a = median(results.anygpt);
const n = median(results.nginx);
console.log(JSON.stringify({ summary: true, sessions: SESSIONS, frames: FRAMES, anygpt_cpu_us_per_session: Math.round(a), nginx_cpu_us_per_session: Math.round(n), ratio: Number((a / n).toFixed(2)), target: 1.2 }));
nginx.kill('SIGTERM');
await gw.cleanup();
await mock.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
