// Sidecar tier, post_orders at volume: 1 000 orders through the outbox loop
// with 10 % of sale posts answered 5xx and 5 % committed then dropped →
// exactly 1 000 sales, no duplicates, no losses. Figures are printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootEmulator, control } from './helpers.mjs';
import { TEE, MUG, CREW_S_BLACK, orderRow, salesByRef, drain } from './orders-helpers.mjs';

const ORDERS = 1000;
let emu;
before(async () => {
  emu = await bootEmulator();
});
after(async () => {
  await emu?.close();
});

// A seeded generator: the same faults every run.
function rng(seed) {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

test(`${ORDERS} orders with 10 % 5xx and 5 % drop-after-commit: exactly ${ORDERS} sales`, { timeout: 240_000 }, async () => {
  await control(emu, 'POST', 'reset', { seed: 'demo' });
  // Rate limit on, drip raised so the run takes about a minute; the pacer
  // still keeps under the bucket and the burst limiter.
  await control(emu, 'POST', 'config', { rate_limit: { enabled: true, drip_per_s: 200 } });
  const salesBefore = emu.state.tables.sales.size;
  // Faults drawn per sale POST (the emulator's fault rules, with a random
  // matcher instead of a path regex).
  const random = rng(20261126);
  let injected5xx = 0;
  let injectedDrops = 0;
  const isSalePost = (p) => /\/Sale\.json$/.test(p);
  emu.emulator.faults.push(
    { method: 'POST', count: Infinity, action: 'status', status: 500, re: { test: (p) => isSalePost(p) && random() < 0.1 && ++injected5xx > 0 } },
    { method: 'POST', count: Infinity, action: 'drop_after_write', re: { test: (p) => isSalePost(p) && random() < 0.05 / 0.9 && ++injectedDrops > 0 } },
  );
  const items = [TEE, MUG, CREW_S_BLACK];
  const rows = Array.from({ length: ORDERS }, (_, i) =>
    orderRow(100000 + i, {
      email: `bulk${i % 25}@shop.test`,
      lines: [
        { item_id: items[i % 3], qty: 1 + (i % 2), price: ['19.00', '12.50', '24.00'][i % 3] },
        { item_id: items[(i + 1) % 3], qty: 1, price: ['19.00', '12.50', '24.00'][(i + 1) % 3] },
      ],
    }),
  );
  const started = Date.now();
  // PHP sends up to 250 due rows a run (outbox batch size).
  const out = await drain(emu, rows, { batch: 250, maxRuns: 60, budget_ms: 60_000 });
  const ms = Date.now() - started;
  emu.emulator.faults = [];

  assert.equal(out.pending.length, 0, `${out.pending.length} rows never posted (${out.pending.slice(0, 10).map((r) => r.id).join(', ')}…); run errors: ${JSON.stringify(out.errors.slice(0, 3))}`);
  assert.equal(out.posted.size, ORDERS);
  let duplicates = 0;
  let missing = 0;
  for (const r of rows) {
    const n = salesByRef(emu, r.reference).length;
    if (n === 0) missing++;
    if (n > 1) duplicates++;
  }
  assert.equal(missing, 0);
  assert.equal(duplicates, 0);
  assert.equal(emu.state.tables.sales.size - salesBefore, ORDERS);
  for (const r of rows) {
    const [sale] = salesByRef(emu, r.reference);
    assert.equal(sale.completed, true);
    assert.equal(Math.round(sale.total * 100), Math.round(Number(r.payload.total) * 100));
    assert.equal(sale.balance, 0);
  }
  const log = await control(emu, 'GET', 'log');
  const salePosts = log.filter((e) => e.method === 'POST' && /\/Sale\.json$/.test(e.path)).length;
  const throttled = log.filter((e) => e.status === 429).length;
  const byCode = {};
  for (const f of out.failures) byCode[f.code] = (byCode[f.code] ?? 0) + 1;
  const existing = [...out.posted.values()].filter((e) => e.existing).length;
  console.log(
    `${ORDERS} orders: ${out.runs} runs, ${out.attempts} row attempts (${out.failures.length} failed: ${JSON.stringify(byCode)}), ` +
      `${salePosts} sale POSTs (${injected5xx} answered 500, ${injectedDrops} committed then dropped), ${existing} found by lookup on a later run, ` +
      `${log.length} requests, ${throttled} throttled, ${(ms / 1000).toFixed(1)} s; ${ORDERS} sales, 0 duplicates, 0 lost`,
  );
});
