// The /_emulator/ controls: reset (demo | empty | big:N), config, grant,
// stock, instore-sale, faults (status | hang | drop_after_write), log, state,
// clock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { boot, enc, asList } from './helpers.mjs';

let c;
before(async () => {
  c = await boot({ rateLimit: false });
});
after(() => c.close());

const regrant = async () => {
  c.token = (await c.control('POST', 'grant', {})).body.access_token;
};

test('grant answers a full token pair with account and client', async () => {
  const g = await c.control('POST', 'grant', {});
  assert.equal(g.status, 200);
  for (const k of ['access_token', 'refresh_token', 'expires_in', 'account_id', 'client_id', 'client_secret']) assert.ok(k in g.body, k);
  assert.equal(g.body.account_id, '1');
  assert.equal(g.body.client_id, 'pos-sync-demo');
});

test('stock sets qoh, bumps ItemShop and total timestamps, not the Item', async () => {
  const before = (await c.get(`Item/2.json?load_relations=${enc('["ItemShops"]')}`)).body.Item;
  await c.control('POST', 'clock', { advance_s: 30 });
  const r = await c.control('POST', 'stock', { itemID: 2, shopID: 2, qoh: 11 });
  assert.equal(r.status, 200);
  const after = (await c.get(`Item/2.json?load_relations=${enc('["ItemShops"]')}`)).body.Item;
  const rows = Object.fromEntries(asList(after.ItemShops.ItemShop).map((s) => [s.shopID, s]));
  const old = Object.fromEntries(asList(before.ItemShops.ItemShop).map((s) => [s.shopID, s]));
  assert.equal(rows['2'].qoh, '11');
  assert.equal(Number(rows['0'].qoh), Number(rows['1'].qoh) + 11);
  assert.ok(rows['2'].timeStamp > old['2'].timeStamp);
  assert.ok(rows['0'].timeStamp > old['0'].timeStamp);
  assert.equal(rows['1'].timeStamp, old['1'].timeStamp);
  assert.equal(after.timeStamp, before.timeStamp);
  assert.equal((await c.control('POST', 'stock', { itemID: 999999, shopID: 1, qoh: 1 })).status, 404);
});

test('instore-sale records a completed sale that moves stock', async () => {
  const before = Number((await c.get('ItemShop.json?itemID=3&shopID=1')).body.ItemShop.qoh);
  const r = await c.control('POST', 'instore-sale', { shopID: 1, lines: [{ itemID: 3, qty: 2 }] });
  assert.equal(r.status, 200);
  const sale = (await c.get(`Sale/${r.body.saleID}.json`)).body.Sale;
  assert.equal(sale.completed, 'true');
  assert.equal(sale.shopID, '1');
  assert.equal(Number((await c.get('ItemShop.json?itemID=3&shopID=1')).body.ItemShop.qoh), before - 2);
});

test('clock advance moves timestamps and reports the time', async () => {
  const t0 = (await c.control('GET', 'clock')).body.now_ms;
  const r = await c.control('POST', 'clock', { advance_s: 3600 });
  assert.ok(r.body.now_ms - t0 >= 3600_000);
  // an hour later the 30-minute token has expired: that is the point of the clock
  assert.equal((await c.get('Shop.json')).status, 401);
  await regrant();
  const sale = await c.control('POST', 'instore-sale', { shopID: 2, lines: [{ itemID: 1, qty: 1 }] });
  const ts = Date.parse((await c.get(`Sale/${sale.body.saleID}.json`)).body.Sale.timeStamp);
  assert.ok(ts >= Math.floor(t0 / 1000) * 1000 + 3600_000);
});

test('faults: status answers the injected error for the next count requests only', async () => {
  await c.control('POST', 'faults', { method: 'GET', path: 'Shop\\.json$', count: 2, action: 'status', status: 503 });
  assert.equal((await c.get('Shop.json')).status, 503);
  const second = await c.get('Shop.json');
  assert.equal(second.status, 503);
  assert.equal(second.body.httpCode, '503');
  assert.equal((await c.get('Shop.json')).status, 200);
  await c.control('POST', 'faults', { path: 'Shop', count: 1, action: 'status', status: 500, body: { custom: true } });
  assert.deepEqual((await c.get('Shop.json')).body, { custom: true });
});

test('faults: drop_after_write performs the write, then drops the connection', async () => {
  const ref = `WEB-DROP-${Date.now()}`;
  await c.control('POST', 'faults', { method: 'POST', path: '/Sale\\.json$', count: 1, action: 'drop_after_write' });
  const body = { employeeID: 3, registerID: 1, shopID: 1, completed: true, referenceNumber: ref, SaleLines: { SaleLine: { itemID: 1, unitQuantity: 1, unitPrice: 17 } }, SalePayments: { SalePayment: { paymentTypeID: 7, amount: 17 } } };
  await assert.rejects(c.post('Sale.json', body));
  const found = await c.get(`Sale.json?referenceNumber=${ref}`);
  assert.equal(found.body['@attributes'].count, '1', 'the write happened');
  const log = (await c.control('GET', 'log')).body;
  assert.ok(log.some((e) => e.status === 'dropped' && e.path.endsWith('/Sale.json')));
});

