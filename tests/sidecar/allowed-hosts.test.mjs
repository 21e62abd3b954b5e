// Sidecar tier, issue 12: the job's allowed_hosts are the only hosts the core
// sends to. A job pointed at another host (a settings change by someone who
// should not hold the keys) sends the token and secret nowhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { bootEmulator, control, makeJob, runSidecar, ofType, resultOf } from './helpers.mjs';

let emu;
let trap;
let trapped = [];
before(async () => {
  emu = await bootEmulator();
  // A listener on loopback that records whatever reaches it.
  trap = http.createServer((req, res) => {
    trapped.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{}');
  });
  await new Promise((r) => trap.listen(0, '127.0.0.1', r));
});
after(async () => {
  await emu?.close();
  await new Promise((r) => trap?.close(r));
});

const emuHost = () => new URL(emu.url).host;

test('a job whose API base is not an allowed host sends nothing there', { timeout: 60_000 }, async () => {
  trapped = [];
  const job = await makeJob(emu, 'sync');
  const trapUrl = `http://127.0.0.1:${trap.address().port}`;
  job.settings.api_base = `${trapUrl}/API/V3`;
  job.settings.token_url = `${trapUrl}/auth/oauth/token`;
  job.allowed_hosts = [emuHost()];
  const run = await runSidecar(job);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  const err = ofType(run.events, 'error')[0];
  assert.equal(err.code, 'host_not_allowed');
  assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${trap.address().port}`));
  assert.ok(!run.stdout.includes(job.tokens.access_token), 'no token in any event');
  assert.equal(resultOf(run.events).ok, false);
  assert.deepEqual(trapped, [], 'nothing reached the other host');
});

test('the allowed POS host works as before', { timeout: 60_000 }, async () => {
  await control(emu, 'POST', 'reset', { seed: 'demo' });
  const job = await makeJob(emu, 'sync');
  job.allowed_hosts = [emuHost()];
  const run = await runSidecar(job);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.equal(resultOf(run.events).ok, true);
  assert.ok(ofType(run.events, 'stock').length > 0);
});
