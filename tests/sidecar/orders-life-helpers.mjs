// The life of orders in the sidecar tier: the PHP outbox loop of
// OrderLife.php / OrderEdits.php played against post_orders runs. Each order
// has a plan: 'normal', 'never_sent' (cancelled before any run took it),
// 'in_flight' (its first POST gets a 504 — no clear answer, not in the POS
// — then it is cancelled: sent lookup_only), 'cancel_after' (cancelled once
// posted: one full return `-C1`), 'edit_after' (edited once posted: an extra
// order row `-E1` with the added line, a return row `-E2` of a removed unit).
import { ofType } from './helpers.mjs';
import { HOODIE, orderRow, ordersJob, runOrders, cents, money } from './orders-helpers.mjs';

const ADDED_PRICE = '49.00'; // the Logo Hoodie, added by the edit

// All lines of an order row back, restocked (a cancel after posting).
export function cancelReturnRow(order, placedAtMs) {
  const lines = order.payload.lines.map((l) => ({ line_id: l.line_id, product_id: l.product_id, item_id: l.item_id, qty: l.qty, amount: l.total, restock: true }));
  return {
    id: `${order.id}-C1`,
    kind: 'refund',
    reference: `${order.reference}-C1`,
    attempts: 0,
    placed_at_ms: placedAtMs,
    payload: { number: `${order.payload.number}-C1`, order_reference: order.reference, order_sale_id: null, amount: order.payload.total, reason: 'cancelled after posting', lines, full: true },
  };
}

// An edit after posting: one Logo Hoodie added (its own order row), one unit
// of the first line removed (a return row of the original sale).
export function editRows(order, placedAtMs) {
  const added = orderRow(`${order.payload.number}-E1`, {
    email: order.payload.customer.email,
    lines: [{ item_id: HOODIE, qty: 1, price: ADDED_PRICE }],
  });
  added.placed_at_ms = placedAtMs;
  const first = order.payload.lines[0];
  const unit = money(cents(first.total) / first.qty);
  const ret = {
    id: `${order.id}-E2`,
    kind: 'refund',
    reference: `${order.reference}-E2`,
    attempts: 0,
    placed_at_ms: placedAtMs,
    payload: {
      number: `${order.payload.number}-E2`,
      order_reference: order.reference,
      order_sale_id: null,
      amount: unit,
      reason: 'edited after posting',
      lines: [{ line_id: first.line_id, product_id: first.product_id, item_id: first.item_id, qty: 1, amount: unit, restock: true }],
      full: false,
    },
  };
  return [added, ret];
}

// Runs jobs until no row is due. `plans` maps an order row id to its plan;
// `now()` is the POS clock (placed_at_ms of the rows made on the way).
// Returns {runs, attempts, posted, absent, failures, errors, pending, made}.
export async function drainLife(emu, orders, plans, { batch = 250, maxRuns = 80, budget_ms = 60_000, now }) {
  const due = new Map();
  for (const r of orders) if (plans.get(r.id) !== 'never_sent') due.set(r.id, { ...r });
  const inFlight = [...due.values()].filter((r) => plans.get(r.id) === 'in_flight').map((r) => r.id);
  const posted = new Map();
  const absent = new Map();
  const failures = [];
  const errors = [];
  const made = []; // rows made by cancels and edits after posting
  let runs = 0;
  let attempts = 0;
  while (due.size && runs < maxRuns) {
    runs++;
    // Two rows to be caught in flight go first: the run's first two sale
    // POSTs are theirs, each answered 504 (not in the POS).
    const head = [];
    while (head.length < 2 && inFlight.length) head.push(due.get(inFlight.shift()));
    const waiting = new Set(inFlight); // their turn at the head is still to come
    const rest = [...due.values()].filter((r) => !head.includes(r) && !waiting.has(r.id)).slice(0, batch - head.length);
    if (head.length) emu.emulator.faults.unshift({ method: 'POST', count: head.length, action: 'status', status: 504, re: /\/Sale\.json$/ });
    const job = await ordersJob(emu, [...head, ...rest], {}, { budget_ms });
    const run = await runOrders(job);
    emu.emulator.faults = emu.emulator.faults.filter((f) => f.status !== 504);
    errors.push(...ofType(run.events, 'error'));
    for (const e of ofType(run.events, 'sale_posted')) {
      attempts++;
      posted.set(e.outbox_id, e);
      const row = due.get(e.outbox_id);
      due.delete(e.outbox_id);
      // after_posted: the order's life goes on.
      const plan = plans.get(e.outbox_id);
      if (plan === 'cancel_after' || (plan === 'in_flight' && row?.lookup_only)) {
        const c = cancelReturnRow(orders.find((o) => o.id === e.outbox_id), now());
        made.push(c);
        due.set(c.id, c);
      } else if (plan === 'edit_after') {
        for (const r of editRows(orders.find((o) => o.id === e.outbox_id), now())) {
          made.push(r);
          due.set(r.id, r);
        }
      }
    }
    for (const e of ofType(run.events, 'outbox_absent')) {
      attempts++;
      absent.set(e.outbox_id, e);
      due.delete(e.outbox_id); // released, never posted
    }
    for (const e of ofType(run.events, 'outbox_failed')) {
      attempts++;
      failures.push(e);
      const r = due.get(e.outbox_id);
      if (!r) continue;
      r.attempts += 1;
      // Cancelled while it may be in the POS: only looked up from now on.
      if (plans.get(r.id) === 'in_flight' && e.code === 'maybe_posted') r.lookup_only = true;
    }
  }
  return { runs, attempts, posted, absent, failures, errors, pending: [...due.values()], made };
}
