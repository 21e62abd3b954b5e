// Sidecar tier: the `lookups` job (the settings page's pick-lists) against
// the emulator: every page read, archived rows left out.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { bootEmulator, control, makeJob, runSidecar, ofType, resultOf } from './helpers.mjs';

let emu;
let grant;
before(async () => {
  // Rate limit off and a large bucket: the test itself writes 105 employees
  // through the API, and the run should not wait for them to drain.
  emu = await bootEmulator({ rateLimit: false });
});
after(async () => {
  await emu?.close();
});
beforeEach(async () => {
  await control(emu, 'POST', 'reset', { seed: 'demo' });
  await control(emu, 'POST', 'config', { rate_limit: { enabled: false, bucket_size: 1000 } });
  grant = undefined;
});

async function api(method, path, body) {
  grant ??= await control(emu, 'POST', 'grant', {});
  const res = await fetch(`${emu.apiBase}/Account/1/${path}`, {
    method,
    headers: { Authorization: `Bearer ${grant.access_token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

test('lookups: the demo shops, registers, employees, payment types and tax classes in one event', async () => {
  const run = await runSidecar(await makeJob(emu, 'lookups'));
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const events = ofType(run.events, 'lookups');
  assert.equal(events.length, 1);
  const { shops, registers, employees, payment_types, tax_classes } = events[0].lookups;
  // The labour class is not offered for products.
  assert.deepEqual(tax_classes, [
    { id: '1', name: 'Item' },
    { id: '3', name: 'Reduced rate' },
  ]);
  assert.deepEqual(shops, [
    { id: '1', name: 'Main Street' },
    { id: '2', name: 'Harbour' },
  ]);
  assert.deepEqual(
    registers.map((r) => [r.id, r.shop_id]),
    [
      ['1', '1'],
      ['2', '2'],
    ],
  );
  assert.ok(employees.some((e) => e.id === '3' && e.name === 'Web Store'), JSON.stringify(employees));
  const ecom = payment_types.find((p) => p.code === 'ecom');
  assert.ok(ecom, JSON.stringify(payment_types));
  assert.equal(ecom.name, 'ECom');
  const result = resultOf(run.events);
  assert.equal(result.ok, true);
  assert.equal(result.kind, 'lookups');
  assert.equal(result.summary.shops, 2);
  assert.equal(result.summary.tax_classes, 2);
});

test('lookups: more than a page of employees is read to the end; archived ones are left out', async () => {
  for (let i = 1; i <= 105; i++) await api('POST', 'Employee.json', { firstName: 'Temp', lastName: `No ${i}` });
  await api('DELETE', 'Employee/2.json'); // Sam Seller leaves
  const shop = await api('POST', 'Shop.json', { name: 'Pop-up' });
  await api('DELETE', `Shop/${shop.Shop.shopID}.json`);
  await control(emu, 'DELETE', 'log');

  const run = await runSidecar(await makeJob(emu, 'lookups'));
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const { shops, employees } = ofType(run.events, 'lookups')[0].lookups;
  assert.equal(employees.length, 3 - 1 + 105);
  assert.ok(!employees.some((e) => e.id === '2'), 'archived employee left out');
  assert.ok(employees.some((e) => e.name === 'Temp No 105'), 'the last page was read');
  assert.deepEqual(new Set(employees.map((e) => e.id)).size, employees.length, 'no row twice');
  assert.deepEqual(
    shops.map((s) => s.name),
    ['Main Street', 'Harbour'],
    'archived shop left out',
  );
  const log = await control(emu, 'GET', 'log');
  const employeeReads = log.filter((e) => e.method === 'GET' && /\/Employee\.json$/.test(e.path));
  assert.equal(employeeReads.length, 2, JSON.stringify(employeeReads));
});

test('lookups with a wrong secret: a credentials error and no lists', async () => {
  const job = await makeJob(emu, 'lookups', { settings: { client_secret: 'wrong-secret-1b2c' }, tokens: { access_token: null, refresh_token: 'nope-nope', expires_at_ms: 0 } });
  const run = await runSidecar(job);
  assert.equal(run.code, 1);
  assert.equal(ofType(run.events, 'lookups').length, 0);
  assert.equal(ofType(run.events, 'error')[0].code, 'credentials');
  assert.ok(!run.stdout.includes('wrong-secret-1b2c'));
});
