// Sidecar tier, post_orders at volume: 1 000 orders through the outbox loop
// with 10 % of sale posts answered 5xx and 5 % committed then dropped, and
// the orders' life on top (orders-life-helpers.mjs): 10 % cancelled (half
// before posting: 25 never sent, 25 caught in flight and sent lookup_only,
// answered outbox_absent; half after posting: one full return `-C1`) and 5 %
// edited after posting (an extra sale `-E1`, a return `-E2`) → every sale and
// return exactly once, by reference, with its quantities, and POS stock
// moved by exactly those. Figures are printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootEmulator, control } from './helpers.mjs';
import { TEE, HOODIE, MUG, CREW_S_BLACK, orderRow, salesByRef, qoh, cents } from './orders-helpers.mjs';
import { drainLife } from './orders-life-helpers.mjs';

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

// 40 orders in a row: 1 never sent, 1 caught in flight, 2 cancelled after
// posting, 2 edited after posting, 34 left alone.
const PLAN = ['never_sent', 'in_flight', 'cancel_after', 'cancel_after', 'edit_after', 'edit_after'];
const planOf = (i) => PLAN[i % 40] ?? 'normal';

test(`${ORDERS} orders, 10 % cancelled and 5 % edited, under 10 % 5xx and 5 % drop-after-commit: every sale and return once`, { timeout: 300_000 }, async () => {
  await control(emu, 'POST', 'reset', { seed: 'demo' });
  // Rate limit on, drip raised so the run takes about two minutes; the
  // pacer still keeps under the bucket and the burst limiter.
  await control(emu, 'POST', 'config', { rate_limit: { enabled: true, drip_per_s: 200 } });
  const salesBefore = emu.state.tables.sales.size;
  const items = [TEE, MUG, CREW_S_BLACK, HOODIE];
  const stockBefore = new Map(items.map((it) => [it, qoh(emu, it)]));
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
  const now = () => emu.emulator.clock.nowMs();
  const sold = [TEE, MUG, CREW_S_BLACK];
  const rows = Array.from({ length: ORDERS }, (_, i) => {
    const r = orderRow(100000 + i, {
      email: `bulk${i % 25}@shop.test`,
      lines: [
        { item_id: sold[i % 3], qty: 1 + (i % 2), price: ['19.00', '12.50', '24.00'][i % 3] },
        { item_id: sold[(i + 1) % 3], qty: 1, price: ['19.00', '12.50', '24.00'][(i + 1) % 3] },
      ],
    });
    r.placed_at_ms = now();
    return r;
  });
  const plans = new Map(rows.map((r, i) => [r.id, planOf(i)]));
  const count = (plan) => [...plans.values()].filter((p) => p === plan).length;
  const started = Date.now();
  // PHP sends up to 250 due rows a run (outbox batch size).
  const out = await drainLife(emu, rows, plans, { batch: 250, maxRuns: 80, budget_ms: 60_000, now });
  const ms = Date.now() - started;
  emu.emulator.faults = [];

  assert.equal(out.pending.length, 0, `${out.pending.length} rows never settled (${out.pending.slice(0, 10).map((r) => r.id).join(', ')}…); run errors: ${JSON.stringify(out.errors.slice(0, 3))}`);
  assert.deepEqual(out.failures.filter((f) => f.attention), [], 'no row needs attention');

  // What the POS must hold, by reference: [sales, unit quantity by item].
  const expected = new Map();
  const expect = (ref, lines) => expected.set(ref, lines);
  const caughtInFlight = [];
  for (const r of rows) {
    const plan = plans.get(r.id);
    const lines = r.payload.lines.map((l) => [Number(l.item_id), l.qty]);
    if (plan === 'never_sent') continue;
    if (plan === 'in_flight') {
      // Cancelled while its sale may have been in the POS: looked up, absent.
      assert.ok(out.absent.has(r.id), `${r.reference} caught in flight was answered outbox_absent`);
      caughtInFlight.push(r.reference);
      continue;
    }
    expect(r.reference, lines);
    if (plan === 'cancel_after') expect(`${r.reference}-C1`, lines.map(([it, q]) => [it, -q]));
    if (plan === 'edit_after') {
      expect(`${r.reference}-E1`, [[HOODIE, 1]]);
      expect(`${r.reference}-E2`, [[lines[0][0], -1]]);
    }
  }
  let duplicates = 0;
  let missing = 0;
  let unexpected = 0;
  const stockMove = new Map(items.map((it) => [it, 0]));
  for (const r of rows) {
    for (const ref of [r.reference, `${r.reference}-C1`, `${r.reference}-E1`, `${r.reference}-E2`]) {
      const sales = salesByRef(emu, ref);
      const want = expected.get(ref);
      if (!want) {
        if (sales.length) unexpected++;
        continue;
      }
      if (sales.length === 0) missing++;
      if (sales.length > 1) duplicates++;
      const [sale] = sales;
      if (!sale) continue;
      assert.equal(sale.completed, true, ref);
      assert.equal(sale.balance, 0, ref);
      const got = sale._lines.map((l) => [l.itemID, l.unitQuantity]).sort((a, b) => a[0] - b[0]);
      assert.deepEqual(got, [...want].sort((a, b) => a[0] - b[0]), `${ref}: its lines`);
      for (const l of sale._lines) {
        stockMove.set(l.itemID, stockMove.get(l.itemID) - l.unitQuantity);
        // A return names the line of the original sale it gives back.
        if (l.unitQuantity < 0) assert.ok(l.parentSaleLineID, `${ref}: a return line has its parent sale line`);
      }
      const row = out.made.find((m) => m.reference === ref) ?? r;
      const total = ref === r.reference ? cents(r.payload.total) : row.kind === 'refund' ? -cents(row.payload.amount) : cents(row.payload.total);
      assert.equal(Math.round(sale.total * 100), total, `${ref}: its total`);
    }
  }
  assert.equal(missing, 0);
  assert.equal(duplicates, 0);
  assert.equal(unexpected, 0, 'no sale for an order cancelled before posting');
  assert.equal(emu.state.tables.sales.size - salesBefore, expected.size);
  // POS stock moved by exactly the sales and returns above (shop 1).
  const expectedMove = new Map(items.map((it) => [it, 0]));
  for (const lines of expected.values()) for (const [it, q] of lines) expectedMove.set(it, expectedMove.get(it) - q);
  for (const it of items) {
    assert.equal(qoh(emu, it) - stockBefore.get(it), expectedMove.get(it), `item ${it}: POS stock`);
    assert.equal(stockMove.get(it), expectedMove.get(it), `item ${it}: sale lines`);
  }

  const log = await control(emu, 'GET', 'log');
  const salePosts = log.filter((e) => e.method === 'POST' && /\/Sale\.json$/.test(e.path)).length;
  const throttled = log.filter((e) => e.status === 429).length;
  const byCode = {};
  for (const f of out.failures) byCode[f.code] = (byCode[f.code] ?? 0) + 1;
  const existing = [...out.posted.values()].filter((e) => e.existing).length;
  const returns = [...expected.keys()].filter((k) => /-(C1|E2)$/.test(k)).length;
  console.log(
    `${ORDERS} orders (${count('never_sent')} cancelled unsent, ${caughtInFlight.length} cancelled in flight → outbox_absent, ` +
      `${count('cancel_after')} cancelled after posting → -C1, ${count('edit_after')} edited after posting → -E1 + -E2): ` +
      `${out.runs} runs, ${out.attempts} row attempts (${out.failures.length} failed: ${JSON.stringify(byCode)}), ` +
      `${salePosts} sale POSTs (${injected5xx} answered 500, ${injectedDrops} committed then dropped), ${existing} found by lookup on a later run, ` +
      `${log.length} requests, ${throttled} throttled, ${(ms / 1000).toFixed(1)} s; ${expected.size} sales and returns (${returns} returns), 0 duplicates, 0 lost`,
  );
});
