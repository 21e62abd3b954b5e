// Sidecar tier: node js/sidecar.mjs + the core against the emulator over
// real HTTP, faults injected through /_emulator/.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { bootEmulator, control, makeJob, runSidecar, ofType, resultOf, levelsById, lastCursor } from './helpers.mjs';

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

test('test_connection: ok, with the account name and a saved token', async () => {
  const job = await makeJob(emu, 'test_connection');
  const run = await runSidecar(job);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.equal(run.events[0].type, 'hello');
  assert.equal(typeof run.events[0].core, 'string');
  for (const e of run.events) assert.equal(e.v, 1);
  const result = resultOf(run.events);
  assert.equal(result.ok, true);
  assert.equal(result.account.id, '1');
  assert.ok(result.account.name.length > 0);
  assert.equal(ofType(run.events, 'token').length, 1, 'test_connection proves the refresh works');
});

test('test_connection with a wrong secret fails clearly and never prints the secret', async () => {
  const job = await makeJob(emu, 'test_connection', { settings: { client_secret: 'wrong-secret-7f3a9' } });
  const run = await runSidecar(job);
  assert.equal(run.code, 1);
  const err = ofType(run.events, 'error')[0];
  assert.equal(err.code, 'credentials');
  assert.match(err.message, /client id\/secret/);
  assert.equal(resultOf(run.events).ok, false);
  for (const secret of ['wrong-secret-7f3a9', job.tokens.refresh_token, job.tokens.access_token]) {
    assert.ok(!run.stdout.includes(secret), 'secret on stdout');
    assert.ok(!run.stderr.includes(secret), 'secret on stderr');
  }
});

