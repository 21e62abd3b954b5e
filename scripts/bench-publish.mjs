// npm run bench:publish — a first import of a big catalogue through the
// whole publish chain: POS (emulator, rate limit on) → sidecar → PHP plugin →
// WooCommerce, how close it runs to Lightspeed's rate limit, whether it is ever
// throttled, and the PHP applier's peak memory (issue 6).
//
// Default (full chain, when findWordPress() finds WordPress + WooCommerce):
// starts the emulator with big:N items and the rate limit ON (Lightspeed's
// 2026 defaults unless --drip/--bucket say otherwise), creates a shop with
// dist/pos-sync.zip (settings saved through the settings tab as an admin would,
// a token from /_emulator/grant, publishing on, budget --budget), then runs
// WP-Cron ticks (`pos_sync_tick`: stock sync, then publish) back to back until
// the publish run reports its pass done. It prints one line per tick and:
//   products_per_s  products created in WooCommerce (sum of the runs'
//                   `published.created`) / wall clock from the first tick
//   bound_per_s     what the rate limit allowed over the run: (bucket size +
//                   drip rate × seconds) × products per unit of bucket cost the
//                   emulator charged over the whole import (every request of
//                   every flow of the tick), per second
//   share           products_per_s / bound_per_s
//   throttled       429 answers in the emulator's request log
//   php_peak_mb     the highest `summary.published.php_peak_mb` over the runs
//                   (PHP memory peak while applying one listing)
//   in_woo          products carrying `_pos_sync_key` in the database, which
//                   must equal the listings the POS publishes
// Without WordPress it prints `SKIPPED full chain (…); core side only:` and
// runs the core-only measurement below.
//
// --core-only: the sidecar alone. Runs `publish` jobs through the real sidecar,
// each with the budget WP-Cron gives a tick (--budget), carrying the cursor
// from run to run exactly as PHP stores it, until a run reports done;
// products_per_s counts listings emitted, and php_peak_mb is n/a.
//
// Usage: node scripts/bench-publish.mjs [--items N] [--drip D] [--bucket B] [--budget MS] [--core-only] [--stock-backlog]
//   --items   catalogue size (default 10000)
//   --budget  time budget of a run in ms (default 25000, the plugin's default
//             25 s; the full chain rounds it to whole seconds)
//   --stock-backlog  full chain as on a fresh install: the stock sync starts
//             from no cursor and the daily reconcile is on, so each tick first
//             pulls stock (3 ItemShop rows per item) and the publish flow gets
//             what is left of the tick and of the bucket. By default the stock
//             cursor starts at the POS's now and the reconcile is off, so the
//             ticks measure the publish flow (behind an empty stock sync).
//   POS_SYNC_KEEP_SITE=1 keeps the shop's folder afterwards.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../js/emulator/server.mjs';
import { findWordPress, createSite } from './lib/site.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const ITEMS = arg('items', 10_000);
const DRIP = arg('drip', null);
const BUCKET = arg('bucket', null);
const JOB_BUDGET_MS = arg('budget', 25_000);
const CORE_ONLY = process.argv.includes('--core-only');
const STOCK_BACKLOG = process.argv.includes('--stock-backlog');
const ZIP = join(root, 'dist', 'pos-sync.zip');

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

// ---------------------------------------------------------------- core side only (the sidecar)

async function coreOnly() {
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
    console.log('bench: php_peak_mb is n/a on the core side only (the full chain measures it)');
    console.log(`products_per_s=${productsPerS.toFixed(1)} bound_per_s=${bound.toFixed(1)} share=${(productsPerS / bound).toFixed(3)} throttled=${throttled} php_peak_mb=n/a`);
    return failed || !done || keys.size !== ITEMS ? 1 : 0;
  } finally {
    await emu.close();
  }
}

// ---------------------------------------------------------------- the whole chain (WordPress + WooCommerce)

// dist/pos-sync.zip, built only when missing and no cargo process is running.
function ensureZip() {
  if (fs.existsSync(ZIP)) return;
  const ps = spawnSync('ps', ['-eo', 'comm='], { encoding: 'utf8' });
  if (String(ps.stdout).split('\n').some((c) => c.trim() === 'cargo')) {
    throw new Error('dist/pos-sync.zip is missing and a cargo process is running: run `node scripts/build.mjs` once it is done');
  }
  console.log('bench: dist/pos-sync.zip missing, building it (node scripts/build.mjs)');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0 || !fs.existsSync(ZIP)) throw new Error(`node scripts/build.mjs failed (exit ${r.status})`);
}

