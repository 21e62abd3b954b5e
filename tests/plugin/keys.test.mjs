// The keys belong to administrators, on real WordPress + WooCommerce with the stand-in
// sidecar: a real Shop Manager sees the connection and runner fields read-only (no secret
// in the page) and cannot change them even posting the form with a valid nonce, nor run
// Test connection; wp-config.php constants lock the fields; a change of API or token host
// discards the saved secret and tokens; hosts are https Lightspeed hosts, loopback, or
// what the pos_sync_allowed_hosts filter adds; every job carries allowed_hosts.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createSite, wordPressOrSkip, REPO_ROOT } from '../../scripts/lib/site.mjs';
import { press, loginAs } from './forms.mjs';

const { skip } = await wordPressOrSkip();
const SETTINGS = '/wp-admin/admin.php?page=wc-settings&tab=pos_sync';
const SECRET = 'cs-Keys-5e1f0a';
const REFRESH = 'rt-Keys-77c9d2';

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('keys: the connection and the runner belong to administrators', { timeout: 300_000 }, () => {
    let site;
    let manager;
    const fakeDir = () => path.join(site.dir, 'fake');
    const fake = (cfg) => fs.writeFileSync(path.join(fakeDir(), 'fake-sidecar.json'), JSON.stringify(cfg));
    const jobs = (kind) => {
      const f = path.join(fakeDir(), 'fake-sidecar.seen.json');
      return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')).byKind[kind] || [] : [];
    };
    const stored = () => site.wpEval(`wp_cache_flush(); return array( 'settings' => PosSync\\Store\\Settings::all(), 'raw' => get_option( 'pos_sync_settings' ), 'tokens' => PosSync\\Store\\Settings::tokens() );`);
    // As an administrator (the form's own entry point decides who may change the keys).
    const saveAsAdmin = (posted, filter = '') =>
      site.wpEval(`wp_set_current_user( 1 ); ${filter} return PosSync\\Store\\Settings::save_form( $args );`, { api_base: 'http://127.0.0.1:9/API/V3', account_id: '1', client_id: 'fake', ...posted });
    const reset = () =>
      site.wpEval(`update_option( 'pos_sync_settings', array( 'api_base' => 'http://127.0.0.1:9/API/V3', 'account_id' => '1', 'client_id' => 'fake', 'client_secret' => $args['secret'], 'reconcile_every' => 'off' ) );
        PosSync\\Store\\Settings::save_tokens( 'at-Keys-1', $args['refresh'], 0 ); return true;`, { secret: SECRET, refresh: REFRESH });
    const input = (html, key) => {
      const m = html.match(new RegExp(`<input[^>]*name="pos_sync_settings\\[${key}\\]"[^>]*>`, 's'));
      assert.ok(m, `no input ${key}`);
      return m[0];
    };

    before(async () => {
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: false });
      fs.mkdirSync(fakeDir());
      fs.copyFileSync(path.join(REPO_ROOT, 'tests', 'plugin', 'fake-sidecar.mjs'), path.join(fakeDir(), 'sidecar.mjs'));
      fake({ mode: 'ok' });
      await site.wpEval(`update_option( 'pos_sync_site_test_sidecar', $args ); return true;`, path.join(fakeDir(), 'sidecar.mjs'));
      await reset();
      manager = await loginAs(site, 'manager', 'shop_manager', ['pos_sync_test_connection']);
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
    });

    test('a Shop Manager sees the connection and the runner read-only, with no secret in the page, and no Test connection', async () => {
      assert.deepEqual(await site.wpEval(`return array( user_can( $args, 'manage_woocommerce' ), user_can( $args, 'manage_options' ) );`, manager.uid), [true, false]);
      const res = await manager.fetch(SETTINGS);
      assert.equal(res.status, 200);
      const html = await res.text();
      for (const key of ['api_base', 'token_url', 'account_id', 'client_id', 'client_secret', 'refresh_token', 'node_path', 'budget_seconds']) {
        assert.match(input(html, key), /disabled="disabled"/, `${key} is read-only`);
      }
      assert.doesNotMatch(input(html, 'safety_buffer'), /disabled/, 'the rest is theirs');
      assert.match(html, /Only an administrator can change this\./);
      assert.match(html, /id="pos-sync-keys-read-only"/);
      assert.doesNotMatch(html, /id="pos-sync-test-connection"/);
      for (const s of [SECRET, REFRESH, 'at-Keys-1']) assert.ok(!html.includes(s), 'no secret in the page');
      // The administrator's page has editable fields and the button.
      const admin = await (await site.adminFetch(SETTINGS)).text();
      assert.doesNotMatch(input(admin, 'api_base'), /disabled/);
      assert.match(admin, /id="pos-sync-test-connection"/);
    });

    test('a Shop Manager posting the settings form with a valid nonce changes no key, and can save everything else', async () => {
      const html = await (await manager.fetch(SETTINGS)).text();
      const nonce = html.match(/name="_wpnonce" value="([^"]+)"/)[1];
      const body = new URLSearchParams({
        _wpnonce: nonce,
        _wp_http_referer: SETTINGS,
        save: 'Save changes',
        'pos_sync_settings[api_base]': 'http://attacker.example/API/V3',
        'pos_sync_settings[token_url]': 'https://attacker.example/auth/oauth/token',
        'pos_sync_settings[account_id]': '999',
        'pos_sync_settings[client_id]': 'evil',
        'pos_sync_settings[client_secret]': 'cs-from-the-manager',
        'pos_sync_settings[refresh_token]': 'rt-from-the-manager',
        'pos_sync_settings[node_path]': '/bin/sh',
        'pos_sync_settings[budget_seconds]': '300',
        'pos_sync_settings[safety_buffer]': '4',
      });
      const res = await manager.fetch(SETTINGS, { method: 'POST', body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(res.status, 200);
      const after = await res.text();
      assert.match(after, /Only an administrator can change the POS connection and the runner/);
      const { settings, tokens } = await stored();
      assert.equal(settings.api_base, 'http://127.0.0.1:9/API/V3');
      assert.equal(settings.token_url, 'https://cloud.lightspeedapp.com/auth/oauth/token');
      assert.equal(settings.account_id, '1');
      assert.equal(settings.client_id, 'fake');
      assert.equal(settings.client_secret, SECRET);
      assert.equal(settings.node_path, '');
      assert.equal(settings.budget_seconds, 25);
      assert.equal(tokens.refresh_token, REFRESH);
      assert.equal(settings.safety_buffer, 4, 'the other fields are saved');
    });

    test('Test connection needs manage_options: a Shop Manager with a valid nonce gets 403 and no job runs', async () => {
      const before = jobs('test_connection').length;
      const res = await manager.fetch('/wp-admin/admin-post.php', {
        method: 'POST',
        body: new URLSearchParams({ action: 'pos_sync_test_connection', _wpnonce: manager.nonces.pos_sync_test_connection }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(res.status, 403);
      assert.equal(jobs('test_connection').length, before);
    });

    test('every job carries allowed_hosts: the configured API and token hosts with their ports', async () => {
      const res = await press(site.adminFetch, await (await site.adminFetch(SETTINGS)).text(), /id="pos-sync-test-connection"/);
      assert.equal(res.status, 302);
      assert.match(await (await site.adminFetch(res.headers.get('location'))).text(), /Connected to the Lightspeed account “Fake Shop”/);
      assert.deepEqual(jobs('test_connection').at(-1).allowed_hosts, ['127.0.0.1:9', 'cloud.lightspeedapp.com']);
      await site.wpEval(`PosSync\\Jobs\\Runner::run( 'sync' ); return true;`);
      assert.deepEqual(jobs('sync').at(-1).allowed_hosts, ['127.0.0.1:9', 'cloud.lightspeedapp.com']);
    });

    test('hosts: https only except loopback; Lightspeed’s own hosts by default; others only through pos_sync_allowed_hosts', async () => {
      const cases = [
        ['http://pos.example.com/API/V3', /API base URL: “http:\/\/pos\.example\.com\/API\/V3” must use https \(plain http only for this machine/],
        ['https://pos.example.com/API/V3', /API base URL: the host pos\.example\.com is not a Lightspeed host \(allowed: api\.lightspeedapp\.com, cloud\.lightspeedapp\.com, \*\.retail\.lightspeed\.app\); another host can be allowed only with the pos_sync_allowed_hosts filter\. The previous value is kept\./],
        ['ftp://api.lightspeedapp.com/API/V3', /is not a valid http\(s\) URL/],
      ];
      for (const [url, re] of cases) {
        const errors = await saveAsAdmin({ api_base: url, client_secret: 'x' });
        assert.ok(errors.some((e) => re.test(e)), `${url}: ${JSON.stringify(errors)}`);
        assert.equal((await stored()).settings.api_base, 'http://127.0.0.1:9/API/V3', `${url} not saved`);
      }
      const ok = [
        ['token_url', 'https://cloud.lightspeedapp.com/auth/oauth/token'],
        ['api_base', 'https://api.lightspeedapp.com/API/V3'],
        ['api_base', 'https://myshop.retail.lightspeed.app/api/2.0'],
        ['api_base', 'http://localhost:8787/API/V3'],
        ['api_base', 'http://127.3.4.5:8787/API/V3'],
        ['api_base', 'http://[::1]:8787/API/V3'],
      ];
      for (const [key, url] of ok) {
        const errors = await saveAsAdmin({ [key]: url, client_secret: 'x', refresh_token: 'y' });
        assert.deepEqual(errors, [], url);
        assert.equal((await stored()).settings[key], url);
      }
      const filter = `add_filter( 'pos_sync_allowed_hosts', fn( $h ) => array_merge( $h, array( 'pos-proxy.example.com' ) ) );`;
      assert.deepEqual(await saveAsAdmin({ api_base: 'https://pos-proxy.example.com/API/V3', client_secret: 'x', refresh_token: 'y' }, filter), []);
      assert.equal((await stored()).settings.api_base, 'https://pos-proxy.example.com/API/V3');
      // Without the filter the stored host is refused before a run starts.
      const run = await site.wpEval(`return PosSync\\Jobs\\Runner::run( 'sync' );`);
      assert.equal(run.ok, false);
      assert.match(run.error, /The run was not started: API base URL: the host pos-proxy\.example\.com is not a Lightspeed host.*An administrator must correct it in POS Sync settings\./);
      await reset();
    });

    test('a change of API or token host discards the saved client secret and tokens; typed again they are kept', async () => {
      let errors = await saveAsAdmin({ api_base: 'http://127.0.0.1:10/API/V3' });
      assert.ok(errors.some((e) => /The API or token host changed, so the saved client secret and tokens were discarded/.test(e)), JSON.stringify(errors));
      let { settings, tokens } = await stored();
      assert.equal(settings.client_secret, '');
      assert.equal(tokens.refresh_token, '');
      assert.equal(tokens.access_token, null);
      // Same host, another path: nothing is discarded.
      await reset();
      assert.deepEqual(await saveAsAdmin({ api_base: 'http://127.0.0.1:9/API/V4' }), []);
      assert.equal((await stored()).settings.client_secret, SECRET);
      // The token host alone.
      await reset();
      errors = await saveAsAdmin({ token_url: 'http://127.0.0.1:11/auth/oauth/token' });
      assert.ok(errors.some((e) => /saved client secret and tokens were discarded/.test(e)));
      assert.equal((await stored()).tokens.refresh_token, '');
      // A new secret and refresh token typed with the new host are the new host's.
      await reset();
      assert.deepEqual(await saveAsAdmin({ api_base: 'http://127.0.0.1:12/API/V3', client_secret: 'cs-new-host', refresh_token: 'rt-new-host' }), []);
      ({ settings, tokens } = await stored());
      assert.equal(settings.client_secret, 'cs-new-host');
      assert.equal(tokens.refresh_token, 'rt-new-host');
      await reset();
    });

    test('constants in wp-config.php fix the values and lock the fields, for administrators too', async () => {
      const config = path.join(site.wpDir, 'wp-config.php');
      const original = fs.readFileSync(config, 'utf8');
      const node = process.execPath;
      fs.writeFileSync(
        config,
        original.replace(
          "define( 'WP_HOME'",
          `define( 'POS_SYNC_API_BASE', 'http://127.0.0.1:7/API/V3' );\ndefine( 'POS_SYNC_CLIENT_SECRET', 'cs-From-Config-3c1' );\ndefine( 'POS_SYNC_NODE_BINARY', ${JSON.stringify(node)} );\ndefine( 'WP_HOME'`,
        ),
      );
      try {
        const html = await (await site.adminFetch(SETTINGS)).text();
        for (const [key, constant] of [['api_base', 'POS_SYNC_API_BASE'], ['client_secret', 'POS_SYNC_CLIENT_SECRET'], ['node_path', 'POS_SYNC_NODE_BINARY']]) {
          assert.match(input(html, key), /disabled="disabled"/, key);
          assert.match(html, new RegExp(`set in wp-config\\.php \\(${constant}\\)`));
        }
        assert.doesNotMatch(input(html, 'account_id'), /disabled/, 'a field without a constant stays the administrator’s');
        assert.ok(!html.includes('cs-From-Config-3c1'), 'the secret is not in the page');
        const errors = await saveAsAdmin({ api_base: 'http://127.0.0.1:8/API/V3', client_secret: 'cs-typed', node_path: '/usr/bin/env', account_id: '2' });
        assert.deepEqual(errors, []);
        const { settings, raw } = await stored();
        assert.equal(settings.api_base, 'http://127.0.0.1:7/API/V3');
        assert.equal(settings.client_secret, 'cs-From-Config-3c1');
        assert.equal(settings.node_path, node);
        assert.equal(settings.account_id, '2');
        assert.equal(raw.client_secret, SECRET, 'the constant is not copied into the database');
        await site.wpEval(`PosSync\\Jobs\\Runner::run( 'sync' ); return true;`);
        const job = jobs('sync').at(-1);
        assert.equal(job.settings.api_base, 'http://127.0.0.1:7/API/V3');
        assert.equal(job.settings.client_secret, 'cs-From-Config-3c1');
        assert.deepEqual(job.allowed_hosts, ['127.0.0.1:7', 'cloud.lightspeedapp.com']);
      } finally {
        fs.writeFileSync(config, original);
        await reset();
      }
    });

    test('no PHP notice in the debug log', () => {
      assert.deepEqual(site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