test('sync reads the demo stock, one level per item, with a cursor', async () => {
  const job = await makeJob(emu, 'sync');
  const run = await runSidecar(job);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const levels = levelsById(run.events);
  const state = await control(emu, 'GET', 'state');
  const items = state.tables.Item.filter((i) => i.archived !== 'true');
  assert.ok(levels.size >= items.length, `${levels.size} levels for ${items.length} items`);
  for (const item of items) {
    const l = levels.get(item.itemID);
    assert.ok(l, `item ${item.itemID} has a level`);
    const rows = state.tables.ItemShop.filter((r) => r.itemID === item.itemID);
    const total = rows.find((r) => r.shopID === '0');
    assert.equal(l.qoh, Number(total.qoh), `item ${item.itemID}`);
    assert.equal(l.base, l.qoh);
    assert.equal(l.sku, item.customSku || item.systemSku);
  }
  const cursor = lastCursor(run.events);
  assert.match(cursor.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
  assert.ok(cursor.ids.length > 0);
  assert.equal(resultOf(run.events).summary.done, true);
});

test('an in-store sale, then sync: the new figure arrives and the cursor moves', async () => {
  const first = await runSidecar(await makeJob(emu, 'sync', { settings: { shop_ids: ['1'] } }));
  assert.equal(first.code, 0, first.stderr);
  const cursor1 = lastCursor(first.events);
  const before = levelsById(first.events);
  const [itemId, level] = [...before.entries()].find(([, l]) => l.shop_qoh['1'] >= 2);
  await control(emu, 'POST', 'clock', { advance_s: 2 });
  await control(emu, 'POST', 'instore-sale', { shopID: 1, lines: [{ itemID: Number(itemId), qty: 2 }] });

  const second = await runSidecar(await makeJob(emu, 'sync', { settings: { shop_ids: ['1'] }, cursors: { item_shop: cursor1 } }));
  assert.equal(second.code, 0, second.stderr);
  const after = levelsById(second.events);
  assert.equal(after.get(itemId).qoh, level.qoh - 2);
  assert.equal(after.get(itemId).shop_qoh['1'], level.shop_qoh['1'] - 2);
  assert.equal(after.size, 1, 'only the changed item');
  const cursor2 = lastCursor(second.events);
  assert.ok(cursor2.ts > cursor1.ts, `${cursor2.ts} after ${cursor1.ts}`);

  // Nothing changed since: a third run reads nothing new.
  const third = await runSidecar(await makeJob(emu, 'sync', { cursors: { item_shop: cursor2 } }));
  assert.equal(third.code, 0);
  assert.equal(levelsById(third.events).size, 0);
});

test('one changed item: single-object answers are read', async () => {
  const first = await runSidecar(await makeJob(emu, 'sync'));
  const cursor = lastCursor(first.events);
  await control(emu, 'POST', 'clock', { advance_s: 2 });
  await control(emu, 'POST', 'stock', { itemID: 2, shopID: 2, qoh: 40 });
  await control(emu, 'DELETE', 'log');
  const run = await runSidecar(await makeJob(emu, 'sync', { cursors: { item_shop: cursor } }));
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const levels = levelsById(run.events);
  assert.deepEqual([...levels.keys()], ['2']);
  assert.equal(levels.get('2').shop_qoh['2'], 40);
  const log = await control(emu, 'GET', 'log');
  assert.ok(log.some((e) => e.path.endsWith('/Item.json') && decodeURIComponent(e.query).includes('IN,[2]')), 'loaded as a single item');
});

test('a token expiring mid-run: token event, and nothing is sent until token_saved', async () => {
  await control(emu, 'POST', 'reset', { seed: 'big:1500' });
  await control(emu, 'POST', 'config', { token_ttl_s: 60 });
  const job = await makeJob(emu, 'reconcile');
  let advanced = null;
  let logAtToken = null;
  let logBeforeAck = null;
  const run = await runSidecar(job, {
    // After the first page, the emulator moves past the token's expiry.
    onEvent: (event) => {
      if (event.type === 'stock' && !advanced) advanced = control(emu, 'POST', 'clock', { advance_s: 120 });
    },
    onToken: async (event, ack) => {
      logAtToken = (await control(emu, 'GET', 'log')).length;
      await new Promise((r) => setTimeout(r, 700));
      logBeforeAck = (await control(emu, 'GET', 'log')).length;
      ack();
    },
  });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const types = run.events.map((e) => e.type);
  const tokenAt = types.indexOf('token');
  assert.ok(tokenAt > types.indexOf('stock'), 'the token was refreshed after the first page');
  assert.equal(ofType(run.events, 'token').length, 1);
  assert.equal(logBeforeAck, logAtToken, 'no API request while waiting for token_saved');
  assert.ok(ofType(run.events, 'stock').slice(1).length > 0, 'pages after the refresh');
  const result = resultOf(run.events);
  assert.equal(result.summary.done, true);
  assert.equal(result.summary.token_refreshes, 1);
  const log = await control(emu, 'GET', 'log');
  assert.equal(log.filter((e) => e.status === 401).length, 1, 'one 401, then the new token');
});

test('stdin closed instead of token_saved: the new token is never used', async () => {
  await control(emu, 'POST', 'config', { token_ttl_s: 60 });
  const job = await makeJob(emu, 'sync');
  await control(emu, 'POST', 'clock', { advance_s: 120 });
  let logAtToken = null;
  const run = await runSidecar(job, {
    onToken: async (event, ack, child) => {
      logAtToken = (await control(emu, 'GET', 'log')).length;
      child.stdin.end(); // PHP died before persisting the pair
    },
  });
  assert.equal(run.code, 1);
  assert.equal(ofType(run.events, 'error')[0].code, 'token_not_saved');
  assert.equal((await control(emu, 'GET', 'log')).length, logAtToken, 'no request after the token event');
});

test('a 429 storm, 5xx bursts and a dropped connection: the run still completes', async () => {
  await control(emu, 'POST', 'faults', [
    { method: 'GET', path: 'ItemShop\\.json', count: 3, action: 'status', status: 429 },
    { method: 'GET', path: 'ItemShop\\.json', count: 1, action: 'drop_after_write' },
    { method: 'GET', path: 'Item\\.json', count: 2, action: 'status', status: 503 },
    { method: 'GET', path: 'Item\\.json', count: 1, action: 'status', status: 500 },
  ]);
  const run = await runSidecar(await makeJob(emu, 'sync'));
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const result = resultOf(run.events);
  assert.equal(result.summary.done, true);
  assert.equal(result.summary.throttled, 3);
  assert.equal(result.summary.retries, 4);
  assert.ok(levelsById(run.events).size > 0);
  assert.ok(ofType(run.events, 'log').some((l) => /retry \d of/.test(l.message)));
});

test('a malformed job gives an error event and exit 1', async () => {
  const bad = await runSidecar(null, { rawJob: '{"v":1,"kind":"sync"' });
  assert.equal(bad.code, 1);
  assert.equal(bad.events[0].type, 'error');
  assert.equal(bad.events[0].code, 'bad_job');
  const v2 = await runSidecar({ v: 2, kind: 'sync' });
  assert.equal(v2.code, 1);
  assert.match(v2.events[0].message, /version/);
  const incomplete = await runSidecar({ v: 1, kind: 'sync', budget_ms: 1000 });
  assert.equal(incomplete.code, 1);
  assert.equal(ofType(incomplete.events, 'error')[0].code, 'bad_job');
  assert.equal(resultOf(incomplete.events).ok, false);
});

test('rate limit on: a paced reconcile is never throttled', async () => {
  await control(emu, 'POST', 'reset', { seed: 'big:3000' });
  // A small bucket so pacing matters within a few seconds.
  await control(emu, 'POST', 'config', { rate_limit: { enabled: true, bucket_size: 12, drip_per_s: 6, burst_per_s: 20 } });
  await control(emu, 'DELETE', 'log');
  const run = await runSidecar(await makeJob(emu, 'reconcile', { budget_ms: 60_000 }));
  assert.equal(run.code, 0, run.stderr);
  const result = resultOf(run.events);
  assert.equal(result.summary.done, true);
  assert.equal(result.summary.throttled, 0);
  assert.equal(await statuses(429), 0, 'no 429 in the emulator log');
  const live = (await control(emu, 'GET', 'state?summary=1')).counts.items;
  assert.ok(result.summary.items > 0 && result.summary.items <= live);
  const last = ofType(run.events, 'stock').at(-1);
  assert.deepEqual(last.cursor, { reconcile: null });
});

test('an item archived in the POS reaches the web as base 0', async () => {
  const first = await runSidecar(await makeJob(emu, 'sync'));
  const cursor = lastCursor(first.events);
  const [itemId] = [...levelsById(first.events).entries()].find(([, l]) => l.qoh > 0);
  await control(emu, 'POST', 'clock', { advance_s: 2 });
  const grant = await control(emu, 'POST', 'grant', {});
  const del = await fetch(`${emu.apiBase}/Account/1/Item/${itemId}.json`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${grant.access_token}` },
  });
  assert.equal(del.status, 200, await del.text());
  const run = await runSidecar(await makeJob(emu, 'sync', { cursors: { item_shop: cursor } }));
  assert.equal(run.code, 0, run.stderr);
  const level = levelsById(run.events).get(itemId);
  assert.ok(level, 'the archived item is reported');
  assert.equal(level.base, 0);
});
