// Sidecar tier helpers: an emulator, a job for it, and a sidecar process
// driven like PHP drives it (job line in, events out, token_saved acks).
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../js/emulator/server.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SIDECAR = join(root, 'js', 'sidecar.mjs');

export async function control(emu, method, name, body) {
  const res = await fetch(`${emu.url}/_emulator/${name}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`control ${name}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export async function bootEmulator(options = {}) {
  return startEmulator({ port: 0, seed: 'demo', rateLimit: true, ...options });
}

// A job as PHP would write it, with a freshly granted token pair.
export async function makeJob(emu, kind, { cursors = {}, settings = {}, budget_ms = 30_000, tokens } = {}) {
  const grant = await control(emu, 'POST', 'grant', {});
  return {
    v: 1,
    kind,
    now_ms: Date.now(),
    budget_ms,
    settings: {
      api_base: emu.apiBase,
      token_url: emu.tokenUrl,
      account_id: grant.account_id,
      client_id: grant.client_id,
      client_secret: grant.client_secret,
      shop_ids: [],
      safety_buffer: 0,
      ...settings,
    },
    tokens: tokens ?? {
      access_token: grant.access_token,
      refresh_token: grant.refresh_token,
      expires_at_ms: Date.now() + grant.expires_in * 1000,
    },
    cursors,
  };
}

// Runs the sidecar on `job`. `onToken(event, ack)` decides when to ack a
// token event (default: at once); it also gets the child process. Resolves {code, events, stdout, stderr}.
export function runSidecar(job, { onToken, onEvent, rawJob } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SIDECAR], { stdio: ['pipe', 'pipe', 'pipe'] });
    const events = [];
    let stdout = '';
    let stderr = '';
    let buf = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.trim()) continue;
        const event = JSON.parse(line); // every stdout line must be JSON
        events.push(event);
        if (onEvent) onEvent(event, child);
        if (event.type === 'token') {
          const ack = () => child.stdin.write(JSON.stringify({ v: 1, type: 'token_saved', refresh_token: event.refresh_token }) + '\n');
          if (onToken) onToken(event, ack, child);
          else ack();
        }
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      child.stdin.destroy();
      resolve({ code, events, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.write((rawJob ?? JSON.stringify(job)) + '\n');
    // stdin stays open, as PHP keeps it.
  });
}

export const ofType = (events, type) => events.filter((e) => e.type === type);
export const resultOf = (events) => events.find((e) => e.type === 'result');

// Latest level per item id over all stock events.
export function levelsById(events) {
  const out = new Map();
  for (const e of ofType(events, 'stock')) for (const l of e.levels) out.set(l.item_id, l);
  return out;
}

export function lastCursor(events) {
  const s = ofType(events, 'stock');
  return s.length ? s[s.length - 1].cursor : null;
}
