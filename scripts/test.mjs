// Runs every test tier of ARCHITECTURE.md and prints one closing line:
//   total: N passed, N failed, N skipped
// Usage: node scripts/test.mjs [tier …]   (default: all tiers, in order)
// Tiers: lint core wasm emulator sidecar plugin e2e
// Nothing can hang CI: each tier has a limit for the whole of it (TIER_LIMIT): past it,
// the tier's process group is killed and the tier counts as failed.
import { spawn } from 'node:child_process';
import { readdirSync, existsSync, statSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALL = ['lint', 'core', 'wasm', 'emulator', 'sidecar', 'plugin', 'e2e'];
const tiers = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
for (const t of tiers) if (!ALL.includes(t)) { console.error(`test: unknown tier ${t}; tiers: ${ALL.join(' ')}`); process.exit(2); }

// Minutes for a whole tier: several times what it takes on 2 cores (a cold cargo build
// for lint and core), so only a hang reaches them.
const TIER_LIMIT = { lint: 20, core: 30, wasm: 5, emulator: 10, sidecar: 20, plugin: 30, e2e: 30 };

const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];

// The running child, in its own process group, so a timeout or Ctrl-C stops all of it.
let current = null;
const killGroup = (child, signal) => {
  try {
    process.kill(-child.pid, signal);
  } catch {}
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (current) killGroup(current, 'SIGKILL');
    process.exit(130);
  });
}

// Runs cmd; past `deadline` (ms since the epoch) its process group is killed and the
// result says timedOut.
function run(cmd, argv, { parse, deadline = Infinity, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: env ? { ...process.env, ...env } : process.env });
    current = child;
    let out = '';
    let timedOut = false;
    let stopper = null;
    const timer = deadline === Infinity ? null : setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGTERM');
      stopper = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
    }, Math.max(0, deadline - Date.now()));
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => { out += d; process.stderr.write(d); });
    const done = (r) => {
      clearTimeout(timer);
      clearTimeout(stopper);
      current = null;
      resolve({ ...r, timedOut });
    };
    child.on('error', (e) => done({ code: 127, out: out + `\n${cmd}: ${e.message}\n` }));
    child.on('close', (code) => done({ code: timedOut ? 124 : code, out, counts: parse ? parse(out) : null }));
  });
}

function tapCounts(out) {
  const n = (k) => [...out.matchAll(new RegExp(`^# ${k} (\\d+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
  return { passed: n('pass'), failed: n('fail') + n('cancelled'), skipped: n('skipped') + n('todo') };
}

function cargoCounts(out) {
  const c = { passed: 0, failed: 0, skipped: 0 };
  for (const m of out.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/g)) {
    c.passed += Number(m[1]); c.failed += Number(m[2]); c.skipped += Number(m[3]);
  }
  return c;
}

function testFiles(dir) {
  const abs = join(root, 'tests', dir);
  if (!existsSync(abs)) return [];
  const out = [];
  for (const name of readdirSync(abs).sort()) {
    const p = join(abs, name);
    if (statSync(p).isDirectory()) continue;
    if (name.endsWith('.test.mjs')) out.push(relative(root, p));
  }
  return out;
}

function phpFiles(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...phpFiles(p));
    else if (name.endsWith('.php')) out.push(p);
  }
  return out;
}

function record(tier, counts, code) {
  const c = counts ?? { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0 };
  if (code !== 0 && c.failed === 0) c.failed = 1; // a crash with no parsed failure still fails
  totals.passed += c.passed; totals.failed += c.failed; totals.skipped += c.skipped;
  lines.push(`${tier.padEnd(9)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
}

const stoppedLine = (tier) => `test: tier ${tier} FAILED: still running after its limit of ${TIER_LIMIT[tier]} min; its processes were killed`;

const started = Date.now();
for (const tier of tiers) {
  const t0 = Date.now();
  const deadline = t0 + TIER_LIMIT[tier] * 60_000;
  let stopped = false;
  console.log(`\n=== tier ${tier} ===`);
  if (tier === 'lint') {
    const checks = [
      ['cargo', ['fmt', '--check']],
      ['cargo', ['clippy', '--all-targets', '--quiet', '--', '-D', 'warnings']],
      ['cargo', ['clippy', '--target', 'wasm32-unknown-unknown', '--lib', '--quiet', '--', '-D', 'warnings']],
      ...phpFiles(join(root, 'php-plugin')).map((f) => ['php', ['-l', '-d', 'display_errors=1', f]]),
    ];
    const c = { passed: 0, failed: 0, skipped: 0 };
    for (const [cmd, argv] of checks) {
      if (stopped) { c.failed++; continue; }
      const r = await run(cmd, argv, { deadline });
      stopped = r.timedOut;
      r.code === 0 ? c.passed++ : (c.failed++, cmd === 'cargo' && console.log(`lint: ${cmd} ${argv.join(' ')} failed`));
    }
    record(tier, c, c.failed ? 1 : 0);
  } else if (tier === 'core') {
    const r = await run('cargo', ['test', '--quiet'], { parse: cargoCounts, deadline });
    stopped = r.timedOut;
    record(tier, r.counts, r.code);
  } else {
    const files = testFiles(tier);
    if (files.length === 0) { console.log(`test: no tests in tests/${tier}/`); lines.push(`${tier.padEnd(9)} (no test files)`); continue; }
    // Tiers that run a WordPress site each run one file at a time: 2 cores.
    const serial = ['plugin', 'e2e'].includes(tier);
    const argv = ['--test', '--test-reporter=tap', `--test-concurrency=${serial ? 1 : 2}`, ...files];
    const r = await run(process.execPath, argv, { parse: tapCounts, deadline });
    stopped = r.timedOut;
    record(tier, r.counts, r.code);
  }
  if (stopped) console.log(stoppedLine(tier));
  lines[lines.length - 1] += `  (${((Date.now() - t0) / 1000).toFixed(1)} s)${stopped ? `  STOPPED at its ${TIER_LIMIT[tier]} min limit` : ''}`;
}

console.log('\n=== summary ===');
for (const l of lines) console.log(l);
console.log(`time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`total: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed ? 1 : 0);
