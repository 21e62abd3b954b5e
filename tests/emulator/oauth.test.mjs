// OAuth: refresh rotates both tokens; the old refresh token stays valid until
// the new access token is used; tokens expire on the emulator clock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { boot } from './helpers.mjs';

let c;
before(async () => {
  c = await boot({ rateLimit: false });
});
after(() => c.close());

async function token(params, { json = false } = {}) {
  const res = await fetch(c.emu.tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': json ? 'application/json' : 'application/x-www-form-urlencoded' },
    body: json ? JSON.stringify(params) : new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: await res.json() };
}
const creds = { client_id: 'pos-sync-demo', client_secret: 'demo-secret' };

test('refresh rotates both tokens; old refresh token valid until the new access token is used', async () => {
  const g = (await c.control('POST', 'grant', {})).body;
  const r1 = await token({ ...creds, grant_type: 'refresh_token', refresh_token: g.refresh_token });
  assert.equal(r1.status, 200);
  assert.equal(r1.body.token_type, 'Bearer');
  assert.equal(r1.body.expires_in, 1800);
  assert.notEqual(r1.body.access_token, g.access_token);
  assert.notEqual(r1.body.refresh_token, g.refresh_token);
  // new access token not used yet: the old refresh token still works (JSON body this time)
  const r2 = await token({ ...creds, grant_type: 'refresh_token', refresh_token: g.refresh_token }, { json: true });
  assert.equal(r2.status, 200);
  // first use of a new access token revokes the old refresh token
  assert.equal((await c.get('Shop.json', { token: r2.body.access_token })).status, 200);
  const r3 = await token({ ...creds, grant_type: 'refresh_token', refresh_token: g.refresh_token });
  assert.equal(r3.status, 400);
  assert.equal(r3.body.error, 'invalid_grant');
  // the newest refresh token works
  const r4 = await token({ ...creds, grant_type: 'refresh_token', refresh_token: r2.body.refresh_token });
  assert.equal(r4.status, 200);
});

test('multipart/form-data token bodies (curl -F) are accepted', async () => {
  const g = (await c.control('POST', 'grant', {})).body;
  const form = new FormData();
  for (const [k, v] of Object.entries({ ...creds, grant_type: 'refresh_token', refresh_token: g.refresh_token })) form.append(k, v);
  const res = await fetch(c.emu.tokenUrl, { method: 'POST', body: form });
  assert.equal(res.status, 200);
  assert.ok((await res.json()).access_token);
});

test('access tokens expire (token_ttl_s) on the emulator clock: 401 access_denied', async () => {
  await c.control('POST', 'config', { token_ttl_s: 5 });
  const g = (await c.control('POST', 'grant', {})).body;
  assert.equal(g.expires_in, 5);
  assert.equal((await c.get('Shop.json', { token: g.access_token })).status, 200);
  await c.control('POST', 'clock', { advance_s: 6 });
  const r = await c.get('Shop.json', { token: g.access_token });
  assert.equal(r.status, 401);
  assert.deepEqual(Object.keys(r.body).filter((k) => k !== 'message').sort(), ['error', 'error_description', 'hint']);
  assert.equal(r.body.error, 'access_denied');
  assert.match(r.body.hint, /could not be verified/);
  await c.control('POST', 'config', { token_ttl_s: 1800 });
});

test('bad, missing and malformed tokens get 401 access_denied', async () => {
  for (const t of ['nope', null]) {
    const r = await c.get('Shop.json', { token: t });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'access_denied');
    assert.ok(r.body.error_description);
    assert.ok(r.body.hint);
  }
});

test('bad client secret is 401 invalid_client; bad grant type 400', async () => {
  const g = (await c.control('POST', 'grant', {})).body;
  const r = await token({ client_id: 'pos-sync-demo', client_secret: 'wrong', grant_type: 'refresh_token', refresh_token: g.refresh_token });
  assert.equal(r.status, 401);
  assert.equal(r.body.error, 'invalid_client');
  const r2 = await token({ ...creds, grant_type: 'password' });
  assert.equal(r2.status, 400);
  assert.equal(r2.body.error, 'unsupported_grant_type');
  const r3 = await token({ ...creds, grant_type: 'refresh_token', refresh_token: 'def50unknown' });
  assert.equal(r3.body.error, 'invalid_grant');
});

test('authorize redirects with a code that the token endpoint exchanges once', async () => {
  const res = await fetch(`${c.emu.url}/auth/oauth/authorize?response_type=code&client_id=pos-sync-demo&state=xyz&redirect_uri=${encodeURIComponent('http://localhost/cb')}`, { redirect: 'manual' });
  assert.equal(res.status, 302);
  const loc = new URL(res.headers.get('location'));
  assert.equal(loc.searchParams.get('state'), 'xyz');
  const code = loc.searchParams.get('code');
  const t = await token({ ...creds, grant_type: 'authorization_code', code });
  assert.equal(t.status, 200);
  assert.equal((await c.get('/API/V3/Account.json', { token: t.body.access_token })).body.Account.accountID, '1');
  const again = await token({ ...creds, grant_type: 'authorization_code', code });
  assert.equal(again.status, 400);
});