// Listings the POS publishes: simple items and matrices with the flag, not archived.
function publishedInPos(emu) {
  const keys = new Set();
  for (const it of emu.emulator.state.tables.items.list) {
    if (!(it.publishToEcom === true || it.publishToEcom === 'true') || it.archived === true || it.archived === 'true') continue;
    keys.add(Number(it.itemMatrixID) > 0 ? `matrix:${it.itemMatrixID}` : `item:${it.itemID}`);
  }
  return keys.size;
}

// Reschedules the tick as due (as the e2e does) and reads what the last runs left.
const DUE_PHP = `wp_clear_scheduled_hook( 'pos_sync_tick' ); wp_schedule_event( time() - 1, 'pos_sync_minute', 'pos_sync_tick' ); return true;`;
const STATE_PHP = `return array( 'runs' => get_option( 'pos_sync_last_runs' ), 'progress' => get_option( 'pos_sync_publish_progress' ) );`;
const COUNT_PHP = `
global $wpdb;
$listings = (int) $wpdb->get_var( "SELECT COUNT(DISTINCT p.ID) FROM {$wpdb->posts} p JOIN {$wpdb->postmeta} m ON m.post_id = p.ID AND m.meta_key = '_pos_sync_key' WHERE p.post_type = 'product'" );
$by_status = $wpdb->get_results( "SELECT p.post_status s, COUNT(DISTINCT p.ID) n FROM {$wpdb->posts} p JOIN {$wpdb->postmeta} m ON m.post_id = p.ID AND m.meta_key = '_pos_sync_key' WHERE p.post_type = 'product' GROUP BY p.post_status", ARRAY_A );
$linked = (int) $wpdb->get_var( "SELECT COUNT(DISTINCT p.ID) FROM {$wpdb->posts} p JOIN {$wpdb->postmeta} m ON m.post_id = p.ID AND m.meta_key = '_pos_sync_item_id' WHERE p.post_type IN ( 'product', 'product_variation' )" );
return array( 'listings' => $listings, 'by_status' => $by_status, 'item_linked' => $linked );
`;

