// WebAssembly tier: the built core (js/core, from `node scripts/build.mjs`)
// loads in Node and answers through its JS boundary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';

const core = createRequire(import.meta.url)('../../js/core/pos_sync_core.js');

function host(overrides = {}) {
  const events = [];
  return {
    events,
    emit: (e) => events.push(e),
    awaitTokenSaved: () => Promise.resolve(),
    now: () => Date.now(),
    sleep: () => Promise.resolve(), // no real waiting in this tier
    random: () => 0.5,
    ...overrides,
  };
}

test('the module loads and core_version answers', () => {
  assert.match(core.core_version(), /^\d+\.\d+\.\d+/);
  assert.equal(typeof core.run_job, 'function');
});

test('run_job with a bad job: an error event and a failed result, as plain objects', async () => {
  for (const job of [null, 42, { v: 2 }, { v: 1, kind: 'sync' }, { v: 1, kind: 'teleport', budget_ms: 1 }]) {
    const h = host();
    const result = await core.run_job(job, h);
    assert.equal(result.type, 'result');
    assert.equal(result.ok, false);
    assert.equal(Object.getPrototypeOf(result), Object.prototype, 'a plain object, not a Map');
    const err = h.events.find((e) => e.type === 'error');
    assert.ok(err, JSON.stringify(h.events));
    assert.equal(err.code, 'bad_job');
    assert.equal(err.v, 1);
    assert.deepEqual(h.events.at(-1), result);
  }
});

test('run_job with a host missing a function rejects with a clear message', async () => {
  await assert.rejects(core.run_job({ v: 1 }, { emit() {} }), /host\.awaitTokenSaved must be a function/);
});

test('run_job against a closed port: a network error naming the token endpoint, no secret', async () => {
  // Find a free port, then close it so nothing listens there.
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const h = host();
  const job = {
    v: 1, kind: 'test_connection', now_ms: Date.now(), budget_ms: 10_000,
    settings: {
      api_base: `http://127.0.0.1:${port}/API/V3`, token_url: `http://127.0.0.1:${port}/auth/oauth/token`,
      account_id: '1', client_id: 'pos-sync-demo', client_secret: 'very-secret-xyz', shop_ids: [], safety_buffer: 0,
    },
    tokens: { access_token: null, refresh_token: 'refresh-abc-123', expires_at_ms: 0 },
    cursors: {},
  };
  const result = await core.run_job(job, h);
  assert.equal(result.ok, false);
  const err = h.events.find((e) => e.type === 'error');
  assert.equal(err.code, 'network');
  assert.match(err.message, /token endpoint/);
  const all = JSON.stringify(h.events);
  assert.ok(!all.includes('very-secret-xyz') && !all.includes('refresh-abc-123'));
});
