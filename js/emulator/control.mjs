// Test and demo controls under /_emulator/ (not part of Lightspeed); the
// contract is docs/PROTOCOL.md.
import { formatTimestamp } from './clock.mjs';
import { defaultConfig } from './server.mjs';
import { registry, endpoints } from './registry.mjs';
import { serialize } from './query.mjs';
import { createSale } from './sales.mjs';
import { effectiveLimits } from './ratelimit.mjs';
import { ApiError } from './wire.mjs';
import { DEMO_CLIENT } from './oauth.mjs';

const ok = (body = { ok: true }) => ({ status: 200, body });
const fail = (status, error) => ({ status, body: { error } });

export function handleControl(emu, method, name, body, query) {
  try {
    return route(emu, method, name, body ?? {}, query);
  } catch (err) {
    if (err instanceof ApiError) return fail(err.status, err.message);
    return fail(400, err.message);
  }
}

function route(emu, method, name, body, query) {
  const state = emu.state;
  switch (`${method} ${name}`) {
    case 'POST reset': {
      const seed = body.seed ?? 'demo';
      emu.clock.reset();
      emu.faults = [];
      emu.config = defaultConfig();
      emu.config.rate_limit.enabled = emu.initialRateLimit !== false;
      emu.limiter.reset();
      const started = Date.now();
      const s = emu.reset(seed);
      return ok({ ok: true, seed, items: s.tables.items.size, item_shops: s.tables.itemShops.size, seed_ms: Date.now() - started });
    }
    case 'POST config': {
      const c = emu.config;
      if (body.rate_limit && typeof body.rate_limit === 'object') {
        for (const k of ['enabled', 'bucket_size', 'drip_per_s', 'burst_per_s', 'registers']) {
          if (k in body.rate_limit) c.rate_limit[k] = body.rate_limit[k];
        }
      }
      if ('token_ttl_s' in body) c.token_ttl_s = Number(body.token_ttl_s);
      if ('latency_ms' in body) c.latency_ms = Number(body.latency_ms);
      if ('limit_over_max' in body) c.limit_over_max = body.limit_over_max === 'clamp' ? 'clamp' : 'error';
      return ok({ ...c, effective_rate_limit: effectiveLimits(c.rate_limit) });
    }
    case 'GET config':
      return ok({ ...emu.config, effective_rate_limit: effectiveLimits(emu.config.rate_limit) });
    case 'POST grant': {
      const pair = emu.tokens.mintPair(DEMO_CLIENT.account_id, DEMO_CLIENT.client_id);
      return ok({ access_token: pair.access_token, refresh_token: pair.refresh_token, expires_in: pair.expires_in, account_id: String(DEMO_CLIENT.account_id), client_id: DEMO_CLIENT.client_id, client_secret: DEMO_CLIENT.client_secret });
    }
    case 'POST stock': {
      const item = state.tables.items.get(Number(body.itemID));
      if (!item) return fail(404, `item ${body.itemID} not found`);
      const shopID = Number(body.shopID);
      if (!shopID || !state.tables.shops.get(shopID)) return fail(400, `shop ${body.shopID} not found (shop 0 is the computed total)`);
      const qoh = Number(body.qoh);
      if (!Number.isInteger(qoh)) return fail(400, 'qoh must be an integer');
      state.setStock(item, shopID, qoh);
      // Bump both rows even when qoh did not change, as a stock count would.
      const now = state.now();
      state.tables.itemShops.setTimestamp(item._shops.get(shopID), now);
      state.tables.itemShops.setTimestamp(item._shops.get(0), now);
      return ok({ itemID: String(item.itemID), shopID: String(shopID), qoh: item._shops.get(shopID).qoh, total_qoh: item._shops.get(0).qoh });
    }
    case 'POST instore-sale': {
      const shopID = Number(body.shopID ?? 1);
      const register = state.tables.registers.list.find((r) => r.shopID === shopID && !r.archived);
      if (!register) return fail(400, `shop ${shopID} has no register`);
      const lines = (body.lines ?? []).map((l) => {
        const item = state.tables.items.get(Number(l.itemID));
        if (!item) throw new ApiError(404, `item ${l.itemID} not found`);
        return { itemID: item.itemID, unitQuantity: Number(l.qty ?? 1), unitPrice: item.prices[0].amount, tax: false };
      });
      if (!lines.length) return fail(400, 'lines must not be empty');
      const total = lines.reduce((s, l) => s + l.unitQuantity * l.unitPrice, 0);
      const sale = createSale(state, { employeeID: 1, registerID: register.registerID, shopID, completed: true, SaleLines: { SaleLine: lines }, SalePayments: { SalePayment: { paymentTypeID: 1, amount: Math.round(total * 100) / 100 } } });
      return ok({ saleID: String(sale.saleID) });
    }
    case 'POST faults': {
      const rules = Array.isArray(body) ? body : [body];
      for (const f of rules) {
        const action = f.action ?? 'status';
        if (!['status', 'hang', 'drop_after_write', 'delay'].includes(action)) return fail(400, `unknown fault action '${action}'`);
        emu.faults.push({ method: f.method ?? null, path: f.path ?? null, re: f.path ? new RegExp(f.path) : null, count: Number(f.count ?? 1), action, status: f.status ?? 500, body: f.body, ms: Number(f.ms ?? 1000) });
      }
      return ok({ ok: true, faults: emu.faults.map(({ re, ...f }) => f) });
    }
    case 'GET faults':
      return ok(emu.faults.map(({ re, ...f }) => f));
    case 'DELETE faults':
      emu.faults = [];
      return ok();
    case 'GET log':
      return ok(emu.log.map((e) => ({ ...e, time: formatTimestamp(e.time) })));
    case 'DELETE log':
      emu.log = [];
      return ok();
    case 'GET state':
      return ok(dumpState(emu, query));
    case 'POST clock': {
      if ('advance_s' in body) emu.clock.advance(Number(body.advance_s));
      // Extension: {freeze: true|false} stops the clock for deterministic tests.
      if ('freeze' in body) emu.clock.freeze(!!body.freeze);
      return ok({ now: formatTimestamp(emu.clock.nowMs()), now_ms: emu.clock.nowMs(), offset_s: emu.clock.offsetMs / 1000, frozen: emu.clock.frozenAt !== null });
    }
    case 'GET clock':
      return ok({ now: formatTimestamp(emu.clock.nowMs()), now_ms: emu.clock.nowMs(), offset_s: emu.clock.offsetMs / 1000, frozen: emu.clock.frozenAt !== null });
    default:
      return fail(404, `unknown control ${method} /_emulator/${name}`);
  }
}

// The whole state in wire shape (as the API would show it). ?summary=1 gives
// counts only, which is what you want for big:N seeds.
function dumpState(emu, query) {
  const state = emu.state;
  const out = {
    seed: emu.seedName,
    clock: { now: formatTimestamp(emu.clock.nowMs()), offset_s: emu.clock.offsetMs / 1000 },
    config: emu.config,
    counts: Object.fromEntries(Object.entries(state.tables).map(([k, t]) => [k, t.size])),
    faults: emu.faults.map(({ re, ...f }) => f),
    buckets: Object.fromEntries([...emu.limiter.buckets.keys()].map((k) => [k, emu.limiter.snapshot(k)])),
  };
  if (query?.get('summary')) return out;
  out.tables = {};
  for (const def of [registry.Account, ...Object.values(endpoints)]) {
    out.tables[def.name] = state.tables[def.table].list.map((row) => serialize(registry, state, def, row, {}));
  }
  return out;
}