async function fullChain(found) {
  ensureZip();
  const budgetS = Math.max(5, Math.round(JOB_BUDGET_MS / 1000));
  let emu = null;
  let site = null;
  let cleaning = null;
  const cleanup = () =>
    (cleaning ||= (async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE }).catch((e) => console.error(`bench: stopping the site: ${e.message}`));
      await emu?.close().catch(() => {});
    })());
  const onSignal = (sig) => {
    console.log(`bench: ${sig}, stopping the site and the emulator`);
    // A WP-Cron or eval PHP process of ours may be running: stop it by its id.
    const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(process.pid)], { encoding: 'utf8' });
    for (const pid of String(ps.stdout).split('\n').map(Number).filter((n) => n > 0 && n !== ps.pid)) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {}
    }
    cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    emu = await startEmulator({ port: 0, seed: 'empty', rateLimit: true });
    const seeded = await control(emu, 'POST', 'reset', { seed: `big:${ITEMS}` });
    const rate = { enabled: true };
    if (DRIP !== null) rate.drip_per_s = DRIP;
    if (BUCKET !== null) rate.bucket_size = BUCKET;
    const config = await control(emu, 'POST', 'config', { rate_limit: rate });
    const limits = config.effective_rate_limit;
    const expected = publishedInPos(emu);
    console.log(`bench: full chain; ${seeded.items} items (seeded in ${seeded.seed_ms} ms, ${expected} published in the POS); bucket ${limits.size}, ` +
      `drip ${limits.drip}/s, burst ${limits.burst}/s; tick budget ${budgetS} s; WordPress ${found.wpDir}, WooCommerce ${found.wooDir}`);

    const t0 = Date.now();
    site = await createSite({ plugin: ZIP, log: false });
    if (!site.pluginActivation?.active) throw new Error(`POS Sync did not activate: ${JSON.stringify(site.pluginActivation)}`);
    console.log(`bench: shop ready at ${site.url} in ${((Date.now() - t0) / 1000).toFixed(1)} s (${site.dir})`);

    // Settings as the e2e saves them: through the settings tab, as the admin.
    const grant = await control(emu, 'POST', 'grant', {});
    const settingsPage = '/wp-admin/admin.php?page=wc-settings&tab=pos_sync';
    const form = await (await site.adminFetch(settingsPage)).text();
    const nonce = form.match(/name="_wpnonce" value="([^"]+)"/)?.[1];
    if (!nonce) throw new Error('no nonce on the POS Sync settings tab');
    const fields = {
      api_base: emu.apiBase, token_url: emu.tokenUrl, account_id: grant.account_id, client_id: grant.client_id,
      client_secret: grant.client_secret, refresh_token: grant.refresh_token, shop_ids: '', safety_buffer: '0',
      budget_seconds: String(budgetS), publish_enabled: 'yes', publish_rule: 'ecom_flag', publish_ids: '',
      price_level: 'default', hidden_mode: 'draft', link_by_sku: 'no', reconcile_every: STOCK_BACKLOG ? 'daily' : 'off',
    };
    const body = new URLSearchParams({ _wpnonce: nonce, _wp_http_referer: settingsPage, save: 'Save changes' });
    for (const [k, v] of Object.entries(fields)) body.set(`pos_sync_settings[${k}]`, v);
    const saved = await (await site.adminFetch(settingsPage, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })).text();
    if (/class="error/.test(saved)) throw new Error(`settings not saved: ${(saved.match(/class="error[^>]*>([\s\S]{0,400})/) || [])[1]}`);
    const check = await site.wpEval(`$s = get_option( 'pos_sync_settings' ); return array( 'publish' => $s['publish_enabled'] ?? null, 'budget' => $s['budget_seconds'] ?? null );`);
    if (check.publish !== 'yes') throw new Error(`publishing is not on after saving the settings: ${JSON.stringify(check)}`);
    if (!STOCK_BACKLOG) {
      // The stock side starts caught up (as in a shop synced before publishing is switched
      // on): the first pull of a fresh install reads every ItemShop row (3 per item here)
      // and, sharing the tick and the bucket, would hold the publish flow back for as long.
      const clock = await control(emu, 'GET', 'clock');
      await site.wpEval(`$c = (array) get_option( 'pos_sync_cursors', array() ); $c['item_shop'] = array( 'ts' => $args['ts'], 'ids' => array() ); update_option( 'pos_sync_cursors', $c, false ); return true;`, { ts: clock.now });
      console.log(`bench: stock sync cursor set to the POS's now (${clock.now}), full reconcile off (--stock-backlog: a fresh install's first stock pull and reconcile share the ticks)`);
    }
    await control(emu, 'DELETE', 'log');

    // Ticks back to back until the publish pass is done.
    const maxTicks = Math.ceil(ITEMS / 5 / budgetS) + 40; // far beyond 5 products/s
    const started = Date.now();
    let ticks = 0;
    let created = 0;
    let phpPeak = 0;
    let done = false;
    let failures = 0;
    let lastFailure = null;
    const seen = new Set();
    const perTick = [];
    while (!done && ticks < maxTicks && failures < 5) {
      ticks += 1;
      const tickStart = Date.now();
      await site.wpEval(DUE_PHP);
      const ran = await site.runCron({ hooks: ['pos_sync_tick'] });
      if (!ran.includes('pos_sync_tick')) throw new Error('pos_sync_tick did not run');
      const { runs, progress } = await site.wpEval(STATE_PHP);
      const sync = runs?.sync;
      const pub = runs?.publish;
      const tickS = (Date.now() - tickStart) / 1000;
      if (!sync?.ok) {
        failures += 1;
        lastFailure = `sync: ${sync?.error ?? 'no run recorded'}`;
        console.log(`bench: tick ${ticks}: stock sync failed (${lastFailure}); publish waits`);
        continue;
      }
      if (!pub || seen.has(pub.run_id)) {
        failures += 1;
        lastFailure = 'no publish run in the tick';
        console.log(`bench: tick ${ticks}: no new publish run recorded`);
        continue;
      }
      seen.add(pub.run_id);
      const p = pub.summary?.published ?? {};
      created += p.created ?? 0;
      phpPeak = Math.max(phpPeak, Number(p.php_peak_mb ?? 0));
      if (!pub.ok) {
        failures += 1;
        lastFailure = `publish: ${pub.error}`;
      } else {
        failures = 0;
        done = pub.summary?.done === true;
      }
      perTick.push({ created: p.created ?? 0, s: tickS, peak: p.php_peak_mb });
      const s = (Date.now() - started) / 1000;
      console.log(`bench: tick ${ticks} (${tickS.toFixed(1)} s): ${pub.ok ? 'ok' : `FAILED ${pub.error}`}; created ${p.created ?? 0} ` +
        `(${created} in all, ${(created / s).toFixed(1)}/s), updated ${p.updated ?? 0}, unchanged ${p.unchanged ?? 0}; ` +
        `php_peak_mb ${p.php_peak_mb ?? '?'}; progress ${progress?.done ?? '?'}/${progress?.total ?? '?'}` +
        `${progress?.seconds_left != null ? `, ~${progress.seconds_left} s left` : ''}${done ? '; pass done' : ''}`);
    }
    const seconds = (Date.now() - started) / 1000;

    const log = emu.emulator.log;
    const throttled = log.filter((e) => e.status === 429).length;
    const charged = log.filter((e) => e.status === 200).reduce((sum, e) => sum + (e.cost ?? 0), 0);
    const pages = log.filter((e) => e.method === 'GET' && e.path.endsWith('/Item.json') && e.status === 200).length;
    const counts = await site.wpEval(COUNT_PHP);
    const inWoo = counts.listings;

    const perUnit = created / Math.max(charged, 1e-9);
    const bound = ((limits.size + limits.drip * seconds) * perUnit) / seconds;
    const productsPerS = created / seconds;
    const share = bound > 0 ? productsPerS / bound : 0;
    console.log(`bench: ${created} products created in ${seconds.toFixed(1)} s over ${ticks} tick(s); ${log.length} requests, ${pages} Item pages, ` +
      `${charged.toFixed(1)} bucket units charged (${((charged / Math.max(1, created)) * 100).toFixed(2)} per 100 products)`);
    console.log(`bench: in WooCommerce: ${inWoo} products with _pos_sync_key (${counts.by_status.map((r) => `${r.n} ${r.s}`).join(', ') || 'none'}), ` +
      `${counts.item_linked} products/variations with _pos_sync_item_id; the POS publishes ${expected}`);
    const writing = perTick.filter((t) => t.created > 0);
    if (writing.length) {
      const peaks = writing.map((t) => Number(t.peak)).filter(Number.isFinite);
      console.log(`bench: php_peak_mb per run: min ${Math.min(...peaks)}, max ${Math.max(...peaks)} over ${writing.length} run(s) that created products`);
    }
    console.log(`bench: in_woo=${inWoo} published=${expected}`);
    let bad = false;
    if (inWoo !== expected) {
      console.log(`bench: MISMATCH: ${inWoo} products in WooCommerce, the POS publishes ${expected}`);
      bad = true;
    }
    if (created !== expected) {
      console.log(`bench: the runs report ${created} created, the POS publishes ${expected}`);
      bad = true;
    }
    if (!done) {
      console.log(`bench: the publish pass did not finish${lastFailure ? ` (last failure: ${lastFailure})` : ''}`);
      bad = true;
    }
    console.log(`products_per_s=${productsPerS.toFixed(1)} bound_per_s=${bound.toFixed(1)} share=${share.toFixed(3)} throttled=${throttled} ` +
      `php_peak_mb=${phpPeak.toFixed(1)}`);
    return bad ? 1 : 0;
  } finally {
    await cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

// ---------------------------------------------------------------- main

let code;
if (CORE_ONLY) {
  code = await coreOnly();
} else {
  const found = await findWordPress();
  if (found.missing) {
    console.log(`SKIPPED full chain (set WORDPRESS_DIR and WOOCOMMERCE_DIR to a WordPress ≥ 6.7 and a WooCommerce ≥ 9 folder, or run \`npm start\` once to fill the cache: ${found.missing}); core side only:`);
    code = await coreOnly();
  } else {
    code = await fullChain(found);
  }
}
process.exitCode = code;
