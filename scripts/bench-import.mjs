// npm run bench:import — how close a full stock import runs to Lightspeed's
// rate limit, and whether it is ever throttled.
//
// Starts the emulator with big:N items and the rate limit ON (drip rate
// raised so the run takes about a minute and a half), runs `reconcile` jobs
// through the real sidecar until the catalogue is read, and compares:
//   items_per_s  measured, wall clock, from the first job start to the end
//   bound_per_s  drip rate × items per unit of bucket cost (the steady-state
//                ceiling the rate limit allows, from the configured drip rate
//                and the costs the emulator charged)
//   share        items_per_s / bound_per_s (the initial full bucket is a
//                head start, so a short run can exceed 1)
//   throttled    429 answers in the emulator's request log
// Usage: node scripts/bench-import.mjs [--items N] [--drip D]
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../js/emulator/server.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const ITEMS = arg('items', 100_000);
const DRIP = arg('drip', 15);
const JOB_BUDGET_MS = 120_000;

async function control(emu, method, name, body) {
  const res = await fetch(`${emu.url}/_emulator/${name}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`control ${name}: ${res.status} ${await res.text()}`);
  return res.json();
}

// One sidecar run; acknowledges token events as PHP would after saving them.
function runJob(job, onEvent) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'js', 'sidecar.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.trim()) continue;
        const e = JSON.parse(line);
        if (e.type === 'token') child.stdin.write(JSON.stringify({ v: 1, type: 'token_saved', refresh_token: e.refresh_token }) + '\n');
        onEvent(e);
      }
    });
    child.stdin.on('error', () => {});
    child.on('error', reject);
    child.on('close', (code) => {
      child.stdin.destroy();
      resolve(code);
    });
    child.stdin.write(JSON.stringify(job) + '\n');
  });
}

const emu = await startEmulator({ port: 0, seed: 'empty', rateLimit: true });
try {
  const seeded = await control(emu, 'POST', 'reset', { seed: `big:${ITEMS}` });
  const config = await control(emu, 'POST', 'config', { rate_limit: { enabled: true, drip_per_s: DRIP } });
  const limits = config.effective_rate_limit;
  console.log(`bench: ${seeded.items} items, ${seeded.item_shops} ItemShop rows (seeded in ${seeded.seed_ms} ms); ` +
    `bucket ${limits.size}, drip ${limits.drip}/s, burst ${limits.burst}/s`);
  const grant = await control(emu, 'POST', 'grant', {});
  let tokens = { access_token: grant.access_token, refresh_token: grant.refresh_token, expires_at_ms: Date.now() + grant.expires_in * 1000 };
  await control(emu, 'DELETE', 'log');

  let cursor = null;
  let items = 0;
  let jobs = 0;
  let done = false;
  let failed = null;
  const started = Date.now();
  let lastReport = started;
  while (!done && !failed && jobs < 20) {
    jobs += 1;
    const job = {
      v: 1, kind: 'reconcile', now_ms: Date.now(), budget_ms: JOB_BUDGET_MS,
      settings: {
        api_base: emu.apiBase, token_url: emu.tokenUrl, account_id: grant.account_id,
        client_id: grant.client_id, client_secret: grant.client_secret, shop_ids: [], safety_buffer: 0,
      },
      tokens,
      cursors: { item_shop: null, reconcile: cursor },
    };
    const code = await runJob(job, (e) => {
      if (e.type === 'stock') {
        items += e.levels.length;
        cursor = e.cursor.reconcile;
        if (Date.now() - lastReport > 10_000) {
          lastReport = Date.now();
          console.log(`bench: ${items} items after ${((lastReport - started) / 1000).toFixed(0)} s`);
        }
      } else if (e.type === 'token') {
        tokens = { access_token: e.access_token, refresh_token: e.refresh_token, expires_at_ms: e.expires_at_ms };
      } else if (e.type === 'result') {
        done = e.ok && e.summary.done === true;
      } else if (e.type === 'error') {
        failed = `${e.code}: ${e.message}`;
      }
    });
    if (code !== 0 && !failed) failed = `sidecar exited ${code}`;
  }
  const seconds = (Date.now() - started) / 1000;

  const log = await control(emu, 'GET', 'log');
  const pages = log.filter((e) => e.method === 'GET' && e.path.endsWith('/Item.json') && e.status === 200);
  const throttled = log.filter((e) => e.status === 429).length;
  const costPerPage = pages.reduce((s, e) => s + e.cost, 0) / Math.max(1, pages.length);
  const itemsPerPage = items / Math.max(1, pages.length);
  const bound = limits.drip * (itemsPerPage / costPerPage);
  const rate = items / seconds;
  console.log(`bench: ${items} items in ${seconds.toFixed(1)} s over ${jobs} job(s), ${pages.length} pages ` +
    `(${itemsPerPage.toFixed(1)} items, cost ${costPerPage.toFixed(2)} each), ${log.length} requests`);
  // The bucket starts empty: its size is a head start the drip rate does not
  // explain. Without it, the steady-state share:
  const headStart = limits.size * (itemsPerPage / costPerPage);
  if (items > 4 * headStart) {
    console.log(`bench: steady-state share without the initial bucket (${headStart.toFixed(0)} items) = ` +
      `${((items - headStart) / seconds / bound).toFixed(3)}`);
  }
  if (failed) console.log(`bench: FAILED ${failed}`);
  if (!done) console.log('bench: the import did not finish');
  console.log(`items_per_s=${rate.toFixed(1)} bound_per_s=${bound.toFixed(1)} share=${(rate / bound).toFixed(3)} throttled=${throttled}`);
  process.exitCode = failed || !done ? 1 : 0;
} finally {
  await emu.close();
}
