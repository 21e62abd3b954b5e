// The V3 query language: filters with the operator inside the value, sort,
// cursor pagination (after/before), count=1, archived, load_relations, and the
// serialisation of rows with their relations.
import { ApiError, badRequest, collection, nestedCollection, wireValue } from './wire.mjs';
import { parseTimestamp } from './clock.mjs';

export const MAX_LIMIT = 100;
export const MAX_IN_VALUES = 100;
const PAGING = new Set(['limit', 'sort', 'after', 'before', 'count', 'archived', 'load_relations']);

// ---- load_relations ----------------------------------------------------------

// Quirk: load_relations is a URL-encoded JSON array (["ItemShops","Images"]);
// "all" loads every relation the endpoint has.
export function parseLoadRelations(registry, def, raw) {
  const tree = {};
  if (raw === undefined || raw === null || raw === '') return tree;
  let names;
  if (raw === 'all') {
    names = [];
    for (const [rel, rdef] of Object.entries(def.relations ?? {})) {
      names.push(rel);
      const sub = registry[rdef.entity];
      for (const nested of Object.keys(sub?.relations ?? {})) if ((rdef.nestedAll ?? []).includes(nested)) names.push(`${rel}.${nested}`);
    }
  } else {
    try {
      names = JSON.parse(raw);
    } catch {
      throw badRequest(`Invalid load_relations value '${raw}': expected a JSON array such as ["ItemShops"] or all.`);
    }
    if (typeof names === 'string') names = [names];
    if (!Array.isArray(names)) throw badRequest('Invalid load_relations value: expected a JSON array.');
  }
  for (const name of names) {
    const parts = String(name).split('.');
    let node = tree;
    let cur = def;
    for (const part of parts) {
      const rdef = cur?.relations?.[part];
      if (!rdef) throw badRequest(`Invalid relation '${name}' for ${def.name}.`);
      node[part] ??= {};
      node = node[part];
      cur = registry[rdef.entity];
    }
  }
  return tree;
}

// Relations cost 0.1 (to-one) / 0.2 (to-many) each, doubled on list queries
// and below a to-many relation.
export function relationCost(registry, def, tree, list) {
  let cost = 0;
  const walk = (d, node, doubled) => {
    for (const [name, sub] of Object.entries(node)) {
      const rdef = d.relations[name];
      cost += (rdef.many ? 0.2 : 0.1) * (doubled ? 2 : 1);
      walk(registry[rdef.entity], sub, doubled || rdef.many);
    }
  };
  walk(def, tree, list);
  return cost;
}

// ---- serialisation -----------------------------------------------------------

export function serialize(registry, state, def, row, tree = {}) {
  const out = {};
  for (const [name, type] of def.fields) {
    const v = def.get ? def.get(state, row, name) : row[name];
    out[name] = wireValue(v, type);
  }
  def.embed?.(state, row, out, registry);
  for (const [rel, sub] of Object.entries(tree)) {
    const rdef = def.relations[rel];
    const edef = registry[rdef.entity];
    const got = rdef.rows(state, row);
    if (rdef.many) {
      const list = (got ?? []).map((r) => serialize(registry, state, edef, r, sub));
      out[rel] = nestedCollection(rdef.entity, list);
    } else if (got) {
      out[rel] = serialize(registry, state, edef, got, sub);
    }
  }
  return out;
}

// ---- filters -------------------------------------------------------------------

const OPERATORS = ['><,', '>=,', '<=,', '!=,', '!~,', '>,', '<,', '~,', '=,'];

