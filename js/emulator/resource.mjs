// Shared helpers for resource modules: writable-field parsing and the plain
// create / partial update / archive behaviour most endpoints share.
import { badRequest, toBool, toId, toNum } from './wire.mjs';
import { parseTimestamp } from './clock.mjs';

const READ_ONLY = new Set(['timeStamp', 'createTime']);

export function parseFieldValue(name, type, value) {
  switch (type) {
    case 'id': {
      const id = toId(value);
      if (Number.isNaN(id)) throw badRequest(`Invalid value '${value}' for ${name}: expected an ID.`);
      return id;
    }
    case 'int': {
      const n = toNum(value);
      if (!Number.isInteger(n)) throw badRequest(`Invalid value '${value}' for ${name}: expected an integer.`);
      return n;
    }
    case 'num':
    case 'money': {
      const n = toNum(value);
      if (Number.isNaN(n)) throw badRequest(`Invalid value '${value}' for ${name}: expected a number.`);
      return n;
    }
    case 'bool':
      return toBool(value);
    case 'ts': {
      if (value === '' || value === null) return null;
      const ms = parseTimestamp(value);
      if (Number.isNaN(ms)) throw badRequest(`Invalid date '${value}' for ${name}.`);
      return ms;
    }
    default:
      if (value !== null && typeof value === 'object') throw badRequest(`Invalid value for ${name}: expected text.`);
      return value === null || value === undefined ? '' : String(value);
  }
}

// Copies the scalar fields present in body onto row (partial update).
export function applyFields(def, row, body, { skip = [] } = {}) {
  for (const [name, type] of def.fields) {
    if (name === def.idField || READ_ONLY.has(name) || skip.includes(name)) continue;
    if (!(name in body)) continue;
    row[name] = parseFieldValue(name, type, body[name]);
  }
  return row;
}

export function defaultsFor(def) {
  const row = {};
  for (const [name, type] of def.fields) {
    if (name === def.idField) continue;
    row[name] = type === 'str' ? '' : type === 'bool' ? false : type === 'ts' ? null : 0;
  }
  return row;
}

// Plain endpoints: POST creates from the fields, PUT updates the fields sent,
// DELETE archives (Lightspeed never hard-deletes these records).
export function plainWrites(def, { required = [] } = {}) {
  return {
    create(state, body) {
      for (const r of required) {
        if (body[r] === undefined || body[r] === '') throw badRequest(`${def.name} not created. A ${def.name} must have a ${r}.`);
      }
      const row = applyFields(def, defaultsFor(def), body);
      const now = state.now();
      if ('createTime' in row) row.createTime = now;
      if ('timeStamp' in row) row.timeStamp = now;
      row.archived = false;
      return state.tables[def.table].insert(row);
    },
    update(state, row, body) {
      applyFields(def, row, body);
      if ('timeStamp' in row) state.tables[def.table].setTimestamp(row, state.now());
      return row;
    },
    remove(state, row) {
      if (!def.archivable) throw badRequest(`${def.name} cannot be deleted.`);
      state.tables[def.table].setArchived(row, true);
      if ('timeStamp' in row) state.tables[def.table].setTimestamp(row, state.now());
      return row;
    },
  };
}
