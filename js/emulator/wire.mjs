// Shapes of Lightspeed answers: every scalar a string, one-element collections
// as objects, empty collections without an entity key, errors as
// {httpCode, httpMessage, message, errorClass}.
import { STATUS_CODES } from 'node:http';
import { formatTimestamp } from './clock.mjs';

export class ApiError extends Error {
  constructor(status, message, errorClass = 'Exception', extra = {}) {
    super(message);
    this.status = status;
    this.errorClass = errorClass;
    this.extra = extra;
  }
}
export const badRequest = (msg) => new ApiError(400, msg, 'Exception');
export const notFound = (msg) => new ApiError(404, msg, 'Exception');

// Quirk: the error body carries the HTTP code as a string. (Old recordings were
// served as text/html; we send application/json.)
export function errorBody(status, message, errorClass = 'Exception') {
  return {
    httpCode: String(status),
    httpMessage: STATUS_CODES[status] ?? 'Error',
    message,
    errorClass,
  };
}

// Quirk: every scalar is a string: "12", "true", "0.00"; ids too; a foreign
// key of "0" means none.
export function wireValue(value, type) {
  if (value === null || value === undefined) {
    if (type === 'id' || type === 'int') return '0';
    if (type === 'bool') return 'false';
    if (type === 'money') return '0.00';
    if (type === 'num') return '0';
    return '';
  }
  switch (type) {
    case 'id':
    case 'int':
      return String(Math.trunc(Number(value)));
    case 'money':
      return Number(value).toFixed(2);
    case 'num':
      return String(Number(value));
    case 'bool':
      return value === true || value === 'true' || value === 1 || value === '1' ? 'true' : 'false';
    case 'ts':
      return formatTimestamp(value);
    default:
      return String(value);
  }
}

// Quirk: a collection with ONE element is an object, not a one-element array.
export function collection(list) {
  return list.length === 1 ? list[0] : list;
}

// Quirk: an empty nested relation is the empty string ("Emails":"",
// "Tags":""), as recorded from real answers.
export function nestedCollection(entity, list) {
  if (list.length === 0) return '';
  return { [entity]: collection(list) };
}

// Reads a payload collection that may be an object or an array (clients send
// both shapes), e.g. body.SaleLines.SaleLine.
export function payloadList(wrapper, entity) {
  if (wrapper === undefined || wrapper === null || wrapper === '') return [];
  const inner = typeof wrapper === 'object' && !Array.isArray(wrapper) && entity in wrapper ? wrapper[entity] : wrapper;
  if (inner === undefined || inner === null || inner === '') return [];
  return Array.isArray(inner) ? inner : [inner];
}

export function toBool(v, dflt = false) {
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  return s === 'true' || s === '1' || s === 'yes' || s === 'on';
}

export function toNum(v, dflt = 0) {
  if (v === undefined || v === null || v === '') return dflt;
  const n = Number(v);
  return Number.isFinite(n) ? n : NaN;
}

export function toId(v) {
  if (v === undefined || v === null || v === '') return 0;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : NaN;
}

export const round2 = (n) => Math.round((n + Number.EPSILON) * 100) / 100;
