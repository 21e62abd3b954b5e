// Shared helpers for the emulator tests: start an emulator, get a token, call
// the API and the controls.
import { startEmulator } from '../../js/emulator/server.mjs';

export async function boot(options = {}) {
  const emu = await startEmulator({ seed: 'demo', ...options });
  const grant = await control(emu, 'POST', 'grant', {});
  const client = {
    emu,
    token: grant.body.access_token,
    refresh: grant.body.refresh_token,
    base: `${emu.apiBase}/Account/1`,
    async get(path, opts = {}) {
      return call(this, 'GET', path, undefined, opts);
    },
    async post(path, body, opts = {}) {
      return call(this, 'POST', path, body, opts);
    },
    async put(path, body, opts = {}) {
      return call(this, 'PUT', path, body, opts);
    },
    async del(path, opts = {}) {
      return call(this, 'DELETE', path, undefined, opts);
    },
    control(method, name, body) {
      return control(emu, method, name, body);
    },
    close() {
      return emu.close();
    },
  };
  return client;
}

async function call(client, method, path, body, { token = client.token, raw = false } = {}) {
  const url = /^https?:/.test(path) ? path : path.startsWith('/API/') ? `${client.emu.url}${path}` : `${client.base}/${path}`;
  const res = await fetch(url, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, body: json, text: raw ? text : undefined };
}

export async function control(emu, method, name, body) {
  const res = await fetch(`${emu.url}/_emulator/${name}`, {
    method,
    headers: body !== undefined ? { 'Content-Type': 'application/json' } : {},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

export const asList = (v) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]);
export const enc = encodeURIComponent;

// Every leaf in an answer must be a string (the Lightspeed scalar quirk).
export function allScalarsAreStrings(value, path = '$') {
  if (value === null) return [`${path} is null`];
  if (Array.isArray(value)) return value.flatMap((v, i) => allScalarsAreStrings(v, `${path}[${i}]`));
  if (typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => allScalarsAreStrings(v, `${path}.${k}`));
  return typeof value === 'string' ? [] : [`${path} is ${typeof value}`];
}