// Quirk: the operator travels inside the (URL-encoded) value: ">,2024-01-01…",
// "IN,[1,2,3]", "~,%shirt%"; a plain value means equals.
export function parseOperator(raw) {
  const value = String(raw);
  if (/^IN,/i.test(value)) {
    const rest = value.slice(3).trim();
    let list;
    if (rest.startsWith('[')) {
      try {
        list = JSON.parse(rest);
      } catch {
        throw badRequest(`Invalid IN list '${rest}'.`);
      }
    } else list = rest.split(',');
    if (!Array.isArray(list)) throw badRequest(`Invalid IN list '${rest}'.`);
    if (list.length > MAX_IN_VALUES) throw badRequest(`Too many values in IN operator: ${list.length} (maximum ${MAX_IN_VALUES}).`);
    return { op: 'IN', values: list.map(String) };
  }
  for (const o of OPERATORS) {
    if (value.startsWith(o)) {
      const rest = value.slice(o.length);
      if (o === '><,') {
        const i = rest.indexOf(',');
        if (i < 0) throw badRequest(`Between operator needs two values: '${value}'.`);
        return { op: '><', values: [rest.slice(0, i), rest.slice(i + 1)] };
      }
      return { op: o.slice(0, -1), values: [rest] };
    }
  }
  return { op: '=', values: [value] };
}

function normaliser(type, fieldName) {
  switch (type) {
    case 'id':
    case 'int':
    case 'num':
    case 'money':
      return (v) => {
        const n = Number(v);
        if (v === '' || !Number.isFinite(n)) throw badRequest(`Invalid numeric value '${v}' for ${fieldName}.`);
        return n;
      };
    case 'ts':
      return (v) => {
        const ms = parseTimestamp(v);
        if (Number.isNaN(ms)) {
          throw badRequest(`Invalid date value '${v}' for ${fieldName}: expected e.g. 2016-11-10T13:51:54+00:00 (encode '+' as %2B).`);
        }
        return ms;
      };
    case 'bool':
      return (v) => (String(v).toLowerCase() === 'true' || v === '1' ? 1 : 0);
    default:
      // MySQL-style case-insensitive comparison for text (unverified).
      return (v) => String(v).toLowerCase();
  }
}

function rowNormaliser(type) {
  switch (type) {
    case 'id':
    case 'int':
    case 'num':
    case 'money':
      return (v) => Number(v ?? 0);
    case 'ts':
      return (v) => (v === null || v === undefined ? -Infinity : v);
    case 'bool':
      return (v) => (v === true || v === 'true' || v === 1 ? 1 : 0);
    default:
      return (v) => String(v ?? '').toLowerCase();
  }
}

