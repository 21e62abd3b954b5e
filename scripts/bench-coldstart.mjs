// Sidecar cold start against a bare Node start, measured in the same run.
// Prints: ratio=… sidecar_ms=… node_ms=… runs=…
// The sidecar time runs until its `hello` event: Node started, the WebAssembly
// core loaded and instantiated, the job read.
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.RUNS ?? 20);

function time(argv, untilHello) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'ignore'] });
    let buf = '';
    let done = false;
    const finish = () => { if (!done) { done = true; resolve(Number(process.hrtime.bigint() - t0) / 1e6); } };
    child.on('error', reject);
    if (untilHello) {
      child.stdout.on('data', (d) => {
        buf += d;
        if (buf.includes('"hello"')) { finish(); child.kill(); }
      });
      // A job that needs no network: the sidecar answers hello first.
      child.stdin.end(JSON.stringify({ v: 1, kind: 'test_connection', now_ms: Date.now(), budget_ms: 1000,
        settings: { api_base: 'http://127.0.0.1:9/API/V3', token_url: 'http://127.0.0.1:9/t', account_id: '1',
          client_id: 'x', client_secret: 'y', shop_ids: [], safety_buffer: 0 },
        tokens: { access_token: null, refresh_token: 'r', expires_at_ms: 0 }, cursors: {} }) + '\n');
      child.on('exit', () => { if (!done) reject(new Error('sidecar exited before hello')); });
    } else {
      child.stdin.end();
      child.on('exit', finish);
    }
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const node = [], side = [];
for (let i = 0; i < runs; i++) { // interleaved so machine noise hits both alike
  node.push(await time(['-e', '0'], false));
  side.push(await time([join(root, 'js', 'sidecar.mjs')], true));
}
const n = median(node), s = median(side);
console.log(`ratio=${(s / n).toFixed(2)} sidecar_ms=${s.toFixed(1)} node_ms=${n.toFixed(1)} runs=${runs}`);