test('faults: hang never answers (until the emulator closes)', async () => {
  await c.control('POST', 'faults', { method: 'GET', path: 'Employee', count: 1, action: 'hang' });
  const res = await fetch(`${c.base}/Employee.json`, { headers: { Authorization: `Bearer ${c.token}` }, signal: AbortSignal.timeout(300) }).then(
    () => 'answered',
    (e) => e.name,
  );
  assert.equal(res, 'TimeoutError');
  assert.equal((await c.get('Employee.json')).status, 200, 'only count requests hang');
});

test('log lists requests with status, cost and bucket; DELETE clears it', async () => {
  await c.control('DELETE', 'log');
  await c.get(`Item.json?load_relations=${enc('["ItemShops"]')}`);
  const log = (await c.control('GET', 'log')).body;
  assert.equal(log.length, 1);
  assert.equal(log[0].method, 'GET');
  assert.match(log[0].path, /\/Item\.json$/);
  assert.match(log[0].query, /load_relations/);
  assert.equal(log[0].status, 200);
  assert.equal(log[0].cost, 1.4);
  assert.match(log[0].bucket, /^[\d.]+\/90$/);
});

test('state dumps the whole account in wire shape', async () => {
  const s = (await c.control('GET', 'state')).body;
  assert.ok(s.tables.Item.length >= 12);
  assert.equal(typeof s.tables.Item[0].itemID, 'string');
  assert.ok(s.counts.itemShops > 0);
  const summary = (await c.control('GET', 'state?summary=1')).body;
  assert.equal(summary.tables, undefined);
});

test('config: latency and token ttl are partial updates', async () => {
  const r = await c.control('POST', 'config', { latency_ms: 0, token_ttl_s: 900 });
  assert.equal(r.body.token_ttl_s, 900);
  assert.equal(r.body.rate_limit.enabled, false, 'other settings untouched');
});

test('reset empty / demo restores state, clock, faults and config', async () => {
  await c.control('POST', 'faults', { path: 'x', count: 5 });
  await c.control('POST', 'clock', { advance_s: 99999 });
  const e = await c.control('POST', 'reset', { seed: 'empty' });
  assert.equal(e.status, 200);
  await regrant();
  assert.equal((await c.get('Item.json')).body['@attributes'].count, '0');
  assert.equal(asList((await c.get('Shop.json')).body.Shop).length, 2, 'shops survive an empty seed');
  const s = (await c.control('GET', 'state?summary=1')).body;
  assert.equal(s.faults.length, 0);
  assert.ok(Math.abs(s.clock.offset_s) < 1);
  assert.equal(s.config.token_ttl_s, 1800);
  await c.control('POST', 'reset', { seed: 'demo' });
  assert.equal((await c.get('Item.json?customSku=TEE-WHT')).body.Item.customSku, 'TEE-WHT');
  assert.equal((await c.control('POST', 'reset', { seed: 'weird' })).status, 400);
});

test('big:100000 seeds 100 000 items stocked in two shops, served from indexes', async () => {
  const r = await c.control('POST', 'reset', { seed: 'big:100000' });
  assert.equal(r.status, 200);
  assert.equal(r.body.items, 100000);
  assert.equal(r.body.item_shops, 300000);
  await regrant();
  assert.equal((await c.get('Item.json?count=1')).body['@attributes'].count, '100000');
  const item = (await c.get(`Item/77777.json?load_relations=${enc('["ItemShops"]')}`)).body.Item;
  assert.deepEqual(asList(item.ItemShops.ItemShop).map((s) => s.shopID).sort(), ['0', '1', '2']);
  // incremental read after a change finds exactly the changed rows
  const cutoff = (await c.control('GET', 'clock')).body.now;
  await c.control('POST', 'clock', { advance_s: 2 });
  await c.control('POST', 'stock', { itemID: 4242, shopID: 2, qoh: 1 });
  const changed = await c.get(`ItemShop.json?sort=timeStamp&timeStamp=${enc(`>,${cutoff}`)}`);
  assert.deepEqual(asList(changed.body.ItemShop).map((s) => `${s.itemID}/${s.shopID}`).sort(), ['4242/0', '4242/2']);
  // a full incremental walk from the beginning sees all 300 000 rows exactly once (spot-check first 30 pages)
  let url = `ItemShop.json?sort=timeStamp&limit=100&timeStamp=${enc('>=,2000-01-01T00:00:00+00:00')}`;
  const seen = new Set();
  for (let p = 0; p < 30; p++) {
    const page = await c.get(url.replace(/^.*\/Account\/1\//, ''));
    for (const s of asList(page.body.ItemShop)) seen.add(s.itemShopID);
    url = page.body['@attributes'].next;
  }
  assert.equal(seen.size, 3000);
  const ids = Array.from({ length: 100 }, (_, i) => 90000 + i);
  const many = await c.get(`Item.json?itemID=${enc(`IN,${JSON.stringify(ids)}`)}`);
  assert.equal(many.body.Item.length, 100);
  await c.control('POST', 'reset', { seed: 'demo' });
});
