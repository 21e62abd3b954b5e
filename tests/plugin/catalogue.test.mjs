// Products → POS items against real WordPress + WooCommerce: every listing the publish
// flow sees lands in the catalogue table with why it is (not) on the web; under the
// "These POS items" rule the merchant picks and drops items there, and only those
// listings are planned again (the job's `replan`, sent through the stand-in sidecar).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createSite, wordPressOrSkip, REPO_ROOT } from '../../scripts/lib/site.mjs';

const { skip } = await wordPressOrSkip();

const listing = (key, over = {}) => ({
  key,
  type: 'simple',
  item_id: key.split(':')[1],
  name: `Thing ${key}`,
  description: '',
  short_description: '',
  sku: `SKU-${key.split(':')[1]}`,
  regular_price: '10.00',
  sale_price: null,
  weight: null,
  dimensions: { length: null, width: null, height: null },
  tax_status: 'taxable',
  tax_class: '',
  categories: [],
  images: [],
  visibility: 'publish',
  pos_timestamp: '2026-11-01T10:00:00+00:00',
  base: 3,
  owned_by_woo: [],
  fingerprint: `fp-${key}-${over.visibility ?? 'publish'}`,
  fingerprints: { name: 'n', visibility: over.visibility ?? 'publish', stock: 's' },
  ...over,
});

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('catalogue: Products → POS items', () => {
    let site;
    const PAGE = '/wp-admin/edit.php?post_type=product&page=pos-sync-items';
    const fakeDir = () => path.join(site.dir, 'fake');
    const fake = (cfg) => fs.writeFileSync(path.join(fakeDir(), 'fake-sidecar.json'), JSON.stringify(cfg));
    const jobs = (kind) => {
      const f = path.join(fakeDir(), 'fake-sidecar.seen.json');
      return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')).byKind[kind] || [] : [];
    };
    const page = async (q = '') => (await site.adminFetch(PAGE + q)).text();
    const setRule = (rule, ids = '') =>
      site.wpEval(`$s = get_option( 'pos_sync_settings' ); $s['publish_rule'] = $args[0]; $s['publish_ids'] = $args[1]; update_option( 'pos_sync_settings', $s ); return true;`, [rule, ids]);
    const bulk = async (html, action, keys, { nonce } = {}) => {
      const body = new URLSearchParams({ action, _wpnonce: nonce ?? html.match(/id="_wpnonce" name="_wpnonce" value="([^"]+)"/)[1], _wp_http_referer: PAGE });
      for (const k of keys) body.append('pos_key[]', k);
      return site.adminFetch(PAGE, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    };

    before(async () => {
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: false });
      fs.mkdirSync(fakeDir());
      fs.copyFileSync(path.join(REPO_ROOT, 'tests', 'plugin', 'fake-sidecar.mjs'), path.join(fakeDir(), 'sidecar.mjs'));
      await site.wpEval(
        `update_option( 'pos_sync_site_test_sidecar', $args['sidecar'] );
        update_option( 'pos_sync_settings', array( 'api_base' => 'http://127.0.0.1:9/API/V3', 'account_id' => '1', 'client_id' => 'fake', 'client_secret' => 'cs-x', 'publish_enabled' => 'yes', 'publish_rule' => 'ecom_flag', 'reconcile_every' => 'off' ) );
        PosSync\\Store\\Settings::save_tokens( null, 'rt-x', 0 );
        $p = new PosSync\\Apply\\Publisher( 'catalogue-test' );
        foreach ( $args['events'] as $e ) { $p->apply_product_event( $e ); }
        return $p->counts;`,
        {
          sidecar: path.join(fakeDir(), 'sidecar.mjs'),
          events: [
            { type: 'product', product: listing('item:1', { name: 'Blue Mug' }) },
            { type: 'product', product: listing('item:2', { name: 'Canvas Tote', visibility: 'hidden', hidden_reason: 'not_selected' }) },
            { type: 'product', product: listing('item:4', { name: 'Old Tee', visibility: 'hidden', hidden_reason: 'archived' }) },
            {
              type: 'product',
              product: listing('matrix:3', {
                type: 'variable',
                item_id: undefined,
                matrix_id: '3',
                name: 'Crew Tee',
                sku: '',
                base: undefined,
                visibility: 'hidden',
                hidden_reason: 'not_selected',
                attributes: [{ name: 'Size', options: ['S', 'M'] }],
                variations: [
                  { item_id: '31', sku: 'CREW-S', attributes: { Size: 'S' }, base: 1, enabled: true },
                  { item_id: '32', sku: 'CREW-M', attributes: { Size: 'M' }, base: 1, enabled: true },
                ],
              }),
            },
          ],
        },
      );
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
    });

    test('every listing seen is a row: name, SKUs, product, and why it is or is not on the web', async () => {
      const rows = await site.wpEval(`return PosSync\\Store\\Catalogue::rows( '', 'all', 1, 50 );`);
      assert.equal(rows.total, 4);
      const by = Object.fromEntries(rows.rows.map((r) => [r.pos_key, r]));
      assert.equal(by['item:1'].visibility, 'publish');
      assert.ok(Number(by['item:1'].product_id) > 0, 'the product made for it');
      assert.equal(Number(by['item:2'].product_id), 0);
      assert.equal(by['matrix:3'].sku, 'CREW-S CREW-M', 'a matrix is found by its variants’ SKUs');
      assert.equal(Number(by['matrix:3'].variants), 2);
      // Search by name, by SKU, by POS ID; views.
      const find = (s, view = 'all') => site.wpEval(`return array_column( PosSync\\Store\\Catalogue::rows( $args[0], $args[1], 1, 50 )['rows'], 'pos_key' );`, [s, view]);
      assert.deepEqual(await find('tote'), ['item:2']);
      assert.deepEqual(await find('CREW-M'), ['matrix:3']);
      assert.deepEqual(await find('4'), ['item:4']);
      assert.deepEqual(await find('', 'web'), ['item:1']);
      assert.deepEqual((await find('', 'not_web')).sort(), ['item:2', 'item:4', 'matrix:3']);

      const html = await page();
      assert.match(html, /What is published follows the rule “Items marked “Publish to eCom” in the POS”/);
      assert.match(html, /Blue Mug<\/a><\/strong>/, 'linked to its product');
      assert.match(html, /On the web/);
      assert.match(html, /Not on the web: archived in the POS/);
      assert.match(html, /Not on the web: not chosen by the publish rule/);
      assert.match(html, /Matrix 3 · 2 variants/);
      assert.doesNotMatch(html, /name="pos_key\[\]"/, 'no picking under the eCom flag rule');
      // A second identical event writes nothing new (same row).
      const again = await site.wpEval(
        `global $wpdb; $before = $wpdb->get_row( "SELECT * FROM {$wpdb->prefix}pos_sync_catalogue WHERE pos_key = 'item:2'", ARRAY_A );
        $p = new PosSync\\Apply\\Publisher( 'again' ); $p->apply_product_event( $args );
        return array( $before, $wpdb->get_row( "SELECT * FROM {$wpdb->prefix}pos_sync_catalogue WHERE pos_key = 'item:2'", ARRAY_A ), $wpdb->rows_affected );`,
        { type: 'product', product: listing('item:2', { name: 'Canvas Tote', visibility: 'hidden', hidden_reason: 'not_selected' }) },
      );
      assert.deepEqual(again[1], again[0]);
    });

    test('under “These POS items”: pick and drop in the list; only the listings that moved are planned again', async () => {
      await setRule('manual', '1');
      let html = await page();
      assert.match(html, /Tick the items to publish/);
      assert.match(html, /<option value="pos_sync_pick">Publish on the web<\/option>/);
      assert.match(html, /name="pos_key\[\]" value="item:2"/);

      let res = await bulk(html, 'pos_sync_pick', ['item:2', 'matrix:3', 'item:1', 'bogus']);
      assert.equal(res.status, 302);
      html = await (await site.adminFetch(res.headers.get('location'))).text();
      assert.match(html, /id="pos-sync-items-notice"><p>2 items will be published at the next run\./);
      let s = await site.wpEval(`return array( PosSync\\Store\\Settings::get( 'publish_ids' ), get_option( 'pos_sync_publish_replan' ), PosSync\\Apply\\Publisher::job_settings()['publish_rule'] );`);
      assert.equal(s[0], '1,2,matrix:3');
      assert.deepEqual(s[1], { item_ids: ['2'], matrix_ids: ['3'] });
      assert.deepEqual(s[2], { by: 'manual', item_ids: ['1', '2'], matrix_ids: ['3'] });

      res = await bulk(html, 'pos_sync_unpick', ['item:1']);
      assert.equal(res.status, 302);
      s = await site.wpEval(`return array( PosSync\\Store\\Settings::get( 'publish_ids' ), get_option( 'pos_sync_publish_replan' ) );`);
      assert.equal(s[0], '2,matrix:3');
      assert.deepEqual(s[1], { item_ids: ['2', '1'], matrix_ids: ['3'] });
      assert.match(await page('&view=chosen'), /Chosen <span class="count">\(2\)<\/span>/);

      // Typing the ids in the settings does the same.
      const typed = await site.wpEval(`$e = PosSync\\Store\\Settings::save_form( array( 'api_base' => 'http://127.0.0.1:9/API/V3', 'account_id' => '1', 'client_id' => 'fake', 'publish_enabled' => 'yes', 'publish_rule' => 'manual', 'publish_ids' => '2, matrix:3, 7', 'price_level' => 'default', 'hidden_mode' => 'draft', 'link_by_sku' => 'no' ) ); return array( $e, get_option( 'pos_sync_publish_replan' ) );`);
      assert.deepEqual(typed[0], []);
      assert.deepEqual(typed[1], { item_ids: ['2', '1', '7'], matrix_ids: ['3'] });

      // A pick is no new plan: the pass is not restarted.
      const restart = await site.wpEval(`update_option( 'pos_sync_cursors', array( 'publish' => array( 'item' => array( 'ts' => 'x', 'ids' => array() ) ) ) ); PosSync\\Apply\\Publisher::restart_on_new_plan();
        PosSync\\Store\\Catalogue::pick( array( 'item:9' ), true ); return PosSync\\Apply\\Publisher::restart_on_new_plan();`);
      assert.equal(restart, false);

      // The next publish run sends the queue; the core's publish_replan cursor empties it.
      fake({ mode: 'ok', byKind: { publish: { mode: 'ok', events: [{ type: 'cursor', flow: 'publish_replan', cursor: { item_ids: ['2', '1', '7'], matrix_ids: ['3'] } }] } } });
      const run = await site.wpEval(`$r = PosSync\\Jobs\\Runner::run( 'publish' ); return array( $r['ok'], $r['error'], get_option( 'pos_sync_publish_replan', 'gone' ) );`);
      assert.deepEqual(run, [true, null, { item_ids: ['9'], matrix_ids: [] }], 'what the run did not name stays queued');
      assert.deepEqual(jobs('publish').at(-1).replan, { item_ids: ['2', '1', '7', '9'], matrix_ids: ['3'] });
    });

    test('picking refuses a missing or wrong nonce, a GET, a user without manage_woocommerce, and other rules', async () => {
      await setRule('manual', '2');
      const html = await page();
      for (const nonce of ['', '0123456789']) {
        const res = await bulk(html, 'pos_sync_pick', ['item:4'], { nonce });
        assert.equal(res.status, 403, `nonce "${nonce}"`);
      }
      assert.equal(await site.wpEval(`return PosSync\\Store\\Settings::get( 'publish_ids' );`), '2');
      // The same request as a link (GET), with a valid nonce: refused, nothing picked.
      const link = new URLSearchParams({ action: 'pos_sync_pick', _wpnonce: html.match(/id="_wpnonce" name="_wpnonce" value="([^"]+)"/)[1], 'pos_key[]': 'item:4' });
      const got = await site.adminFetch(`${PAGE}&${link}`);
      assert.equal(got.status, 405, 'a bulk action opened as a link changes nothing');
      assert.equal(await site.wpEval(`return PosSync\\Store\\Settings::get( 'publish_ids' );`), '2');
      const editor = await site.wpEval(`$uid = wp_insert_user( array( 'user_login' => 'ed3', 'user_pass' => wp_generate_password(), 'user_email' => 'ed3@example.com', 'role' => 'editor' ) );
        $exp = time() + DAY_IN_SECONDS; $token = WP_Session_Tokens::get_instance( $uid )->create( $exp );
        $cookies = array( AUTH_COOKIE => wp_generate_auth_cookie( $uid, $exp, 'auth', $token ), LOGGED_IN_COOKIE => wp_generate_auth_cookie( $uid, $exp, 'logged_in', $token ) );
        $_COOKIE[ LOGGED_IN_COOKIE ] = $cookies[ LOGGED_IN_COOKIE ]; wp_set_current_user( $uid );
        return array( 'cookie' => implode( '; ', array_map( fn( $k, $v ) => $k . '=' . $v, array_keys( $cookies ), $cookies ) ), 'nonce' => wp_create_nonce( 'bulk-pos_items' ) );`);
      const res = await fetch(`${site.url}${PAGE}`, { method: 'POST', body: new URLSearchParams({ action: 'pos_sync_pick', 'pos_key[]': 'item:4', _wpnonce: editor.nonce }), redirect: 'manual', headers: { cookie: editor.cookie, 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(res.status, 403);
      assert.equal(await site.wpEval(`return PosSync\\Store\\Settings::get( 'publish_ids' );`), '2');
      // Another rule: the action changes nothing and says why.
      await setRule('ecom_flag', '2');
      const r = await bulk(html, 'pos_sync_pick', ['item:4']);
      const after = await (await site.adminFetch(r.headers.get('location'))).text();
      assert.match(after, /Items are chosen by hand only under the rule “These POS items”/);
      assert.equal(await site.wpEval(`return PosSync\\Store\\Settings::get( 'publish_ids' );`), '2');
    });

    test('no PHP notice in the debug log', () => {
      assert.deepEqual(site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
