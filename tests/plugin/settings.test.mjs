// The settings tab against real WordPress + WooCommerce, with the stand-in sidecar
// (fake-sidecar.mjs): pick-lists read from the POS (`lookups` jobs) and cached, the
// fields as selects (typed IDs until the lists are read), "Refresh lists from the POS"
// (nonce + manage_woocommerce), Test connection refreshing the lists, and every
// settings field validated with a message that says what is wrong.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createSite, wordPressOrSkip, REPO_ROOT } from '../../scripts/lib/site.mjs';
import { press } from './forms.mjs';

const { skip } = await wordPressOrSkip();

const LOOKUPS = {
  shops: [
    { id: '1', name: 'Main Street' },
    { id: '2', name: 'Harbour' },
  ],
  registers: [
    { id: '1', name: 'Register 1', shop_id: '1' },
    { id: '2', name: 'Register 1', shop_id: '2' },
  ],
  employees: [
    { id: '1', name: 'Alex Owner' },
    { id: '3', name: 'Web Store' },
  ],
  payment_types: [
    { id: '1', name: 'Cash', code: 'cash' },
    { id: '7', name: 'ECom', code: 'ecom' },
  ],
  tax_classes: [
    { id: '1', name: 'Item' },
    { id: '3', name: 'Reduced rate' },
  ],
};

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('settings: pick-lists from the POS and validation', () => {
    let site;
    const fakeDir = () => path.join(site.dir, 'fake');
    const fake = (cfg) => fs.writeFileSync(path.join(fakeDir(), 'fake-sidecar.json'), JSON.stringify(cfg));
    const jobs = (kind) => {
      const f = path.join(fakeDir(), 'fake-sidecar.seen.json');
      return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')).byKind[kind] || [] : [];
    };
    const page = async (p) => {
      const res = await site.adminFetch(p);
      assert.equal(res.status, 200, `${p}: HTTP ${res.status}`);
      return res.text();
    };
    const pressAndFollow = async (html, re) => {
      const res = await press(site.adminFetch, html, re);
      assert.equal(res.status, 302, `${re}: HTTP ${res.status}`);
      return page(res.headers.get('location'));
    };
    // The <select> element of a setting, options squeezed onto one line.
    const select = (html, name) => {
      const at = html.indexOf(`name="${name}`);
      assert.ok(at >= 0, `no field ${name}`);
      const from = html.lastIndexOf('<select', at);
      assert.ok(from >= 0 && html.indexOf('>', from) > at, `${name} is not a select`);
      return html.slice(from, html.indexOf('</select>', at) + 9).replace(/\s+/g, ' ');
    };
    // The form always posts the connection fields (a missing API base means the default: another POS).
    const save = (posted) => site.wpEval(`wp_set_current_user( 1 ); $errors = PosSync\\Store\\Settings::save_form( $args ); return array( $errors, PosSync\\Store\\Settings::all() );`, { api_base: 'http://127.0.0.1:9/API/V3', account_id: '1', client_id: 'fake', ...posted });
    const SETTINGS = '/wp-admin/admin.php?page=wc-settings&tab=pos_sync';

    before(async () => {
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: false });
      fs.mkdirSync(fakeDir());
      fs.copyFileSync(path.join(REPO_ROOT, 'tests', 'plugin', 'fake-sidecar.mjs'), path.join(fakeDir(), 'sidecar.mjs'));
      await site.wpEval(`update_option( 'pos_sync_site_test_sidecar', $args['sidecar'] );
        update_option( 'pos_sync_settings', array( 'api_base' => 'http://127.0.0.1:9/API/V3', 'account_id' => '1', 'client_id' => 'fake', 'client_secret' => 'cs-secret-1234', 'reconcile_every' => 'off' ) );
        PosSync\\Store\\Settings::save_tokens( null, 'rt-refresh-1234', 0 );
        update_option( 'woocommerce_bacs_settings', array( 'enabled' => 'yes' ) ); return true;`, { sidecar: path.join(fakeDir(), 'sidecar.mjs') });
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
    });

    test('before the lists are read: typed ID fields with a note to connect first', async () => {
      const html = await page(SETTINGS);
      assert.match(html, /<input[^>]+name="pos_sync_settings\[shop_ids\]"[^>]+type="text"/s);
      assert.match(html, /<input[^>]+name="pos_sync_settings\[register_id\]"/);
      assert.match(html, /Connect first \(Test connection\) to choose from the POS’s list/);
      assert.match(html, /id="pos-sync-lookups-summary">The lists of shops, registers, employees, payment types and tax classes have not been read from the POS yet/);
    });

    test('Test connection reads the lists too; the fields become selects of names', async () => {
      fake({ mode: 'ok', byKind: { lookups: { mode: 'ok', events: [{ type: 'lookups', lookups: LOOKUPS }] } } });
      const html = await pressAndFollow(await page(SETTINGS), /id="pos-sync-test-connection"/);
      assert.match(html, /id="pos-sync-test-result" class="notice notice-success inline"><p>Connected to the Lightspeed account “Fake Shop” \(ID 1\)\. Lists read from the POS at [^:]+:\d\d: 2 shops, 2 registers, 2 employees, 2 payment types, 2 tax classes\./);
      assert.equal(jobs('lookups').length, 1);
      const cached = await site.wpEval(`return get_option( 'pos_sync_lookups' );`);
      assert.deepEqual(cached.shops, LOOKUPS.shops);
      assert.equal(cached.registers[1].shop_id, '2');
      // Selects: shops to sum (multiple), the sale's shop, register (with its shop), employee, payment types per gateway + default.
      const shops = select(html, 'pos_sync_settings[shop_ids][]');
      assert.match(shops, /multiple="multiple"/);
      assert.match(shops, /<option value="1" >Main Street \(ID 1\)<\/option> <option value="2" >Harbour \(ID 2\)<\/option>/, shops);
      const shop = select(html, 'pos_sync_settings[pos_shop_id]');
      assert.match(shop, /<option value="" selected='selected' >not chosen: orders wait<\/option>/, shop);
      assert.match(select(html, 'pos_sync_settings[register_id]'), />Register 1 — Harbour \(ID 2\)<\/option>/);
      assert.match(select(html, 'pos_sync_settings[employee_id]'), />Web Store \(ID 3\)<\/option>/);
      assert.match(html, /Payment type for “Direct bank transfer”/);
      assert.match(select(html, 'pos_sync_settings[payment_type_map][bacs]'), />ECom \(ecom, ID 7\)<\/option>/);
      assert.match(select(html, 'pos_sync_settings[payment_type_map][default]'), />none: such orders need attention<\/option>/);
      assert.doesNotMatch(html, /name="pos_sync_settings\[payment_types\]"/);
      // One select per POS tax class, offering WooCommerce's classes.
      const reduced = select(html, 'pos_sync_settings[tax_class_map][3]');
      assert.match(reduced, /<option value="" selected='selected' >Standard rate<\/option> <option value="reduced-rate" >Reduced rate<\/option> <option value="zero-rate" >Zero rate<\/option>/, reduced);
      assert.match(html, /POS tax class “Item” \(ID 1\)/);
    });

    test('the tax class map: saved per POS class, checked against WooCommerce, sent to the core; a change restarts the publish pass', async () => {
      let [errors, s] = await save({ tax_class_map: { 3: 'reduced-rate', 1: '' } });
      assert.deepEqual(errors, []);
      assert.deepEqual(s.tax_class_map, { 3: 'reduced-rate' });
      assert.deepEqual(await site.wpEval(`return PosSync\\Apply\\Publisher::job_settings()['tax_classes'];`), { 3: 'reduced-rate' });
      [errors, s] = await save({ tax_class_map: { 3: 'gold-rate', x: 'zero-rate' } });
      assert.ok(errors.some((e) => /WooCommerce has no tax class “gold-rate” \(for POS tax class 3\); it has Standard rate, Reduced rate, Zero rate\. The previous choice is kept\./.test(e)), JSON.stringify(errors));
      assert.ok(errors.some((e) => /POS tax class IDs are whole numbers \(got “x”\)/.test(e)), JSON.stringify(errors));
      assert.deepEqual(s.tax_class_map, { 3: 'reduced-rate' }, 'kept');
      // A class deleted in WooCommerce falls back to the Standard rate and the tab says so.
      await site.wpEval(`$s = get_option( 'pos_sync_settings' ); $s['tax_class_map'] = array( '3' => 'reduced-rate', '1' => 'luxury' ); update_option( 'pos_sync_settings', $s ); return true;`);
      assert.deepEqual(await site.wpEval(`return PosSync\\Apply\\Publisher::job_settings()['tax_classes'];`), { 3: 'reduced-rate' });
      assert.match(select(await page(SETTINGS), 'pos_sync_settings[tax_class_map][1]'), /<option value="luxury" selected='selected' >“luxury” — no longer in WooCommerce: the Standard rate is used<\/option>/);

      // The listings were planned with other settings: the next publish run starts a new pass.
      const restart = (cursor) =>
        site.wpEval(`update_option( 'pos_sync_cursors', array( 'publish' => $args['cursor'] ) );
          $first = PosSync\\Apply\\Publisher::restart_on_new_plan(); $again = PosSync\\Apply\\Publisher::restart_on_new_plan();
          return array( $first, $again, PosSync\\Store\\Settings::cursors()['publish'] ?? null );`, { cursor });
      assert.deepEqual(await restart(null), [false, false, null], 'the first plan is recorded; no pass under way');
      await save({ tax_class_map: { 3: 'zero-rate' } });
      assert.deepEqual(await restart({ item: { ts: '2026-11-01T00:00:00+00:00', ids: ['4'] } }), [true, false, null], 'map changed since the last plan');
      await save({ price_level: 'online', publish_rule: 'ecom_flag' });
      const cursor = { item: { ts: '2026-11-02T00:00:00+00:00', ids: ['9'] } };
      assert.deepEqual(await restart(cursor), [true, false, null], 'price level changed');
      assert.deepEqual(await restart(cursor), [false, false, cursor], 'unchanged settings keep the cursor');
    });

    test('saving: chosen IDs must be in the lists; the register must be in the sale’s shop; the mapping is stored as pairs', async () => {
      let [errors, s] = await save({ shop_ids: ['2'], pos_shop_id: '1', register_id: '1', employee_id: '3', payment_type_map: { bacs: '7', default: '1' } });
      assert.deepEqual(errors, []);
      assert.equal(s.shop_ids, '2');
      assert.equal(s.pos_shop_id, '1');
      assert.equal(s.payment_types, 'bacs=7, default=1');
      assert.deepEqual(await site.wpEval(`return PosSync\\Store\\Settings::for_job()['shop_ids'];`), ['2']);

      [errors, s] = await save({ shop_ids: ['2', '9'], pos_shop_id: '5', register_id: '2', employee_id: '8', payment_type_map: { bacs: '4', default: '' } });
      const text = errors.join('\n');
      assert.match(text, /Shops to sum: ID 9 is not in the list read from the POS \(Main Street \(ID 1\), Harbour \(ID 2\)\); the previous value is kept\./);
      assert.match(text, /POS shop of web sales: ID 5 is not in the list read from the POS/);
      assert.match(text, /POS employee: ID 8 is not in the list/);
      assert.match(text, /Payment type for bacs: ID 4 is not in the list/);
      assert.match(text, /The register Register 1 — Harbour \(ID 2\) is in the shop Harbour \(ID 2\), not in the sale’s shop Main Street \(ID 1\)/);
      assert.equal(s.shop_ids, '2', 'kept');
      assert.equal(s.pos_shop_id, '1', 'kept');
      assert.equal(s.register_id, '1', 'kept');
      assert.equal(s.employee_id, '3', 'kept');
      assert.equal(s.payment_types, 'bacs=7', 'bacs kept, default emptied');

      // None chosen sums every shop.
      [errors, s] = await save({ pos_shop_id: '1' });
      assert.deepEqual(errors, []);
      assert.equal(s.shop_ids, '');
    });

    test('"Refresh lists from the POS" reads them again; a failure says so and keeps the old lists', async () => {
      const lists = { ...LOOKUPS, shops: [...LOOKUPS.shops, { id: '3', name: 'Pop-up' }] };
      fake({ mode: 'ok', byKind: { lookups: { mode: 'ok', events: [{ type: 'lookups', lookups: lists }] } } });
      let html = await pressAndFollow(await page(SETTINGS), /id="pos-sync-refresh-lookups"/);
      assert.match(html, /notice-success inline"><p>Lists read from the POS at [^:]+:\d\d: 3 shops/);
      assert.match(html, />Pop-up \(ID 3\)<\/option>/);
      fake({ mode: 'fail', code: 'network', message: 'could not reach Lightspeed: connection refused' });
      html = await pressAndFollow(html, /id="pos-sync-refresh-lookups"/);
      assert.match(html, /notice-error inline"><p>The lists of shops, registers, employees, payment types and tax classes could not be read from the POS: could not reach Lightspeed: connection refused/);
      assert.match(html, />Pop-up \(ID 3\)<\/option>/, 'the old lists stay');
      assert.equal(await site.wpEval(`return count( get_option( 'pos_sync_last_runs', array() ) );`), 0, 'lookups runs are not flows');
    });

    test('"Refresh lists from the POS" refuses a request without a valid nonce and a user without manage_woocommerce', async () => {
      const before = jobs('lookups').length;
      for (const nonce of [{}, { _wpnonce: '0123456789' }]) {
        const res = await site.adminFetch('/wp-admin/admin-post.php', { method: 'POST', body: new URLSearchParams({ action: 'pos_sync_refresh_lookups', ...nonce }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        assert.equal(res.status, 403, `nonce ${JSON.stringify(nonce)}: HTTP ${res.status}`);
      }
      const editor = await site.wpEval(`$uid = wp_insert_user( array( 'user_login' => 'ed2', 'user_pass' => wp_generate_password(), 'user_email' => 'ed2@example.com', 'role' => 'editor' ) );
        $exp = time() + DAY_IN_SECONDS; $token = WP_Session_Tokens::get_instance( $uid )->create( $exp );
        $cookies = array( AUTH_COOKIE => wp_generate_auth_cookie( $uid, $exp, 'auth', $token ), LOGGED_IN_COOKIE => wp_generate_auth_cookie( $uid, $exp, 'logged_in', $token ) );
        $_COOKIE[ LOGGED_IN_COOKIE ] = $cookies[ LOGGED_IN_COOKIE ]; wp_set_current_user( $uid );
        return array( 'cookie' => implode( '; ', array_map( fn( $k, $v ) => $k . '=' . $v, array_keys( $cookies ), $cookies ) ), 'nonce' => wp_create_nonce( 'pos_sync_refresh_lookups' ) );`);
      const res = await fetch(`${site.url}/wp-admin/admin-post.php`, { method: 'POST', body: new URLSearchParams({ action: 'pos_sync_refresh_lookups', _wpnonce: editor.nonce }).toString(), redirect: 'manual', headers: { cookie: editor.cookie, 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(res.status, 403);
      assert.equal(jobs('lookups').length, before, 'no run was started');
    });

    test('every other field says what is wrong and keeps the previous value', async () => {
      const good = await site.wpEval(`return PosSync\\Store\\Settings::all();`);
      const [errors, s] = await save({
        api_base: 'ftp://pos.example',
        token_url: 'not a url',
        account_id: 'my shop',
        client_id: 'has spaces in it',
        node_path: '/nowhere/node',
        shop_ids: '1, two',
        safety_buffer: '-3',
        log_days: '0',
        budget_seconds: '900',
        reconcile_every: 'monthly',
        shipping_item_id: 'ship',
        order_statuses: 'processing, paid-ish',
        reference_prefix: 'WEB #',
        max_attempts: '99',
        publish_rule: 'everything',
        publish_enabled: 'maybe',
        owned_fields: ['images', 'stock'],
      });
      const expect = [
        /“ftp:\/\/pos\.example” is not a valid http\(s\) URL/,
        /“not a url” is not a valid http\(s\) URL/,
        /account ID is a number.*“my shop”/,
        /client ID holds no spaces/,
        /Node\.js was not found at \/nowhere\/node/,
        /Shop IDs must be numbers separated by commas/,
        /safety buffer must be a whole number of 0 or more \(got “-3”\)/,
        /stock log must be kept for at least 1 day/,
        /time budget must be between 5 and 300 seconds/,
        /full reconcile runs hourly, daily, weekly or never/,
        /POS IDs are whole numbers \(got “ship”\)/,
        /Paid order statuses: “paid-ish” is not a WooCommerce order status \(known: pending, processing/,
        /reference prefix may hold up to 20 letters/,
        /Attempts before an order needs attention must be between 1 and 50/,
        /publish_rule: “everything” is not one of ecom_flag, category, tag, manual/,
        /publish_enabled: “maybe” is not one of yes, no/,
        /Fields kept in WooCommerce: “stock” is not one of/,
      ];
      for (const re of expect) assert.ok(errors.some((e) => re.test(e)), `${re} in ${JSON.stringify(errors, null, 1)}`);
      for (const key of ['api_base', 'token_url', 'account_id', 'client_id', 'shop_ids', 'safety_buffer', 'log_days', 'budget_seconds', 'reconcile_every', 'shipping_item_id', 'order_statuses', 'reference_prefix', 'max_attempts', 'publish_rule', 'publish_enabled']) {
        assert.deepEqual(s[key], good[key], `${key} kept`);
      }
      assert.deepEqual(s.owned_fields, ['images']);
    });

    test('no PHP notice in the debug log', () => {
      assert.deepEqual(site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
