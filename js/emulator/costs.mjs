// Request costs (drips) decided from the request alone, before any data is
// read — as Lightspeed documents.
import { parseLoadRelations, relationCost } from './query.mjs';

// +0.5 per nested entity in a POST/PUT payload. A plural wrapper such as
// SaleLines:{SaleLine:[…]} is not itself an entity; each SaleLine is.
export function nestedEntityCount(body) {
  let count = 0;
  const visit = (value, key, top) => {
    if (Array.isArray(value)) {
      for (const v of value) if (v && typeof v === 'object') visitObject(v, key, false);
      return;
    }
    if (value && typeof value === 'object') visitObject(value, key, top);
  };
  const visitObject = (obj, key, top) => {
    const keys = Object.keys(obj);
    const wrapper = !top && keys.length === 1 && /s$/.test(key ?? '') && obj[keys[0]] !== null && typeof obj[keys[0]] === 'object';
    if (!top && !wrapper) count++;
    for (const k of keys) visit(obj[k], k, false);
  };
  if (body && typeof body === 'object') visitObject(body, null, true);
  return count;
}

export function requestCost({ registry, def, method, action, params, body, isList }) {
  let cost = 1;
  if (def?.name === 'Sale' && !action && (method === 'POST' || method === 'PUT' || method === 'DELETE')) {
    cost = 2;
    // Docs: "If complete = true is included the payload … an additional 3 drips".
    const c = body?.completed;
    if (method !== 'DELETE' && (c === true || c === 'true' || c === 1 || c === '1')) cost += 3;
  }
  if (action === 'refund') cost = 10;
  if (method === 'GET' && params?.get('count')) cost = 10; // docs: count=1 costs as much as a write (10)
  if ((method === 'POST' || method === 'PUT') && body) cost += 0.5 * nestedEntityCount(body);
  if (def && params?.has('load_relations')) {
    try {
      cost += relationCost(registry, def, parseLoadRelations(registry, def, params.get('load_relations')), isList);
    } catch {
      // a bad load_relations is answered with 400 at base cost
    }
  }
  return Math.round(cost * 1000) / 1000;
}
