// npm run bench:publish — a first import of a big catalogue through the
// publish flow: how close it runs to Lightspeed's rate limit, and whether it
// is ever throttled.
//
// Starts the emulator with big:N items and the rate limit ON (Lightspeed's
// 2026 defaults unless --drip/--bucket say otherwise), then runs `publish`
// jobs through the real sidecar, each with the budget WP-Cron gives a tick
// (--budget, default 25 s), carrying the cursor from run to run exactly as
// PHP stores it, until a run reports done. It compares:
//   products_per_s  listings emitted / wall clock from the first job start
//   bound_per_s     what the rate limit allowed over the run: (bucket size,
//                   the head start of an empty bucket, + drip rate × seconds)
//                   × listings per unit of bucket cost the emulator charged
//                   over the whole import (every request: pages, count=1,
//                   categories), per second
//   share           products_per_s / bound_per_s (1 = every unit the bucket
//                   allowed was spent on listings; the steady-state share
//                   without the head start is printed too)
//   throttled       429 answers in the emulator's request log
//   php_peak_mb     n/a: this is the core side only; the PHP applier's peak
//                   memory per batch is measured once the plugin applies
//                   product events (issue 6, PHP half).
// Usage: node scripts/bench-publish.mjs [--items N] [--drip D] [--bucket B] [--budget MS]
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../js/emulator/server.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const ITEMS = arg('items', 10_000);
const DRIP = arg('drip', null);
const BUCKET = arg('bucket', null);
const JOB_BUDGET_MS = arg('budget', 25_000);

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
  const rate = { enabled: true };
  if (DRIP !== null) rate.drip_per_s = DRIP;
  if (BUCKET !== null) rate.bucket_size = BUCKET;
  const config = await control(emu, 'POST', 'config', { rate_limit: rate });
  const limits = config.effective_rate_limit;
  console.log(`bench: ${seeded.items} items (seeded in ${seeded.seed_ms} ms); bucket ${limits.size}, drip ${limits.drip}/s, ` +
    `burst ${limits.burst}/s; job budget ${JOB_BUDGET_MS} ms`);
  const grant = await control(emu, 'POST', 'grant', {});
  let tokens = { access_token: grant.access_token, refresh_token: grant.refresh_token, expires_at_ms: Date.now() + grant.expires_in * 1000 };
  await control(emu, 'DELETE', 'log');

  let cursor = null;
  let products = 0;
  const keys = new Set();
  let jobs = 0;
  let done = false;
  let failed = null;
  let total = null;
  const started = Date.now();
  let lastReport = started;
  let lastDone = 0;
  while (!done && !failed && jobs < 200) {
    jobs += 1;
    const job = {
      v: 1, kind: 'publish', now_ms: Date.now(), budget_ms: JOB_BUDGET_MS,
      settings: {
        api_base: emu.apiBase, token_url: emu.tokenUrl, account_id: grant.account_id,
        client_id: grant.client_id, client_secret: grant.client_secret, shop_ids: [], safety_buffer: 0,
      },
      tokens,
      cursors: { publish: cursor },
    };
    const code = await runJob(job, (e) => {
      if (e.type === 'product') {
        products += 1;
        keys.add(e.product.key);
        cursor = e.cursor;
      } else if (e.type === 'cursor' && e.flow === 'publish') {
        cursor = e.cursor;
      } else if (e.type === 'progress' && e.flow === 'publish') {
        total = e.total ?? total;
        if (Date.now() - lastReport > 10_000) {
          // Rate over the last interval (the first one rides the full bucket).
          const now = Date.now();
          const recent = (e.done - lastDone) / ((now - lastReport) / 1000);
          lastReport = now;
          lastDone = e.done;
          const s = (now - started) / 1000;
          const left = total && recent > 0 ? ((total - e.done) / recent).toFixed(0) : '?';
          console.log(`bench: ${e.done}/${total ?? '?'} items after ${s.toFixed(0)} s (${recent.toFixed(1)}/s now, ~${left} s left)`);
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
  const throttled = log.filter((e) => e.status === 429).length;
  const charged = log.filter((e) => e.status === 200).reduce((s, e) => s + (e.cost ?? 0), 0);
  const pages = log.filter((e) => e.method === 'GET' && e.path.endsWith('/Item.json') && e.status === 200).length;
  const perUnit = keys.size / Math.max(charged, 1e-9);
  const steadyBound = limits.drip * perUnit;
  const bound = ((limits.size + limits.drip * seconds) * perUnit) / seconds;
  const productsPerS = keys.size / seconds;
  console.log(`bench: ${keys.size} listings (${products} product events) in ${seconds.toFixed(1)} s over ${jobs} job(s); ` +
    `${log.length} requests, ${pages} Item pages, ${charged.toFixed(1)} bucket units charged (${(charged / Math.max(1, keys.size) * 100).toFixed(2)} per 100 listings)`);
  const headStart = limits.size * perUnit;
  if (keys.size > 2 * headStart) {
    console.log(`bench: steady-state share without the initial bucket (${headStart.toFixed(0)} listings) = ` +
      `${((keys.size - headStart) / seconds / steadyBound).toFixed(3)} (steady bound ${steadyBound.toFixed(1)}/s)`);
  }
  if (keys.size !== ITEMS) console.log(`bench: expected ${ITEMS} listings, got ${keys.size}`);
  if (failed) console.log(`bench: FAILED ${failed}`);
  if (!done) console.log('bench: the import did not finish');
  console.log('bench: php_peak_mb is n/a until the PHP applier handles product events (core side only)');
  console.log(`products_per_s=${productsPerS.toFixed(1)} bound_per_s=${bound.toFixed(1)} share=${(productsPerS / bound).toFixed(3)} throttled=${throttled} php_peak_mb=n/a`);
  process.exitCode = failed || !done || keys.size !== ITEMS ? 1 : 0;
} finally {
  await emu.close();
}
