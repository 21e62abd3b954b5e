// Sidecar tier, publish: node js/sidecar.mjs + the core against the
// emulator's demo catalogue over real HTTP (docs/PROTOCOL.md, "publish").
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { bootEmulator, control, makeJob, runSidecar, ofType, resultOf } from './helpers.mjs';

let emu;
before(async () => {
  emu = await bootEmulator();
});
after(async () => {
  await emu?.close();
});
beforeEach(async () => {
  await control(emu, 'POST', 'reset', { seed: 'demo' });
});

const statuses = async (status) => (await control(emu, 'GET', 'log')).filter((e) => e.status === status).length;
const products = (events) => new Map(ofType(events, 'product').map((e) => [e.product.key, e.product]));

// The cursor PHP would hold after applying every event of a run.
function lastPublishCursor(events) {
  const withCursor = events.filter((e) => e.type === 'product' || (e.type === 'cursor' && e.flow === 'publish'));
  return withCursor.length ? withCursor.at(-1).cursor : null;
}

async function publish(opts = {}) {
  const run = await runSidecar(await makeJob(emu, 'publish', opts));
  assert.equal(run.code, 0, run.stdout + run.stderr);
  return run;
}

async function pos(method, path, body) {
  const grant = await control(emu, 'POST', 'grant', {});
  const res = await fetch(`${emu.apiBase}/Account/1/${path}`, {
    method,
    headers: { Authorization: `Bearer ${grant.access_token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}

test('publish: the demo catalogue becomes complete listings', async () => {
  const run = await publish();
  for (const e of run.events) assert.equal(e.v, 1);
  const byKey = products(run.events);
  const state = await control(emu, 'GET', 'state');
  const items = state.tables.Item;

  // Every simple item has a listing; published ones are visible.
  for (const item of items.filter((i) => i.itemMatrixID === '0')) {
    const l = byKey.get(`item:${item.itemID}`);
    assert.ok(l, `item ${item.itemID} (${item.description}) has a listing`);
    assert.equal(l.type, 'simple');
    assert.equal(l.sku, item.customSku || item.systemSku);
    const expected = item.archived === 'true' || item.publishToEcom !== 'true' ? 'hidden' : 'publish';
    assert.equal(l.visibility, expected, item.description);
    assert.match(l.fingerprint, /^[0-9a-f]{16}$/);
    assert.equal(typeof l.base, 'number');
  }
  const tote = [...byKey.values()].find((l) => l.name === 'Canvas Tote');
  assert.equal(tote.visibility, 'hidden', 'the unpublished item is not published');
  assert.equal(tote.hidden_reason, 'not_selected');
  const vintage = [...byKey.values()].find((l) => l.sku === 'TEE-VINT');
  assert.equal(vintage.visibility, 'hidden', 'the archived item is hidden, not dropped');
  assert.equal(vintage.hidden_reason, 'archived');

  const tee = [...byKey.values()].find((l) => l.sku === 'TEE-WHT');
  assert.deepEqual(tee.categories, [['Apparel', 'T-Shirts']], 'nested categories as full paths');
  assert.equal(tee.regular_price, '19.00');
  assert.equal(tee.weight, '0.2');
  assert.deepEqual(tee.dimensions, { length: '30', width: '25', height: '2' });
  assert.deepEqual(tee.images.map((i) => i.alt), ['Classic Tee front', 'Classic Tee back'], 'POS order');
  assert.equal(tee.base, 17);
  const img = await fetch(tee.images[0].url);
  assert.equal(img.status, 200, 'image urls resolve on the CDN');
  assert.equal(img.headers.get('content-type'), 'image/png');

  const hoodie = [...byKey.values()].find((l) => l.sku === 'HOOD-LOGO');
  assert.ok(!/script|onclick/i.test(hoodie.description), hoodie.description);
  assert.match(hoodie.description, /Machine washable/);
  const campMug = [...byKey.values()].find((l) => l.name === 'Enamel Camp Mug');
  assert.match(campMug.sku, /^21\d{10}$/, 'system SKU when no custom SKU');

  // The matrix: one variable product with its variations.
  const matrices = [...byKey.values()].filter((l) => l.type === 'variable');
  assert.equal(matrices.length, 1);
  const crew = matrices[0];
  assert.equal(crew.key, `matrix:${state.tables.ItemMatrix[0].itemMatrixID}`);
  assert.equal(crew.name, 'Crew Tee');
  assert.equal(crew.visibility, 'publish');
  assert.deepEqual(crew.attributes, [
    { name: 'Size', options: ['S', 'M', 'L'] },
    { name: 'Colour', options: ['Black', 'Navy'] },
  ]);
  assert.equal(crew.variations.length, 6);
  const variantItems = items.filter((i) => i.itemMatrixID !== '0');
  for (const v of crew.variations) {
    const it = variantItems.find((i) => i.itemID === v.item_id);
    assert.ok(it, `variation ${v.item_id} is a variant item`);
    assert.equal(v.sku, it.customSku);
    assert.ok(v.image && v.image.url.includes(`crew-tee-${v.attributes.Colour.toLowerCase()}`), 'variation image');
    assert.equal(v.regular_price, '24.00');
    assert.equal(v.weight, '0.18');
    assert.ok(v.enabled);
    const total = state.tables.ItemShop.find((r) => r.itemID === v.item_id && r.shopID === '0');
    assert.equal(v.base, Number(total.qoh));
  }
  assert.equal(crew.images.length, 1);
  assert.doesNotMatch(crew.description, /<script/i);

  // Each product event carries a cursor; progress shows done/total.
  for (const e of ofType(run.events, 'product')) assert.ok(e.cursor && 'item' in e.cursor, 'cursor on every product event');
  assert.ok(ofType(run.events, 'product').at(-1).cursor.item.ts, 'the last one past the page');
  const progress = ofType(run.events, 'progress').filter((p) => p.flow === 'publish');
  assert.ok(progress.length > 0);
  assert.equal(progress.at(-1).done, progress.at(-1).total);
  const result = resultOf(run.events);
  assert.equal(result.ok, true);
  assert.equal(result.summary.done, true);
  assert.equal(result.summary.listings, byKey.size);
});

test('publish: a second run with no POS change emits no product event', async () => {
  const first = await publish();
  const cursor = lastPublishCursor(first.events);
  assert.ok(cursor?.item?.ts);
  const second = await publish({ cursors: { publish: cursor } });
  assert.equal(ofType(second.events, 'product').length, 0);
  assert.equal(resultOf(second.events).summary.done, true);
  assert.deepEqual(lastPublishCursor(second.events), cursor, 'the cursor stays put');
});

test('publish: a price change in the POS gives one event with only the price fingerprint changed', async () => {
  const first = await publish();
  const cursor = lastPublishCursor(first.events);
  const before = [...products(first.events).values()].find((l) => l.sku === 'TEE-WHT');
  await control(emu, 'POST', 'clock', { advance_s: 2 });
  await pos('PUT', `Item/${before.item_id}.json`, { Prices: { ItemPrice: [{ useType: 'Default', amount: '21.00' }] } });

  const second = await publish({ cursors: { publish: cursor } });
  const events = ofType(second.events, 'product');
  assert.equal(events.length, 1, events.map((e) => e.product.key).join(','));
  const after = events[0].product;
  assert.equal(after.key, before.key);
  assert.equal(after.regular_price, '21.00');
  assert.notEqual(after.fingerprint, before.fingerprint);
  const changed = Object.keys(before.fingerprints).filter((k) => before.fingerprints[k] !== after.fingerprints[k]);
  assert.deepEqual(changed, ['price']);

  const third = await publish({ cursors: { publish: lastPublishCursor(second.events) } });
  assert.equal(ofType(third.events, 'product').length, 0, 'applied once');
});

test('publish: archiving an item hides its listing at the next run', async () => {
  const first = await publish();
  const mug = [...products(first.events).values()].find((l) => l.sku === 'MUG-HARB');
  await control(emu, 'POST', 'clock', { advance_s: 2 });
  await pos('DELETE', `Item/${mug.item_id}.json`);
  const second = await publish({ cursors: { publish: lastPublishCursor(first.events) } });
  const after = products(second.events).get(mug.key);
  assert.equal(after.visibility, 'hidden');
  assert.equal(after.hidden_reason, 'archived');
  assert.equal(after.base, 0);
});

test('publish: other rules and settings reach the listing', async () => {
  const run = await publish({
    settings: {
      publish_rule: { by: 'category', ids: ['1'] }, // Apparel and its subcategories
      price_level: 'online',
      units: { weight: 'g', dimension: 'mm' },
      owned_by_woo: ['description', 'images'],
    },
  });
  const byKey = [...products(run.events).values()];
  const visible = byKey.filter((l) => l.visibility === 'publish').map((l) => l.name).sort();
  assert.deepEqual(visible, ['Classic Tee - White', 'Crew Tee', 'Logo Hoodie']);
  const tee = byKey.find((l) => l.sku === 'TEE-WHT');
  assert.equal(tee.regular_price, '17.00', 'Online price level');
  assert.equal(tee.weight, '200');
  assert.equal(tee.dimensions.length, '300');
  assert.deepEqual(tee.owned_by_woo, ['description', 'images']);

  const tagged = await publish({ settings: { publish_rule: { by: 'tag', names: ['Summer'] } } });
  const taggedVisible = [...products(tagged.events).values()].filter((l) => l.visibility === 'publish').map((l) => l.name).sort();
  assert.deepEqual(taggedVisible, ['Classic Tee - White', 'Crew Tee'], 'TagRelations.Tag read for the tag rule');

  const bad = await runSidecar(await makeJob(emu, 'publish', { settings: { publish_rule: { by: 'mood' } } }));
  assert.equal(bad.code, 1);
  assert.equal(ofType(bad.events, 'error')[0].code, 'bad_job');
});

test('publish: a run cut by its budget resumes from the cursor', async () => {
  await control(emu, 'POST', 'reset', { seed: 'big:450' });
  await control(emu, 'POST', 'config', { latency_ms: 120 });
  let cursor = null;
  const seen = new Map();
  let runs = 0;
  let done = false;
  let cut = false;
  while (!done && runs < 25) {
    runs += 1;
    const run = await publish({ budget_ms: 900, cursors: { publish: cursor } });
    for (const e of ofType(run.events, 'product')) seen.set(e.product.key, (seen.get(e.product.key) ?? 0) + 1);
    cursor = lastPublishCursor(run.events) ?? cursor;
    const result = resultOf(run.events);
    assert.equal(result.ok, true, 'a spent budget is no error');
    done = result.summary.done;
    if (!done) cut = true;
  }
  assert.ok(cut, 'at least one run was cut by its budget');
  assert.ok(done, `finished after ${runs} runs`);
  assert.equal(seen.size, 450, 'every item listed');
  const replays = [...seen.values()].filter((n) => n > 1).length;
  assert.ok(replays <= 100, `replays stay within a page (${replays})`);
  const after = await publish({ cursors: { publish: cursor } });
  assert.equal(ofType(after.events, 'product').length, 0, 'caught up');
});

test('publish: rate limit on, a paced import is never throttled', async () => {
  await control(emu, 'POST', 'reset', { seed: 'big:1500' });
  await control(emu, 'POST', 'config', { rate_limit: { enabled: true, bucket_size: 20, drip_per_s: 8, burst_per_s: 20 } });
  await control(emu, 'DELETE', 'log');
  const run = await publish({ budget_ms: 60_000 });
  const result = resultOf(run.events);
  assert.equal(result.summary.done, true);
  assert.equal(result.summary.listings, 1500);
  assert.equal(result.summary.throttled, 0);
  assert.equal(await statuses(429), 0, 'no 429 in the emulator log');
  const progress = ofType(run.events, 'progress').filter((p) => p.flow === 'publish');
  assert.equal(progress[0].total, 1500, 'count=1 gives the pass total');
  const counts = (await control(emu, 'GET', 'log')).filter((e) => (e.query ?? '').includes('count=1'));
  assert.equal(counts.length, 1, 'count=1 once per pass');
});

test('publish: the sidecar reads no further POS page while PHP has not read what it emitted (backpressure)', async () => {
  // 1450 items: 15 pages, the last one short. (A last page that is full is followed by
  // one more, empty read: the POS may leave `next` out of a full page, LIGHTSPEED.md.)
  await control(emu, 'POST', 'reset', { seed: 'big:1450' });
  await control(emu, 'POST', 'config', { rate_limit: { enabled: false } });
  const job = await makeJob(emu, 'publish', { budget_ms: 60_000 });
  await control(emu, 'DELETE', 'log');
  const itemPages = async () => (await control(emu, 'GET', 'log')).filter((e) => /\/Item\.json/.test(e.path ?? e.url ?? '') && !(e.query ?? '').includes('count=1')).length;
  const { spawn } = await import('node:child_process');
  const { SIDECAR } = await import('./helpers.mjs');
  const child = spawn(process.execPath, [SIDECAR], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.write(JSON.stringify(job) + '\n');
  let out = '';
  let firstProduct;
  const gotProduct = new Promise((resolve) => (firstProduct = resolve));
  child.stdout.on('data', (d) => {
    out += d;
    if (out.includes('"type":"product"')) firstProduct();
  });
  // PHP stops reading (a slow WooCommerce write) right after the first listing.
  await gotProduct;
  child.stdout.pause();
  await new Promise((r) => setTimeout(r, 300));
  const atPause = await itemPages();
  await new Promise((r) => setTimeout(r, 1500));
  const afterPause = await itemPages();
  assert.ok(afterPause <= 3, `at most the pages the pipe holds were read while PHP read nothing (${afterPause} of 15)`);
  assert.equal(afterPause, atPause, 'no page read during the pause');
  child.stdout.resume();
  const code = await new Promise((r) => child.on('exit', r));
  await new Promise((r) => setImmediate(r));
  assert.equal(code, 0);
  const events = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(ofType(events, 'product').length, 1450, 'everything arrives once PHP reads again');
  assert.equal(await itemPages(), 15, 'each page read once');
});
