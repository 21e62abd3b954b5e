#!/usr/bin/env node
// POS Sync sidecar: carries bytes, decides nothing (docs/PROTOCOL.md).
//   stdin, line 1: the job; later lines: {"v":1,"type":"token_saved",…} acks
//   stdout: one JSON event per line; stderr: diagnostics only
// Exit 0 after an ok result, 1 after an error event (bad job, crash, guard).
// The same file ships as pos-sync/sidecar/sidecar.mjs next to core/.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

// Extra time past the job's budget before the guard gives up on the core.
const GUARD_MARGIN_MS = 15_000;

let sawError = false;
let finished = false;

function write(event) {
  if (event && event.type === 'error') sawError = true;
  process.stdout.write(JSON.stringify(event) + '\n');
}

function fail(code, message) {
  write({ v: 1, type: 'error', code, message });
}

function exit(code) {
  if (finished) return;
  finished = true;
  // Let stdout drain, then leave even though PHP keeps stdin open.
  process.stdout.write('', () => process.exit(code));
}

// --- stdin: the job, then acknowledgements -------------------------------

const acks = new Set(); // refresh tokens acknowledged before anyone waited
const waiters = new Map(); // refresh token -> {resolve, reject}
let stdinClosed = false;
let jobResolve;
const firstLine = new Promise((resolve) => (jobResolve = resolve));

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
let lineNo = 0;
lines.on('line', (line) => {
  lineNo += 1;
  if (lineNo === 1) return jobResolve(line);
  if (!line.trim()) return;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    process.stderr.write(`sidecar: ignored a stdin line that is not JSON (line ${lineNo})\n`);
    return;
  }
  if (msg?.v !== 1 || msg?.type !== 'token_saved') return;
  const token = typeof msg.refresh_token === 'string' ? msg.refresh_token : null;
  if (token === null) {
    // An ack without a token confirms whatever is pending.
    for (const w of waiters.values()) w.resolve();
    waiters.clear();
    return;
  }
  const w = waiters.get(token);
  if (w) {
    waiters.delete(token);
    w.resolve();
  } else {
    acks.add(token);
  }
});
lines.on('close', () => {
  stdinClosed = true;
  jobResolve(null);
  for (const w of waiters.values()) w.reject(new Error('stdin closed before token_saved'));
  waiters.clear();
});

function awaitTokenSaved(refreshToken) {
  if (acks.delete(refreshToken)) return Promise.resolve();
  if (stdinClosed) return Promise.reject(new Error('stdin closed before token_saved'));
  return new Promise((resolve, reject) => waiters.set(refreshToken, { resolve, reject }));
}

// --- backpressure ---------------------------------------------------------

// Node queues stdout writes in memory without limit, so a core that reads the
// POS faster than PHP writes products would read far ahead: pages a cut run
// never applies are read again by the next one, out of the merchant's shared
// rate limit. So the core's next POS request waits until what it emitted has
// gone into the pipe (at most the pipe's 64 KiB and PHP's read buffer ahead).
// The core reaches the network only through the global fetch (gloo-net).
function stdoutDrained() {
  if (!process.stdout.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      process.stdout.off('drain', done);
      process.stdout.off('close', done);
      resolve();
    };
    process.stdout.on('drain', done);
    process.stdout.on('close', done);
  });
}
const networkFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  await stdoutDrained();
  return networkFetch(...args);
};

// --- crashes --------------------------------------------------------------

// PHP went away (EPIPE): nobody is left to tell.
process.stdout.on('error', () => process.exit(1));

process.on('uncaughtException', (err) => {
  process.stderr.write(`sidecar: ${err?.stack ?? err}\n`);
  fail('internal', `sidecar crashed: ${err?.message ?? err}`);
  exit(1);
});
process.on('unhandledRejection', (err) => {
  process.stderr.write(`sidecar: ${err?.stack ?? err}\n`);
  fail('internal', `sidecar crashed: ${err?.message ?? err}`);
  exit(1);
});

// --- main -----------------------------------------------------------------

async function main() {
  const line = await firstLine;
  if (line === null || !line.trim()) {
    fail('bad_job', 'no job on stdin');
    return exit(1);
  }
  let job;
  try {
    job = JSON.parse(line);
  } catch (e) {
    fail('bad_job', `job is not JSON: ${e.message}`);
    return exit(1);
  }
  if (job === null || typeof job !== 'object' || Array.isArray(job)) {
    fail('bad_job', 'job must be a JSON object');
    return exit(1);
  }
  if (job.v !== 1) {
    fail('bad_job', `unsupported protocol version ${JSON.stringify(job.v ?? null)} (this sidecar speaks v1)`);
    return exit(1);
  }

  let core;
  try {
    core = createRequire(import.meta.url)('./core/pos_sync_core.js');
  } catch (e) {
    process.stderr.write(`sidecar: ${e?.stack ?? e}\n`);
    fail('core_missing', `could not load the core (core/pos_sync_core.js): ${e.message.split('\n')[0]}`);
    return exit(1);
  }
  write({ v: 1, type: 'hello', core: core.core_version(), kind: String(job.kind ?? '') });

  const budget = Number.isFinite(job.budget_ms) && job.budget_ms > 0 ? job.budget_ms : 25_000;
  const guard = setTimeout(() => {
    fail('timeout', `the core did not finish within its budget of ${budget} ms (+${GUARD_MARGIN_MS} ms); stopped`);
    exit(1);
  }, budget + GUARD_MARGIN_MS);

  const host = {
    emit: (event) => {
      if (!finished) write(event);
    },
    awaitTokenSaved,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(ms) || 0))),
    random: () => Math.random(),
  };

  let result;
  try {
    result = await core.run_job(job, host);
  } catch (e) {
    clearTimeout(guard);
    process.stderr.write(`sidecar: ${e?.stack ?? e}\n`);
    fail('internal', `the core failed: ${e?.message ?? e}`);
    return exit(1);
  }
  clearTimeout(guard);
  exit(result?.ok === true && !sawError ? 0 : 1);
}

main();
