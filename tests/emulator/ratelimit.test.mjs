// The leaky bucket, the burst limiter, costs and headers. The emulator clock is
// frozen so draining happens only when the test advances it.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { boot, enc } from './helpers.mjs';

let c;
before(async () => {
  c = await boot({ rateLimit: true });
});
after(() => c.close());
beforeEach(async () => {
  await c.control('POST', 'reset', { seed: 'demo' });
  await c.control('POST', 'clock', { freeze: true });
  c.token = (await c.control('POST', 'grant', {})).body.access_token;
});

const level = (r) => Number(r.headers.get('x-ls-api-bucket-level').split('/')[0]);
const cost = (r) => Number(r.headers.get('x-ls-api-request-cost'));
const nextSecond = () => c.control('POST', 'clock', { advance_s: 1 }); // new burst window, drains 1

test('headers on every answer: bucket level, burst level, drip rate, request cost', async () => {
  const r = await c.get('Shop.json');
  assert.equal(r.headers.get('x-ls-api-bucket-level'), '1/90');
  assert.equal(r.headers.get('x-ls-api-drip-rate'), '1');
  assert.equal(r.headers.get('x-ls-api-request-cost'), '1');
  assert.equal(r.headers.get('x-ls-api-burst-level'), '1/20');
  assert.equal(r.headers.get('x-ls-api-ratelimit-type'), null);
  const r2 = await c.get('Shop.json');
  assert.equal(r2.headers.get('x-ls-api-bucket-level'), '2/90');
  const bad = await c.get('Item.json?limit=500');
  assert.equal(bad.status, 400);
  assert.ok(bad.headers.get('x-ls-api-bucket-level'), 'errors carry the headers too');
});

test('costs: load_relations 0.1 / 0.2, doubled on lists; count=1 is 10', async () => {
  assert.equal(cost(await c.get(`Item/1.json?load_relations=${enc('["Category"]')}`)), 1.1);
  assert.equal(cost(await c.get(`Item/1.json?load_relations=${enc('["ItemShops"]')}`)), 1.2);
  assert.equal(cost(await c.get(`Item.json?load_relations=${enc('["ItemShops","Category"]')}`)), 1.6);
  // nested under a to-many is doubled: TagRelations 0.2 + Tag 0.1*2
  assert.equal(cost(await c.get(`Item/1.json?load_relations=${enc('["TagRelations.Tag"]')}`)), 1.4);
  assert.equal(cost(await c.get('Item.json?count=1')), 10);
  await nextSecond();
  assert.ok(cost(await c.get('Item/1.json?load_relations=all')) > 2);
});

test('costs: Sale POST 2, +3 with completed, +0.5 per nested entity; refund 10', async () => {
  const sale = (lines, completed) => ({ employeeID: 1, registerID: 1, shopID: 1, ...(completed ? { completed: true } : {}), SaleLines: { SaleLine: lines.map(([itemID, q]) => ({ itemID, unitQuantity: q, unitPrice: 10 })) }, SalePayments: { SalePayment: { paymentTypeID: 1, amount: lines.reduce((s, [, q]) => s + q * 10, 0) } } });
  const open = await c.post('Sale.json', sale([[1, 1]], false));
  assert.equal(open.status, 200);
  assert.equal(cost(open), 3); // 2 + line + payment
  const done = await c.post('Sale.json', sale([[1, 1], [2, 1]], true));
  assert.equal(cost(done), 6.5); // 2 + 3 + 3 × 0.5
  const refund = await c.post(`Sale/${done.body.Sale.saleID}/refund.json`, { SalePayments: { SalePayment: { paymentTypeID: 1 } } });
  assert.equal(refund.status, 200);
  assert.equal(cost(refund), 10.5); // 10 + one nested payment
  const cust = await c.post('Customer.json', { firstName: 'A', Contact: { Emails: { ContactEmail: { address: 'a@b.c' } } } });
  assert.equal(cost(cust), 2); // 1 + Contact + ContactEmail
});

test('the first request that overflows is served; then 429 leaky-bucket with Retry-After', async () => {
  await c.control('POST', 'config', { rate_limit: { bucket_size: 10, burst_per_s: 100 } });
  let r;
  for (let i = 0; i < 10; i++) r = await c.get('Shop.json');
  assert.equal(r.headers.get('x-ls-api-bucket-level'), '10/10');
  const overflow = await c.get('Item.json?count=1'); // level 10 ≤ 10: served, goes to 20
  assert.equal(overflow.status, 200);
  assert.equal(level(overflow), 20);
  const blocked = await c.get('Shop.json');
  assert.equal(blocked.status, 429);
  assert.equal(blocked.headers.get('x-ls-api-ratelimit-type'), 'api-leaky-bucket');
  assert.equal(blocked.headers.get('retry-after'), '10');
  assert.equal(blocked.body.httpCode, '429');
  assert.equal(level(blocked), 20, 'blocked requests add nothing');
  // drain with the clock: after Retry-After seconds the next request is served
  await c.control('POST', 'clock', { advance_s: 9 });
  assert.equal((await c.get('Shop.json')).status, 429);
  await c.control('POST', 'clock', { advance_s: 1 });
  const ok = await c.get('Shop.json');
  assert.equal(ok.status, 200);
  assert.equal(level(ok), 11);
  const log = (await c.control('GET', 'log')).body;
  assert.ok(log.some((e) => e.status === 429 && e.cost === 1));
});

test('burst limiter: about 20 requests per 1-second window', async () => {
  let r;
  for (let i = 0; i < 20; i++) {
    r = await c.get('Shop.json');
    assert.equal(r.status, 200);
  }
  r = await c.get('Shop.json');
  assert.equal(r.status, 429);
  assert.equal(r.headers.get('x-ls-api-ratelimit-type'), 'api-burst-limiter');
  assert.equal(r.headers.get('retry-after'), '1');
  await nextSecond();
  assert.equal((await c.get('Shop.json')).status, 200);
});

test('registers raise size and drip; configured values show in the headers', async () => {
  await c.control('POST', 'config', { rate_limit: { registers: 3 } });
  let r = await c.get('Shop.json');
  assert.equal(r.headers.get('x-ls-api-bucket-level'), '1/110');
  assert.equal(r.headers.get('x-ls-api-drip-rate'), '2');
  await c.control('POST', 'config', { rate_limit: { bucket_size: 500, drip_per_s: 50, burst_per_s: 200 } });
  r = await c.get('Shop.json');
  assert.equal(r.headers.get('x-ls-api-bucket-level'), '2/500');
  assert.equal(r.headers.get('x-ls-api-drip-rate'), '50');
  assert.equal(r.headers.get('x-ls-api-burst-level'), '2/200');
  await c.control('POST', 'clock', { advance_s: 1 });
  assert.equal(level(await c.get('Shop.json')), 1, 'drained 50/s');
});

test('the off switch never throttles but still reports', async () => {
  await c.control('POST', 'config', { rate_limit: { enabled: false, bucket_size: 5 } });
  let r;
  for (let i = 0; i < 40; i++) {
    r = await c.get('Shop.json');
    assert.equal(r.status, 200);
  }
  assert.equal(r.headers.get('x-ls-api-bucket-level'), '40/5');
});
