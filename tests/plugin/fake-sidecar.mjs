// A stand-in for the sidecar, driven by fake-sidecar.json beside it, for testing the
// plugin's runner without the core: it speaks PROTOCOL.md's events and records
// what PHP sent it in fake-sidecar.seen.json.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const all = JSON.parse(fs.readFileSync(path.join(here, 'fake-sidecar.json'), 'utf8'));
const seenFile = path.join(here, 'fake-sidecar.seen.json');
const seen = { job: null, acks: [] };
// Every job of each kind is kept too (a cron tick may run several kinds).
let byKind = {};
try {
  byKind = JSON.parse(fs.readFileSync(seenFile, 'utf8')).byKind || {};
} catch {}
const save = () => fs.writeFileSync(seenFile, JSON.stringify({ ...seen, byKind }));
const emit = (e) => process.stdout.write(JSON.stringify({ v: 1, ...e }) + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const lines = readline.createInterface({ input: process.stdin });
const it = lines[Symbol.asyncIterator]();
seen.job = JSON.parse((await it.next()).value);
(byKind[seen.job.kind] ||= []).push(seen.job);
save();
// `byKind: {reconcile: {...}}` gives a kind its own behaviour; `"read_from_ms": "now"` in a level is the time of the reading.
const cfg = all.byKind?.[seen.job.kind] ?? all;
const stamp = (ev) => ({ ...ev, levels: (ev.levels || []).map((l) => ({ ...l, ...(l.read_from_ms === 'now' ? { read_from_ms: Date.now(), read_until_ms: Date.now() + 1 } : {}) })) });
emit({ type: 'hello', core: 'fake', kind: seen.job.kind });

if (cfg.mode === 'hang') {
  await sleep(3_600_000);
} else if (cfg.mode === 'fail') {
  for (const ev of cfg.stock || []) emit({ type: 'stock', ...stamp(ev) });
  emit({ type: 'error', code: cfg.code || 'auth', message: cfg.message || `POS refused the client secret ${seen.job.settings.client_secret}` });
  process.exit(3);
} else if (cfg.mode === 'crash') {
  process.stderr.write('Error: Cannot find module ./core/pos_sync_core.js\n');
  process.exit(1);
} else {
  if (cfg.sleepMs) await sleep(cfg.sleepMs);
  if (cfg.token) {
    emit({ type: 'token', ...cfg.token });
    const ack = await Promise.race([it.next(), sleep(5000).then(() => null)]);
    seen.acks.push(ack ? JSON.parse(ack.value) : null);
    save();
  }
  for (const ev of cfg.stock || []) emit({ type: 'stock', ...stamp(ev) });
  for (const ev of cfg.events || []) emit(ev);
  emit({ type: 'log', level: 'info', message: 'fake run done' });
  emit({ type: 'result', ok: true, kind: seen.job.kind, summary: { levels: (cfg.stock || []).length }, account: { id: '1', name: 'Fake Shop' } });
  process.exit(0);
}