function likeRegex(pattern) {
  const esc = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${esc}$`, 'is');
}

function valueTest(op, values, type, fieldName) {
  const norm = normaliser(type, fieldName);
  if (op === '~' || op === '!~') {
    const re = likeRegex(values[0]);
    return op === '~' ? (v) => re.test(String(v ?? '')) : (v) => !re.test(String(v ?? ''));
  }
  const rowNorm = rowNormaliser(type);
  if (op === 'IN') {
    const set = new Set(values.map((v) => norm(v)));
    return (v) => set.has(rowNorm(v));
  }
  if (op === '><') {
    const a = norm(values[0]);
    const b = norm(values[1]);
    return (v) => {
      const x = rowNorm(v);
      return x >= a && x <= b;
    };
  }
  const b = norm(values[0]);
  switch (op) {
    case '=':
      return (v) => rowNorm(v) === b;
    case '!=':
      return (v) => rowNorm(v) !== b;
    case '>':
      return (v) => rowNorm(v) > b;
    case '>=':
      return (v) => rowNorm(v) >= b;
    case '<':
      return (v) => rowNorm(v) < b;
    case '<=':
      return (v) => rowNorm(v) <= b;
    default:
      throw badRequest(`Unsupported operator '${op}'.`);
  }
}

function fieldType(def, name) {
  if (def.filterFields?.[name]) return def.filterFields[name].type ?? 'str';
  const f = def.fields.find(([n]) => n === name);
  return f ? f[1] : null;
}

function fieldGetter(state, def, name) {
  if (def.filterFields?.[name]) return (row) => def.filterFields[name].get(state, row);
  if (def.get) return (row) => def.get(state, row, name);
  return (row) => row[name];
}

export function compileFilter(registry, state, def, name, raw, tree) {
  const { op, values } = parseOperator(raw);
  const dot = name.indexOf('.');
  if (dot >= 0) {
    // Relation filter, e.g. ItemShops.timeStamp=>,… or Contact.email=…: true
    // when ANY related row matches. The relation must be loaded (docs).
    const relName = name.slice(0, dot);
    const field = name.slice(dot + 1);
    const rdef = def.relations?.[relName];
    if (!rdef) throw badRequest(`Invalid search field '${name}': ${def.name} has no relation ${relName}.`);
    if (!tree[relName]) throw badRequest(`Searching on '${name}' requires load_relations to include "${relName}".`);
    const edef = registry[rdef.entity];
    const type = fieldType(edef, field);
    if (!type) throw badRequest(`Invalid search field '${name}'.`);
    const get = fieldGetter(state, edef, field);
    const test = valueTest(op, values, type, name);
    const anyMatch = (v) => (Array.isArray(v) ? v.some(test) : test(v));
    return {
      name,
      relation: relName,
      field,
      op,
      values,
      test: (row) => {
        const rel = rdef.rows(state, row);
        if (!rel) return false;
        if (Array.isArray(rel)) return rel.some((r) => anyMatch(get(r)));
        return anyMatch(get(rel));
      },
    };
  }
  const type = fieldType(def, name);
  if (!type) throw badRequest(`Invalid search field '${name}' for ${def.name}.`);
  const get = fieldGetter(state, def, name);
  const test = valueTest(op, values, type, name);
  return { name, field: name, op, values, type, test: (row) => { const v = get(row); return Array.isArray(v) ? v.some(test) : test(v); } };
}

// ---- cursors -------------------------------------------------------------------

// Quirk: next/previous carry opaque base64 JSON cursors (after=WzEwMF0%3D is
// "[100]"). Clients must follow the URLs, never craft them.
export function encodeCursor(key) {
  return Buffer.from(JSON.stringify(key)).toString('base64');
}
function decodeCursor(token, what) {
  try {
    const key = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8'));
    if (!Array.isArray(key) || key.length === 0) throw new Error('shape');
    return key;
  } catch {
    throw badRequest(`Invalid '${what}' pagination token.`);
  }
}

// ---- the list engine -------------------------------------------------------------

export function parseListParams(registry, state, def, params) {
  if (params.has('offset')) {
    // Quirk: V3 removed offset pagination; follow next/previous instead.
    throw badRequest('The offset parameter is not supported in API V3; follow the next/previous URLs (after/before cursors).');
  }
  if (params.has('orderby') || params.has('orderby_desc')) throw badRequest('orderby was removed in V3; use sort.');
  if (params.has('or')) throw badRequest('The or operator is not supported by this emulator.');
  const count = params.get('count');
  if (count !== null && count !== '1' && count !== 'true') throw badRequest(`Invalid count value '${count}'.`);
  const isCount = count !== null;
  if (isCount) {
    for (const p of ['limit', 'sort', 'after', 'before']) {
      if (params.has(p)) throw badRequest(`count=1 cannot be combined with ${p}.`);
    }
  }
  let limit = MAX_LIMIT;
  if (params.has('limit')) {
    limit = Number(params.get('limit'));
    if (!Number.isInteger(limit) || limit < 0) throw badRequest(`Invalid limit '${params.get('limit')}'.`);
    // Quirk: limit is capped at 100. The docs only say "maximum 100"; we
    // refuse larger values (400) unless configured to clamp (unverified).
    if (limit > MAX_LIMIT) {
      if (state.config?.limit_over_max === 'clamp') limit = MAX_LIMIT;
      else throw badRequest(`Invalid limit ${limit}: the maximum is ${MAX_LIMIT}.`);
    }
  }
  let sortRaw = params.get('sort') ?? def.idField;
  const desc = sortRaw.startsWith('-');
  const field = desc ? sortRaw.slice(1) : sortRaw;
  const sortable = def.sortable ?? [def.idField, 'timeStamp'];
  if (!sortable.includes(field)) {
    throw badRequest(`Invalid sort field '${field}' for ${def.name}. Allowed: ${sortable.join(', ')}.`);
  }
  const archived = params.get('archived') ?? 'false';
  if (!['true', 'false', 'only', '1', '0'].includes(archived)) throw badRequest(`Invalid archived value '${archived}': true, false or only.`);
  const tree = parseLoadRelations(registry, def, params.get('load_relations'));
  const filters = [];
  for (const [name, raw] of params) {
    if (PAGING.has(name)) continue;
    filters.push(compileFilter(registry, state, def, name, raw, tree));
  }
  if (params.has('after') && params.has('before')) throw badRequest('after and before cannot be combined.');
  return {
    isCount,
    limit,
    sort: { field, desc, raw: sortRaw },
    archived: archived === '1' ? 'true' : archived === '0' ? 'false' : archived,
    tree,
    filters,
    after: params.has('after') ? decodeCursor(params.get('after'), 'after') : null,
    before: params.has('before') ? decodeCursor(params.get('before'), 'before') : null,
  };
}

function sortValueGetter(def, field) {
  const type = field === 'timeStamp' ? 'ts' : fieldType(def, field);
  const num = type === 'id' || type === 'int' || type === 'num' || type === 'money' || type === 'ts';
  if (num) return (row) => Number(row[field] ?? 0);
  return (row) => String(row[field] ?? '').toLowerCase();
}

function lowerBound(seq, lo, hi, cmp) {
  // first index in [lo,hi) with cmp(seq[i]) >= 0
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cmp(seq[mid]) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
function upperBound(seq, lo, hi, cmp) {
  // first index in [lo,hi) with cmp(seq[i]) > 0
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cmp(seq[mid]) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
const cmpScalar = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

export function runList(registry, state, def, q, ctx) {
  const table = state.tables[def.table];
  const idf = def.idField;
  const { field, desc } = q.sort;
  const byId = field === idf;
  const sv = sortValueGetter(def, field);
  const cmpRows = byId ? (a, b) => a[idf] - b[idf] : (a, b) => cmpScalar(sv(a), sv(b)) || a[idf] - b[idf];
  const keyOf = byId ? (row) => [row[idf]] : (row) => [sv(row), row[idf]];
  const cmpRowKey = byId ? (row, key) => row[idf] - Number(key[0]) : (row, key) => cmpScalar(sv(row), key[0]) || row[idf] - Number(key[1]);

  let remaining = q.filters.slice();
  let seq = null;
  let fullTable = true;

  // Index lookups (id IN, email, referenceNumber …) shrink the candidates.
  for (const f of remaining) {
    const rows = def.candidates?.(state, f);
    if (rows) {
      seq = rows.slice().sort(cmpRows);
      remaining = remaining.filter((x) => x !== f);
      fullTable = false;
      break;
    }
  }
  if (!seq) {
    if (byId) seq = table.list;
    else if (field === 'timeStamp' && table.tsIndex) seq = table.tsIndex;
    else seq = table.list.slice().sort(cmpRows);
  }
  let lo = 0;
  let hi = seq.length;
  // Range filters on the sort field become binary searches on the sorted
  // sequence (ItemShop.json?sort=timeStamp&timeStamp=>,… stays O(log n)).
  for (const f of remaining.slice()) {
    if (f.relation || f.field !== field) continue;
    if (!['>', '>=', '<', '<=', '><'].includes(f.op)) continue;
    const norm = f.type === 'ts' ? (v) => parseTimestamp(v) : (v) => (byId || f.type !== 'str' ? Number(v) : String(v).toLowerCase());
    const cmpTo = (b) => (row) => cmpScalar(byId ? row[idf] : sv(row), b);
    const vals = f.values.map(norm);
    if (f.op === '>') lo = Math.max(lo, upperBound(seq, lo, hi, cmpTo(vals[0])));
    if (f.op === '>=' || f.op === '><') lo = Math.max(lo, lowerBound(seq, lo, hi, cmpTo(vals[0])));
    if (f.op === '<') hi = Math.min(hi, lowerBound(seq, lo, hi, cmpTo(vals[0])));
    if (f.op === '<=') hi = Math.min(hi, upperBound(seq, lo, hi, cmpTo(vals[0])));
    if (f.op === '><') hi = Math.min(hi, upperBound(seq, lo, hi, cmpTo(vals[1])));
    remaining = remaining.filter((x) => x !== f);
    fullTable = false;
  }
  if (hi < lo) hi = lo;

  // Quirk: archived defaults to false, which hides archived rows.
  const preds = remaining.map((f) => f.test);
  const archivedOnly = def.archivable && q.archived === 'only';
  const archivedHide = def.archivable && q.archived === 'false';
  if (archivedOnly) preds.push((r) => !!r.archived);
  if (archivedHide) preds.push((r) => !r.archived);
  const match = preds.length === 0 ? () => true : preds.length === 1 ? preds[0] : (r) => preds.every((p) => p(r));

  const n = hi - lo;
  const at = desc ? (p) => seq[hi - 1 - p] : (p) => seq[lo + p];

  const countAll = () => {
    if (preds.length === 0) return n;
    if (fullTable && remaining.length === 0 && (archivedHide || archivedOnly)) {
      return archivedHide ? table.size - table.archivedCount : table.archivedCount;
    }
    let c = 0;
    for (let p = 0; p < n; p++) if (match(at(p))) c++;
    return c;
  };

  if (q.isCount) return { count: countAll(), rows: [] };

  const anyMatch = (from, to, step) => {
    for (let p = from; step > 0 ? p < to : p > to; p += step) if (match(at(p))) return true;
    return false;
  };

  let page = [];
  let hasNext = false;
  let hasPrev = false;
  if (q.before) {
    // logical end (exclusive) = first position at or after the cursor
    let e;
    if (!desc) e = lowerBound(seq, lo, hi, (r) => cmpRowKey(r, q.before)) - lo;
    else e = hi - upperBound(seq, lo, hi, (r) => cmpRowKey(r, q.before));
    let p = e - 1;
    for (; p >= 0 && page.length < q.limit; p--) {
      const r = at(p);
      if (match(r)) page.push(r);
    }
    page.reverse();
    hasPrev = anyMatch(p, -1, -1);
    hasNext = anyMatch(e, n, 1);
  } else {
    let s = 0;
    if (q.after) {
      if (!desc) s = upperBound(seq, lo, hi, (r) => cmpRowKey(r, q.after)) - lo;
      else s = hi - lowerBound(seq, lo, hi, (r) => cmpRowKey(r, q.after));
    }
    let p = s;
    for (; p < n && page.length < q.limit; p++) {
      const r = at(p);
      if (match(r)) page.push(r);
    }
    hasNext = q.limit > 0 && anyMatch(p, n, 1);
    // Docs: on the first page previous is always empty.
    hasPrev = q.after ? anyMatch(s - 1, -1, -1) : false;
  }

  const link = (dir, key) => {
    const params = new URLSearchParams();
    for (const [k, v] of ctx.params) if (k !== 'after' && k !== 'before') params.append(k, v);
    // Docs: default limit and sort are appended to the follow-up URLs.
    if (!params.has('limit')) params.set('limit', String(q.limit));
    if (!params.has('sort')) params.set('sort', q.sort.raw);
    params.set(dir, encodeCursor(key));
    return `${ctx.origin}${ctx.pathname}?${params.toString()}`;
  };
  const attrs = {
    next: hasNext && page.length ? link('after', keyOf(page[page.length - 1])) : '',
    previous: hasPrev && page.length ? link('before', keyOf(page[0])) : '',
  };
  return { rows: page, attrs, count: countAll };
}

// The list envelope. Quirks: one row -> object; no rows -> only @attributes.
export function listBody(registry, state, def, result, q) {
  const attributes = {
    count: String(typeof result.count === 'function' ? result.count() : result.count),
    offset: '0',
    limit: String(q.limit),
    next: result.attrs?.next ?? '',
    previous: result.attrs?.previous ?? '',
  };
  if (q.isCount) return { '@attributes': { count: attributes.count } };
  const body = { '@attributes': attributes };
  if (result.rows.length) body[def.name] = collection(result.rows.map((r) => serialize(registry, state, def, r, q.tree)));
  return body;
}

export function singleBody(registry, state, def, row, tree) {
  return { '@attributes': { count: '1' }, [def.name]: serialize(registry, state, def, row, tree) };
}

export { ApiError };
