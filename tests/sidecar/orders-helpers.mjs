// Orders in the sidecar tier: outbox rows as PHP builds them, post_orders
// jobs, and the PHP outbox loop (rows whose event was sale_posted leave,
// failed rows stay with attempts + 1).
import { control, makeJob, runSidecar, ofType } from './helpers.mjs';

// Demo catalogue (js/emulator/seed.mjs): Classic Tee 1 (19.00), Logo Hoodie
// 2 (49.00), Harbour Mug 3 (12.50); Crew Tee variants 7..12 (24.00).
export const TEE = 1;
export const HOODIE = 2;
export const MUG = 3;
export const CREW_S_BLACK = 7;
export const CREW_M_BLACK = 8;

export const cents = (s) => Math.round(Number(s) * 100);

// runSidecar, run again while js/core is being rebuilt (core_missing: the
// core never loaded, nothing was sent) — as PHP would on its next tick.
export async function runOrders(job, options) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const run = await runSidecar(job, options);
    const missing = run.events.some((e) => e.type === 'error' && e.code === 'core_missing');
    if (!missing || Date.now() > deadline) return run;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
export const money = (c) => (c / 100).toFixed(2);

// A POS API call with a fresh token (setup only: the tests' own writes).
export async function api(emu, method, path, body) {
  const grant = await control(emu, 'POST', 'grant', {});
  const res = await fetch(`${emu.apiBase}/Account/1/${path}`, {
    method,
    headers: { Authorization: `Bearer ${grant.access_token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

// A non-inventory item (shipping, money-only refunds).
export async function nonInventoryItem(emu, description) {
  const r = await api(emu, 'POST', 'Item.json', { description, itemType: 'non_inventory', tax: false, Prices: { ItemPrice: [{ amount: '0', useType: 'Default' }] } });
  return r.Item.itemID;
}

export function orderSettings(extra = {}) {
  return {
    shop_id: '1',
    register_id: '1',
    employee_id: '3',
    payment_types: { stripe: '7', default: '7' },
    shipping: { mode: 'exclude' },
    reference_source: 'WooCommerce',
    ...extra,
  };
}

// An order row; lines [{item_id, qty, price, discount?, sku?}] (no tax:
// the demo shops charge none).
export function orderRow(number, { email = 'buyer@shop.test', lines, shipping = '0.00', gateway = 'stripe', first = 'Bea', last = 'Buyer' } = {}) {
  const ls = lines.map((l, i) => {
    const gross = cents(l.price) * l.qty - cents(l.discount ?? '0');
    return { line_id: String(i + 1), product_id: String(100 + i), item_id: l.item_id === null ? null : String(l.item_id), sku: l.sku ?? `SKU-${l.item_id}`, name: l.name ?? `Product ${l.item_id}`, qty: l.qty, unit_price: l.price, total: money(gross), tax: '0.00' };
  });
  const itemsTotal = ls.reduce((s, l) => s + cents(l.total), 0);
  const discount = lines.reduce((s, l) => s + cents(l.discount ?? '0'), 0);
  return {
    id: `o${number}`,
    kind: 'order',
    reference: `WEB-${number}`,
    attempts: 0,
    payload: {
      number: String(number),
      currency: 'USD',
      customer: { email, first_name: first, last_name: last, phone: '555-0199', billing: { address1: '2 Quay St', address2: '', city: 'Portland', state: 'OR', postcode: '97201', country: 'US' } },
      lines: ls,
      shipping_total: shipping,
      shipping_tax: '0.00',
      discount_total: money(discount),
      total: money(itemsTotal + cents(shipping)),
      total_tax: '0.00',
      gateway,
      prices_include_tax: false,
    },
  };
}

export function refundRow(number, orderNumber, { amount, lines, saleId = null }) {
  return {
    id: `r${number}`,
    kind: 'refund',
    reference: `WEB-${orderNumber}-R${number}`,
    attempts: 0,
    payload: { number: String(number), order_reference: `WEB-${orderNumber}`, order_sale_id: saleId, amount, reason: 'test', lines, full: false },
  };
}

export async function ordersJob(emu, outbox, settings = {}, opts = {}) {
  const job = await makeJob(emu, 'post_orders', { settings: orderSettings(settings), ...opts });
  job.outbox = outbox;
  return job;
}

// Sales in the POS with this reference number (the emulator's state).
export function salesByRef(emu, ref) {
  const ids = emu.state.referenceIndex.get(ref) ?? [];
  return ids.map((id) => emu.state.tables.sales.get(id)).filter(Boolean);
}

export const qoh = (emu, itemID, shopID = 1) => emu.state.tables.items.get(itemID)._shops.get(shopID)?.qoh ?? 0;

// The PHP outbox loop: run jobs until every row got sale_posted (or runs
// run out). Returns {runs, attempts, posted: Map(outbox_id -> event),
// failures, errors (job-wide error events), pending}.
export async function drain(emu, rows, { settings = {}, batch = 100, maxRuns = 50, budget_ms = 30_000, onRun } = {}) {
  let pending = rows.map((r) => ({ ...r }));
  const posted = new Map();
  const failures = [];
  const errors = [];
  let runs = 0;
  let attempts = 0;
  while (pending.length && runs < maxRuns) {
    runs++;
    const outbox = pending.slice(0, batch);
    const job = await ordersJob(emu, outbox, settings, { budget_ms });
    const run = await runOrders(job);
    if (onRun) onRun(run);
    errors.push(...ofType(run.events, 'error'));
    const byId = new Map(pending.map((r) => [r.id, r]));
    for (const e of ofType(run.events, 'sale_posted')) {
      attempts++;
      posted.set(e.outbox_id, e);
      byId.delete(e.outbox_id);
    }
    for (const e of ofType(run.events, 'outbox_failed')) {
      attempts++;
      failures.push(e);
      const r = byId.get(e.outbox_id);
      if (r) r.attempts += 1;
    }
    pending = [...byId.values()];
  }
  return { runs, attempts, posted, failures, errors, pending };
}
