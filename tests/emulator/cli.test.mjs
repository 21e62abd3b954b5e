// npm run pos: the first line of output is the API base URL; SIGTERM stops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../js/emulator/cli.mjs', import.meta.url));

test('cli prints the API base URL first, then token URL and demo credentials', async () => {
  const child = spawn(process.execPath, [cli], { env: { ...process.env, POS_PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  while (!out.includes('client secret')) {
    const [chunk] = await once(child.stdout, 'data');
    out += chunk;
  }
  const lines = out.split('\n');
  assert.match(lines[0], /^http:\/\/127\.0\.0\.1:\d+\/API\/V3$/);
  const origin = lines[0].replace('/API/V3', '');
  assert.ok(out.includes(`${origin}/auth/oauth/token`));
  assert.ok(out.includes('pos-sync-demo'));
  assert.ok(out.includes('demo-secret'));
  const grant = await (await fetch(`${origin}/_emulator/grant`, { method: 'POST', body: '{}' })).json();
  const res = await fetch(`${lines[0]}/Account.json`, { headers: { Authorization: `Bearer ${grant.access_token}` } });
  assert.equal(res.status, 200);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
});
