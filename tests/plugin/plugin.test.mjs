// The plugin against real WordPress + WooCommerce + MariaDB: activation, settings,
// the runner (with a stand-in sidecar) and uninstall. One site for the whole file.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createSite, wordPressOrSkip, REPO_ROOT } from '../../scripts/lib/site.mjs';
import { press } from './forms.mjs';

const { skip } = await wordPressOrSkip();
const PLUGIN = 'pos-sync/pos-sync.php';

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('plugin', () => {
    let site;
    const fake = (cfg) => fs.writeFileSync(path.join(site.dir, 'fake', 'fake-sidecar.json'), JSON.stringify(cfg));
    const seen = () => JSON.parse(fs.readFileSync(path.join(site.dir, 'fake', 'fake-sidecar.seen.json'), 'utf8'));
    const phpNotices = () => site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal|Parse)/.test(l));

    before(async () => {
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), activate: false, log: false });
      fs.mkdirSync(path.join(site.dir, 'fake'));
      fs.copyFileSync(path.join(REPO_ROOT, 'tests', 'plugin', 'fake-sidecar.mjs'), path.join(site.dir, 'fake', 'sidecar.mjs'));
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
    });

    test('activation is refused with a clear message without WooCommerce', async () => {
      const r = await site.wpEval(`
        require_once ABSPATH . 'wp-admin/includes/plugin.php';
        deactivate_plugins( 'woocommerce/woocommerce.php' );
        $r = activate_plugin( '${PLUGIN}' );
        $out = array( 'error' => is_wp_error( $r ) ? wp_strip_all_tags( $r->get_error_message() ) : null, 'active' => is_plugin_active( '${PLUGIN}' ) );
        return $out;`);
      assert.equal(r.active, false);
      assert.match(r.error, /WooCommerce/);
      // Put WooCommerce back for what follows.
      const back = await site.wpEval(`require_once ABSPATH . 'wp-admin/includes/plugin.php'; activate_plugin( 'woocommerce/woocommerce.php' ); return is_plugin_active( 'woocommerce/woocommerce.php' );`);
      assert.equal(back, true);
    });

    test('activation with WooCommerce creates the tables and schedules the tick, with no PHP notice', async () => {
      site.clearDebugLog();
      const r = await site.wpEval(`
        require_once ABSPATH . 'wp-admin/includes/plugin.php';
        wp_set_current_user( 1 );
        $r = activate_plugin( '${PLUGIN}' );
        return array( 'error' => is_wp_error( $r ) ? $r->get_error_message() : null, 'active' => is_plugin_active( '${PLUGIN}' ) );`);
      assert.deepEqual(r, { error: null, active: true });
      const state = await site.wpEval(`global $wpdb; return array(
        'tables' => $wpdb->get_col( "SHOW TABLES LIKE '{$wpdb->prefix}pos\\\\_sync\\\\_%'" ),
        'next' => wp_next_scheduled( 'pos_sync_tick' ),
        'schedule' => wp_get_schedule( 'pos_sync_tick' ),
        'interval' => wp_get_schedules()['pos_sync_minute']['interval'] ?? null,
        'hpos_compatible' => in_array( '${PLUGIN}', wc_get_container()->get( Automattic\\WooCommerce\\Internal\\Features\\FeaturesController::class )->get_compatible_plugins_for_feature( 'custom_order_tables' )['compatible'], true ),
      );`);
      assert.deepEqual(state.tables.sort(), ['wp_pos_sync_catalogue', 'wp_pos_sync_outbox', 'wp_pos_sync_outbox_lines', 'wp_pos_sync_recheck', 'wp_pos_sync_stock_log']);
      assert.ok(state.next > 0);
      assert.equal(state.schedule, 'pos_sync_minute');
      assert.equal(state.interval, 60);
      assert.equal(state.hpos_compatible, true);
      for (const p of ['/wp-admin/', '/wp-admin/plugins.php', '/wp-admin/admin.php?page=wc-settings&tab=pos_sync', '/']) {
        const res = await (p === '/' ? fetch(site.url + p) : site.adminFetch(p));
        assert.equal(res.status, 200, p);
      }
      assert.deepEqual(phpNotices(), []);
    });

    test('settings save validates, keeps blank secrets and never renders them', async () => {
      const page = '/wp-admin/admin.php?page=wc-settings&tab=pos_sync';
      const form = async (fields) => {
        const html = await (await site.adminFetch(page)).text();
        const nonce = html.match(/name="_wpnonce" value="([^"]+)"/)[1];
        const body = new URLSearchParams({ _wpnonce: nonce, _wp_http_referer: page, save: 'Save changes' });
        for (const [k, v] of Object.entries(fields)) body.set(`pos_sync_settings[${k}]`, v);
        const res = await site.adminFetch(page, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        return res.text();
      };
      const all = {
        api_base: 'http://127.0.0.1:9/API/V3',
        token_url: 'http://127.0.0.1:9/auth/oauth/token',
        account_id: '1',
        client_id: 'pos-sync-demo',
        client_secret: 'SECRET-client-4711',
        refresh_token: 'SECRET-refresh-0815',
        shop_ids: '1, 2',
        safety_buffer: '2',
        node_path: '',
        budget_seconds: '25',
      };
      let html = await form(all);
      assert.doesNotMatch(html, /SECRET-/);
      assert.match(html, /saved — leave blank to keep/);
      assert.match(html, /Test connection/);
      const stored = await site.wpEval(`return array( PosSync\\Store\\Settings::all(), PosSync\\Store\\Settings::tokens(), PosSync\\Store\\Settings::is_configured() );`);
      assert.equal(stored[0].client_secret, 'SECRET-client-4711');
      assert.equal(stored[0].shop_ids, '1,2');
      assert.equal(stored[0].safety_buffer, 2);
      assert.equal(stored[1].refresh_token, 'SECRET-refresh-0815');
      assert.equal(stored[2], true);

      // Blank secrets keep the stored ones; a bad buffer is refused and the old one kept.
      html = await form({ ...all, client_secret: '', refresh_token: '', safety_buffer: '-3' });
      assert.doesNotMatch(html, /SECRET-/);
      assert.match(html, /safety buffer must be a whole number/i);
      const again = await site.wpEval(`return array( PosSync\\Store\\Settings::all(), PosSync\\Store\\Settings::tokens() );`);
      assert.equal(again[0].client_secret, 'SECRET-client-4711');
      assert.equal(again[1].refresh_token, 'SECRET-refresh-0815');
      assert.equal(again[0].safety_buffer, 2);
      // The plain page (GET) does not carry them either.
      assert.doesNotMatch(await (await site.adminFetch(page)).text(), /SECRET-/);
    });

    test('the connection test needs a nonce and shows the result without secrets', async () => {
      await site.wpEval(`update_option( 'pos_sync_site_test_sidecar', $args ); return true;`, path.join(site.dir, 'fake', 'sidecar.mjs'));
      fake({ mode: 'ok' });
      const bad = await site.adminFetch('/wp-admin/admin-post.php?action=pos_sync_test_connection');
      assert.notEqual(bad.status, 302);
      const html = await (await site.adminFetch('/wp-admin/admin.php?page=wc-settings&tab=pos_sync')).text();
      let res = await press(site.adminFetch, html, /id="pos-sync-test-connection"/);
      assert.equal(res.status, 302);
      let page = await (await site.adminFetch(res.headers.get('location'))).text();
      assert.match(page, /Connected to the Lightspeed account “Fake Shop” \(ID 1\)/);
      assert.equal(seen().byKind.test_connection.length, 1);
      assert.equal(seen().job.kind, 'lookups', 'a successful test reads the pick-lists next');

      fake({ mode: 'fail' });
      res = await press(site.adminFetch, html, /id="pos-sync-test-connection"/);
      page = await (await site.adminFetch(res.headers.get('location'))).text();
      assert.match(page, /Connection failed: POS refused the client secret \*\*\*/);
      assert.doesNotMatch(page, /SECRET-/);
    });

    test('a sync run: job, token rotation acknowledged, stock applied, cursor kept', async () => {
      const id = await site.wpEval(`$p = new WC_Product_Simple(); $p->set_name( 'Runner mug' ); $p->set_sku( 'RUN-1' ); $p->set_manage_stock( true ); $p->set_stock_quantity( 1 ); return $p->save();`);
      fake({
        mode: 'ok',
        token: { access_token: 'SECRET-access-new', refresh_token: 'SECRET-refresh-new', expires_at_ms: 1893456000000 },
        stock: [{ levels: [{ item_id: '501', sku: 'RUN-1', shop_qoh: { 1: 4, 2: 5 }, qoh: 9, base: 7 }], cursor: { ts: '2026-01-01T00:00:00+00:00', ids: ['501'] } }],
      });
      const run = await site.wpEval(`return PosSync\\Jobs\\Runner::run( 'sync' );`);
      assert.equal(run.ok, true, run.error);
      const s = seen();
      assert.equal(s.job.v, 1);
      assert.equal(s.job.kind, 'sync');
      assert.deepEqual(s.job.settings.shop_ids, ['1', '2']);
      assert.equal(s.job.settings.safety_buffer, 2);
      assert.equal(s.job.tokens.refresh_token, 'SECRET-refresh-0815');
      assert.ok(s.job.budget_ms >= 5000);
      assert.deepEqual(s.acks, [{ v: 1, type: 'token_saved', refresh_token: 'SECRET-refresh-new' }]);
      const after = await site.wpEval(`return array( PosSync\\Store\\Settings::tokens(), wc_get_product( $args )->get_stock_quantity(), PosSync\\Store\\Settings::cursors(), get_option( 'pos_sync_last_run' )['ok'] );`, id);
      assert.equal(after[0].refresh_token, 'SECRET-refresh-new');
      assert.equal(after[1], 7);
      assert.deepEqual(after[2].item_shop, { ts: '2026-01-01T00:00:00+00:00', ids: ['501'] });
      assert.equal(after[3], true);
      // Secrets never reach the WooCommerce log.
      const logs = await site.wpEval(`$out = ''; foreach ( glob( WC_LOG_DIR . 'pos-sync-*.log' ) as $f ) { $out .= file_get_contents( $f ); } return $out;`);
      assert.match(logs, /fake run done/);
      assert.doesNotMatch(logs, /SECRET-/);
    });

    test('WP-Cron runs the tick; two ticks never run at once', async () => {
      fake({ mode: 'ok', sleepMs: 2500 });
      await site.wpEval(`wp_clear_scheduled_hook( 'pos_sync_tick' ); wp_schedule_event( time() - 1, 'pos_sync_minute', 'pos_sync_tick' ); return true;`);
      fs.rmSync(path.join(site.dir, 'fake', 'fake-sidecar.seen.json'), { force: true });
      const first = site.runCron({ hooks: ['pos_sync_tick'] });
      // Wait until the first run's sidecar holds the job (so the lock is taken).
      for (let i = 0; i < 200 && !fs.existsSync(path.join(site.dir, 'fake', 'fake-sidecar.seen.json')); i++) await new Promise((r) => setTimeout(r, 50));
      const second = await site.wpEval(`return PosSync\\Jobs\\Runner::run( 'sync' );`);
      assert.equal(second.busy, true);
      assert.deepEqual(await first, ['pos_sync_tick']);
      const last = await site.wpEval(`return get_option( 'pos_sync_last_run' );`);
      assert.equal(last.ok, true);
      assert.ok(last.finished_at - last.started_at >= 2);
      assert.ok((await site.wpEval(`return wp_next_scheduled( 'pos_sync_tick' );`)) > Date.now() / 1000);
    });

    test('a hung sidecar is stopped at its hard timeout and the cause is shown', async () => {
      fake({ mode: 'hang' });
      await site.wpEval(`update_option( 'pos_sync_site_test_margin', 1 ); $s = get_option( 'pos_sync_settings' ); $s['budget_seconds'] = 5; update_option( 'pos_sync_settings', $s ); return true;`);
      const t0 = Date.now();
      const run = await site.wpEval(`return PosSync\\Jobs\\Runner::run( 'sync' );`);
      const took = (Date.now() - t0) / 1000;
      assert.equal(run.ok, false);
      assert.match(run.error, /exceeded its time budget/);
      assert.ok(took >= 6 && took < 15, `took ${took} s`);
      const html = await (await site.adminFetch('/wp-admin/')).text();
      assert.match(html, /POS Sync:.*the last sync .* failed: The sidecar exceeded its time budget/s);
    });

    test('a crashing sidecar or a missing node is named in the admin notice', async () => {
      fake({ mode: 'crash' });
      let run = await site.wpEval(`return PosSync\\Jobs\\Runner::run( 'sync' );`);
      assert.match(run.error, /exit code 1: Error: Cannot find module/);
      await site.wpEval(`$s = get_option( 'pos_sync_settings' ); $s['node_path'] = '/nonexistent/bin/node'; update_option( 'pos_sync_settings', $s ); return true;`);
      run = await site.wpEval(`return PosSync\\Jobs\\Runner::run( 'sync' );`);
      assert.match(run.error, /Node\.js was not found at \/nonexistent\/bin\/node/);
      const html = await (await site.adminFetch('/wp-admin/')).text();
      assert.match(html, /Node\.js was not found at \/nonexistent\/bin\/node/);
      await site.wpEval(`$s = get_option( 'pos_sync_settings' ); $s['node_path'] = ''; $s['budget_seconds'] = 25; update_option( 'pos_sync_settings', $s ); return true;`);
    });

    test('the plugin stays inert when WooCommerce is deactivated later', async () => {
      site.clearDebugLog();
      await site.wpEval(`require_once ABSPATH . 'wp-admin/includes/plugin.php'; deactivate_plugins( 'woocommerce/woocommerce.php' ); return true;`);
      const res = await site.adminFetch('/wp-admin/plugins.php');
      assert.equal(res.status, 200);
      assert.match(await res.text(), /POS Sync for WooCommerce needs WooCommerce 9\.0 or later to be active/);
      assert.ok(!(await site.runCron()).includes('pos_sync_tick')); // nothing of ours runs
      assert.deepEqual(phpNotices(), []);
      await site.wpEval(`require_once ABSPATH . 'wp-admin/includes/plugin.php'; activate_plugin( 'woocommerce/woocommerce.php' ); return true;`);
    });

    test('uninstall removes options, tables, scheduled events and product meta', async () => {
      const r = await site.wpEval(`
        require_once ABSPATH . 'wp-admin/includes/plugin.php';
        deactivate_plugins( '${PLUGIN}' );
        wp_schedule_event( time() + 60, 'hourly', 'pos_sync_tick' );
        uninstall_plugin( '${PLUGIN}' );
        global $wpdb;
        return array(
          'tables'  => $wpdb->get_col( "SHOW TABLES LIKE '{$wpdb->prefix}pos\\\\_sync\\\\_%'" ),
          'options' => $wpdb->get_col( "SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE 'pos\\\\_sync\\\\_%' AND option_name NOT LIKE 'pos\\\\_sync\\\\_site\\\\_%'" ),
          'meta'    => (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->postmeta} WHERE meta_key LIKE '\\\\_pos\\\\_sync\\\\_%'" ),
          'cron'    => wp_next_scheduled( 'pos_sync_tick' ),
        );`);
      assert.deepEqual(r, { tables: [], options: [], meta: 0, cron: false });
    });
  });
}
