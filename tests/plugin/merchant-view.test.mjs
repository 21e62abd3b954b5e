// The merchant's view against real WordPress + WooCommerce, with the stand-in sidecar
// (fake-sidecar.mjs): the stock differences report and its reasons, "Fix" and the dry
// run, the status page, the WP-CLI command class; every admin action refuses a user
// without manage_woocommerce and a request without a valid nonce; no page or log holds
// the client secret or a token. One site for the whole file.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createSite, wordPressOrSkip, REPO_ROOT } from '../../scripts/lib/site.mjs';
import { press } from './forms.mjs';

const { skip } = await wordPressOrSkip();

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('merchant view: report, status, CLI, guards, secrets', () => {
    let site;
    let ids;
    const SECRET = 'cs-Secret-7f3a9d';
    const REFRESH = 'rt-Refresh-51c2e0';
    const ROTATED = { access_token: 'at-Access-9b8e77', refresh_token: 'rt-Rotated-a1d4c3', expires_at_ms: Date.now() + 3600_000 };
    const fakeDir = () => path.join(site.dir, 'fake');
    const fake = (cfg) => fs.writeFileSync(path.join(fakeDir(), 'fake-sidecar.json'), JSON.stringify(cfg));
    const jobs = (kind) => {
      const f = path.join(fakeDir(), 'fake-sidecar.seen.json');
      return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')).byKind[kind] || [] : [];
    };
    const level = (item, sku, qoh) => ({ item_id: item, sku, shop_qoh: { 1: qoh - 1, 2: 1 }, qoh, base: qoh, read_from_ms: 'now' });
    const reportRows = () => site.wpEval(`wp_cache_flush(); return PosSync\\Admin\\Report::rows();`);
    const rowOf = (rows, id) => rows.find((r) => r.product_id === id);
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
    const follow = async (url) => {
      const res = await site.adminFetch(url);
      assert.equal(res.status, 302, `${url}: HTTP ${res.status}`);
      return page(res.headers.get('location'));
    };

    before(async () => {
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: false });
      fs.mkdirSync(fakeDir());
      fs.copyFileSync(path.join(REPO_ROOT, 'tests', 'plugin', 'fake-sidecar.mjs'), path.join(fakeDir(), 'sidecar.mjs'));
      await site.wpEval(`update_option( 'pos_sync_site_test_sidecar', $args['sidecar'] );
        update_option( 'pos_sync_settings', array( 'api_base' => 'http://127.0.0.1:9/API/V3', 'account_id' => '1', 'client_id' => 'fake', 'client_secret' => $args['secret'], 'reconcile_every' => 'off' ) );
        PosSync\\Store\\Settings::save_tokens( null, $args['refresh'], 0 ); return true;`, { sidecar: path.join(fakeDir(), 'sidecar.mjs'), secret: SECRET, refresh: REFRESH });
      ids = await site.wpEval(`$out = array();
        foreach ( array( 'TEE' => array( '801', true ), 'MUG' => array( '802', true ), 'CAP' => array( '803', false ) ) as $sku => $def ) {
          $p = new WC_Product_Simple(); $p->set_name( 'Linked ' . $sku ); $p->set_sku( $sku ); $p->set_regular_price( '10' ); $p->set_manage_stock( $def[1] ); $p->set_stock_quantity( 0 );
          $id = $p->save(); update_post_meta( $id, '_pos_sync_item_id', $def[0] ); $out[ $sku ] = $id;
        }
        $p = new WC_Product_Simple(); $p->set_name( 'Web only' ); $p->set_sku( 'WEB-ONLY' ); $p->set_regular_price( '5' ); $p->set_manage_stock( true ); $p->set_stock_quantity( 4 ); $out['WEB'] = $p->save();
        return $out;`);
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
    });

    test('a sync stores the POS reading; the product screen shows it per shop; nothing differs', async () => {
      fake({ mode: 'ok', token: ROTATED, stock: [{ levels: [level('801', 'TEE', 12), level('802', 'MUG', 7)], cursor: { ts: '2026-05-01T00:00:00+00:00', ids: ['x'] } }] });
      const queued = await pressAndFollow(await page('/wp-admin/admin.php?page=pos-sync'), /id="pos-sync-sync-now"/);
      assert.match(queued, /id="pos-sync-flash" class="notice notice-success"><p>Sync now: queued; it runs in the background/);
      await site.runCron({ hooks: ['pos_sync_background'] });
      assert.match(await page('/wp-admin/admin.php?page=pos-sync'), /data-task="sync" data-state="done"><th>Sync now<\/th><td><strong>done<\/strong> [^<]+ Sync done: 2 stock figures written/);
      const reading = await site.wpEval(`return get_post_meta( $args, '_pos_sync_last_reading', true );`, ids.TEE);
      assert.equal(reading.base, 12);
      assert.deepEqual(reading.shop_qoh, { 1: 11, 2: 1 });
      const box = await page(`/wp-admin/post.php?post=${ids.TEE}&action=edit`);
      assert.match(box, /Managed by POS/);
      assert.match(box, /POS item 801/);
      assert.match(box, /<tr><td>1<\/td><td>11<\/td><\/tr><tr><td>2<\/td><td>1<\/td><\/tr>/);
      assert.match(box, /Last sync: \d{4}-/);
      const rows = await reportRows();
      assert.equal(rowOf(rows, ids.TEE), undefined, 'TEE is what the POS says');
      assert.equal(rowOf(rows, ids.MUG), undefined);
    });

    test('the report names each reason: hand edit (when, who), pending order, not managing stock, not linked, waiting, failed pull', async () => {
      await site.rest('PUT', `/wc/v3/products/${ids.TEE}`, { stock_quantity: 40 });
      await site.rest('POST', '/wc/v3/orders', { status: 'processing', set_paid: true, line_items: [{ product_id: ids.MUG, quantity: 2 }], billing: { email: 'b@example.com' } });
      let rows = await reportRows();
      const tee = rowOf(rows, ids.TEE);
      assert.equal(tee.web, 40);
      assert.equal(tee.expected, 12);
      assert.match(tee.reasons.join(' '), /Edited in WooCommerce at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d by admin \(REST API\): stock set to 40/);
      assert.match(tee.reasons.join(' '), /Waiting for the next run/);
      const mug = rowOf(rows, ids.MUG);
      assert.equal(mug.web, 5, 'the order took 2 off');
      assert.equal(mug.expected, 5, 'the formula holds');
      assert.equal(mug.pos, 7);
      assert.match(mug.reasons.join(' '), /1 online order or refund not yet in the POS \(-2 units/);
      assert.match(rowOf(rows, ids.CAP).reasons[0], /not managing stock/);
      assert.match(rowOf(rows, ids.WEB).reasons[0], /Not linked: created in WooCommerce only/);
      // A failed pull is named.
      fake({ mode: 'fail', code: 'pos_unavailable', message: 'POS answered 503' });
      await site.wpEval(`PosSync\\Jobs\\Runner::run( 'sync' ); return true;`);
      rows = await reportRows();
      assert.match(rowOf(rows, ids.TEE).reasons.join(' '), /Last pull failed \(.*\): POS answered 503/);
      // The page shows the same, with a Fix link per fixable row.
      const html = await page('/wp-admin/admin.php?page=pos-sync&tab=report');
      assert.match(html, new RegExp(`data-product="${ids.TEE}" data-kind="linked">.*Edited in WooCommerce.*class="button pos-sync-fix" data-item="801"`));
      // The dry run (in the background) lists what a reconcile would change, and changes nothing.
      await pressAndFollow(html, /id="pos-sync-dry-run"/);
      await site.runCron({ hooks: ['pos_sync_background'] });
      const dry = await page('/wp-admin/admin.php?page=pos-sync&tab=report');
      assert.match(dry, /id="pos-sync-dry-run-table".*<td>Linked TEE<\/td><td>TEE<\/td><td>801<\/td><td>40<\/td><td>12<\/td>/s);
      assert.equal(await site.wpEval(`wp_cache_flush(); return wc_get_product( $args )->get_stock_quantity();`, ids.TEE), 40);
      const cli = await site.wpEval(`ob_start(); $r = ( new PosSync\\Admin\\Cli() )->reconcile( array(), array( 'dry-run' => true ) ); return array( ob_get_clean(), $r );`);
      assert.match(cli[0], new RegExp(`product #${ids.TEE} \\(SKU TEE, POS item 801\\): 40 -> 12`));
      assert.match(cli[0], /1 change\(s\); nothing was changed \(dry run\)/);
    });

    test('"Fix" reads the item afresh and syncs now: the row is gone; CLI status and report agree', async () => {
      fake({ mode: 'ok', stock: [{ levels: [level('801', 'TEE', 12)], cursor: { recheck: ['801'] } }] });
      await pressAndFollow(await page('/wp-admin/admin.php?page=pos-sync&tab=report'), /class="button pos-sync-fix" data-item="801"/);
      await site.runCron({ hooks: ['pos_sync_background'] });
      assert.match(await page('/wp-admin/admin.php?page=pos-sync'), /data-task="sync" data-state="done">.*Sync done: 1 stock figures written, 0 unchanged, 1 hand edits overwritten/);
      const html = await page('/wp-admin/admin.php?page=pos-sync&tab=report');
      assert.deepEqual(jobs('sync').at(-1).recheck_item_ids, ['801']);
      assert.equal(await site.wpEval(`wp_cache_flush(); return wc_get_product( $args )->get_stock_quantity();`, ids.TEE), 12);
      assert.doesNotMatch(html, new RegExp(`data-product="${ids.TEE}"`));
      const cli = await site.wpEval(`ob_start(); $s = ( new PosSync\\Admin\\Cli() )->status(); $r = ( new PosSync\\Admin\\Cli() )->report(); return array( ob_get_clean(), $s['outbox'], count( $r ) );`);
      assert.match(cli[0], /sync: ok at /);
      assert.match(cli[0], /outbox: 1 waiting, 0 needing attention, 0 in the POS/);
      assert.match(cli[0], /MUG.*1 online order or refund not yet in the POS/);
      // The status page: flows, outbox, token health (never the token), buttons.
      const status = await page('/wp-admin/admin.php?page=pos-sync');
      assert.match(status, /data-flow="sync"><td>Stock from the POS<\/td><td>[^<]+<\/td><td>OK<\/td>/);
      assert.match(status, /id="pos-sync-outbox-counts">0 held for stock \(sent when paid\), 1 waiting to be sent, 0 needing attention, 0 in the POS, 0 cancelled \(never sent\), 0 entered in the POS by hand\./);
      assert.match(status, /id="pos-sync-token">Refresh token saved\. Access token expires: \d{4}-.*Last refresh: \d{4}-/);
      assert.match(status, /id="pos-sync-full-reconcile"/);
    });

    test('the WP-Cron health check warns when no tick ran for a while and says how to use a real cron or the CLI', async () => {
      await site.wpEval(`update_option( 'pos_sync_last_tick', time() - 3600 ); return true;`);
      const html = await page('/wp-admin/admin.php?page=pos-sync');
      assert.match(html, /id="pos-sync-cron-warning".*WP-Cron has not run POS Sync for a while.*wp-cron\.php\?doing_wp_cron.*pos-sync sync/s);
      await site.wpEval(`do_action( 'pos_sync_tick' ); return true;`);
      assert.doesNotMatch(await page('/wp-admin/admin.php?page=pos-sync'), /pos-sync-cron-warning/);
    });

    test('the status page shows the import progress and the orders needing attention with "Retry now"; CLI retry makes them due', async () => {
      await site.wpEval(`global $wpdb; $wpdb->query( "UPDATE {$wpdb->prefix}pos_sync_outbox SET state = 'attention', attempts = 8, last_error = 'totals_mismatch: order total differs' WHERE id = 1" );
        update_option( 'pos_sync_publish_progress', array( 'done' => 40, 'total' => 160, 'rate' => 2.5, 'seconds_left' => 48, 'finished' => false, 'at' => time() ) ); return true;`);
      const html = await page('/wp-admin/admin.php?page=pos-sync');
      assert.match(html, /id="pos-sync-outbox-counts">0 held for stock \(sent when paid\), 0 waiting to be sent, 1 needing attention, 0 in the POS, 0 cancelled \(never sent\), 0 entered in the POS by hand\./);
      assert.match(html, /totals_mismatch: order total differs.*<button type="submit" class="button button-small pos-sync-retry" form="pos-sync-outbox-form" name="pos_sync_row" value="retry:1">Retry now<\/button>/s);
      assert.match(html, /<progress id="pos-sync-import" max="160" value="40"[^>]*><\/progress>/);
      assert.match(html, /40 of 160 items; 2\.5 items\/s; 48 seconds left\./);
      const cli = await site.wpEval(`ob_start(); $ids = ( new PosSync\\Admin\\Cli() )->retry(); global $wpdb; return array( ob_get_clean(), $ids, $wpdb->get_var( "SELECT state FROM {$wpdb->prefix}pos_sync_outbox WHERE id = 1" ) );`);
      assert.match(cli[0], /1 row\(s\) made due/);
      assert.deepEqual(cli[1], [1]);
      assert.equal(cli[2], 'retry');
    });

    test('every admin action refuses a request without a valid nonce and a user without manage_woocommerce', async () => {
      const actions = ['pos_sync_sync_now', 'pos_sync_full_reconcile', 'pos_sync_report_fix', 'pos_sync_report_fix&item_id=801', 'pos_sync_test_connection', 'pos_sync_reconcile_now', 'pos_sync_outbox_action&pos_sync_row=retry:1', 'pos_sync_site_is_live', 'pos_sync_dry_run', 'pos_sync_refresh_lookups'];
      const nonceOf = { pos_sync_dry_run: 'pos_sync_dry_run', pos_sync_refresh_lookups: 'pos_sync_refresh_lookups', pos_sync_sync_now: 'pos_sync_sync_now', pos_sync_full_reconcile: 'pos_sync_full_reconcile', pos_sync_report_fix: 'pos_sync_report_fix_all', 'pos_sync_report_fix&item_id=801': 'pos_sync_report_fix_801', pos_sync_test_connection: 'pos_sync_test_connection', pos_sync_reconcile_now: 'pos_sync_reconcile_now', 'pos_sync_outbox_action&pos_sync_row=retry:1': 'pos_sync_outbox_action', pos_sync_site_is_live: 'pos_sync_site_is_live' };
      const before = { sync: jobs('sync').length, reconcile: jobs('reconcile').length, test: jobs('test_connection').length };
      const state = () => site.wpEval(`return array( PosSync\\Store\\Ledger::recheck_item_ids(), get_option( 'pos_sync_reconcile' ) );`);
      const was = await state();
      // Actions are POST forms: the fields of each, as posted.
      const post = (fetcher, a, extra) =>
        fetcher(`${site.url}/wp-admin/admin-post.php`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ ...Object.fromEntries(new URLSearchParams(`action=${a}`)), ...extra }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      // Admin, no nonce / a wrong nonce.
      for (const a of actions) {
        for (const nonce of [{}, { _wpnonce: '0123456789' }]) {
          const res = await post(site.adminFetch, a, nonce);
          assert.equal(res.status, 403, `${a} ${JSON.stringify(nonce)}: HTTP ${res.status}`);
        }
      }
      // An editor (in wp-admin, without manage_woocommerce), with nonces valid for them.
      const editor = await site.wpEval(`$uid = wp_insert_user( array( 'user_login' => 'ed', 'user_pass' => wp_generate_password(), 'user_email' => 'ed@example.com', 'role' => 'editor' ) );
        $exp = time() + DAY_IN_SECONDS; $token = WP_Session_Tokens::get_instance( $uid )->create( $exp );
        $cookies = array( AUTH_COOKIE => wp_generate_auth_cookie( $uid, $exp, 'auth', $token ), LOGGED_IN_COOKIE => wp_generate_auth_cookie( $uid, $exp, 'logged_in', $token ) );
        $_COOKIE[ LOGGED_IN_COOKIE ] = $cookies[ LOGGED_IN_COOKIE ]; wp_set_current_user( $uid );
        $nonces = array(); foreach ( $args as $k => $n ) { $nonces[ $k ] = wp_create_nonce( $n ); }
        return array( 'cookie' => implode( '; ', array_map( fn( $k, $v ) => $k . '=' . $v, array_keys( $cookies ), $cookies ) ), 'nonces' => $nonces, 'can' => user_can( $uid, 'manage_woocommerce' ) );`, nonceOf);
      assert.equal(editor.can, false);
      for (const a of actions) {
        const res = await post((u, init) => fetch(u, { ...init, headers: { ...init.headers, cookie: editor.cookie } }), a, { _wpnonce: editor.nonces[a] });
        assert.equal(res.status, 403, `editor ${a}: HTTP ${res.status}`);
      }
      const pageRes = await fetch(`${site.url}/wp-admin/admin.php?page=pos-sync&tab=report`, { redirect: 'manual', headers: { cookie: editor.cookie } });
      assert.equal(pageRes.status, 403, 'the page itself');
      assert.deepEqual({ sync: jobs('sync').length, reconcile: jobs('reconcile').length, test: jobs('test_connection').length }, before, 'no run was started');
      assert.deepEqual(await state(), was, 'nothing changed');
    });

    test('no rendered admin page nor log holds the client secret or a token', async () => {
      // Runs that see the secrets: a rotated pair, and an error message holding the client secret.
      fake({ mode: 'ok', token: ROTATED, stock: [] });
      await site.wpEval(`PosSync\\Jobs\\Runner::run( 'sync' ); return true;`);
      fake({ mode: 'fail', code: 'credentials' });
      await site.wpEval(`PosSync\\Jobs\\Runner::run( 'sync' ); return true;`);
      const tokens = await site.wpEval(`return PosSync\\Store\\Settings::tokens();`);
      assert.equal(tokens.refresh_token, ROTATED.refresh_token);
      const order = await site.wpEval(`return wc_get_orders( array( 'limit' => 1 ) )[0]->get_id();`);
      const pages = [
        '/wp-admin/admin.php?page=wc-settings&tab=pos_sync',
        '/wp-admin/admin.php?page=wc-settings&tab=pos_sync&section=log',
        '/wp-admin/admin.php?page=pos-sync',
        '/wp-admin/admin.php?page=pos-sync&tab=report',
        '/wp-admin/admin.php?page=pos-sync&tab=report&dry_run=1',
        `/wp-admin/post.php?post=${ids.TEE}&action=edit`,
        `/wp-admin/admin.php?page=wc-orders&action=edit&id=${order}`,
        '/wp-admin/',
        '/wp-admin/admin.php?page=wc-status',
      ];
      const secrets = [SECRET, REFRESH, ROTATED.access_token, ROTATED.refresh_token];
      for (const p of pages) {
        const html = await page(p);
        for (const s of secrets) assert.ok(!html.includes(s), `${p} holds a secret`);
      }
      assert.match(await page('/wp-admin/'), /POS Sync:.*failed: POS refused the client secret \*\*\*/s);
      assert.match(await page('/wp-admin/admin.php?page=wc-status'), /id="pos-sync-system-status".*Node\.js:.*Outbox waiting:/s);
      const logDir = path.join(site.wpDir, 'wp-content', 'uploads', 'wc-logs');
      const logs = fs.existsSync(logDir) ? fs.readdirSync(logDir).filter((f) => f.endsWith('.log')).map((f) => fs.readFileSync(path.join(logDir, f), 'utf8')).join('\n') : '';
      assert.match(logs, /pos-sync|Run \d{8}-/, 'the WooCommerce log has our lines');
      for (const s of secrets) {
        assert.ok(!logs.includes(s), 'WooCommerce log holds a secret');
        assert.ok(!site.debugLog().includes(s), 'debug.log holds a secret');
      }
    });

    test('no PHP notice in the debug log', () => {
      assert.deepEqual(site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
