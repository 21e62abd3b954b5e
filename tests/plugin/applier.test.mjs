// The stock applier against real WooCommerce: stock events fed directly, as the
// sidecar would send them (PROTOCOL.md), checked against what WooCommerce shows.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createSite, wordPressOrSkip, REPO_ROOT } from '../../scripts/lib/site.mjs';

const { skip } = await wordPressOrSkip();

// PHP helpers available to every snippet below.
const PRELUDE = `
$make = function ( $sku, $qty, $manage = true ) {
  $p = new WC_Product_Simple(); $p->set_name( 'Product ' . $sku ); $p->set_sku( $sku ); $p->set_regular_price( '10' );
  $p->set_manage_stock( $manage ); if ( $manage ) { $p->set_stock_quantity( $qty ); } return $p->save();
};
// Levels read now unless they say otherwise (the core stamps every level with its reading window).
$apply = function ( $levels, $cursor = null, $run = 'test-run' ) {
  $now = PosSync\\Store\\Ledger::now_ms();
  foreach ( $levels as &$l ) { $l += array( 'read_from_ms' => $now, 'read_until_ms' => $now ); } unset( $l );
  $a = new PosSync\\Apply\\StockApplier( $run ); $a->apply_stock_event( array( 'v' => 1, 'type' => 'stock', 'levels' => $levels, 'cursor' => $cursor ) ); $a->finish(); return $a->counts;
};
// An outbox row with signed lines (orders −, restocking refunds +) and its timestamps;
// its order id comes from the reference (one row per kind, order, refund and part).
$pend = function ( $ref, $state, $lines, $first_attempt_at_ms = null, $posted_at_ms = null, $released = false ) {
  global $wpdb; $now = current_time( 'mysql', true );
  $wpdb->insert( PosSync\\Store\\Schema::outbox(), array_filter( array( 'reference_number' => $ref, 'order_id' => crc32( $ref ), 'state' => $state, 'released' => $released ? 1 : 0, 'created_at' => $now, 'updated_at' => $now, 'first_attempt_at_ms' => $first_attempt_at_ms, 'posted_at_ms' => $posted_at_ms ), fn( $v ) => null !== $v ) );
  $id = $wpdb->insert_id;
  foreach ( $lines as $pid => $qty ) { $wpdb->insert( PosSync\\Store\\Schema::outbox_lines(), array( 'outbox_id' => $id, 'product_id' => $pid, 'qty' => $qty ) ); }
  return $id;
};
$stock = function ( $id ) {
  global $wpdb; wp_cache_flush(); $p = wc_get_product( $id );
  $lookup = $wpdb->get_row( $wpdb->prepare( "SELECT stock_quantity, stock_status FROM {$wpdb->prefix}wc_product_meta_lookup WHERE product_id = %d", $id ), ARRAY_A );
  return array( 'qty' => $p->get_stock_quantity(), 'status' => $p->get_stock_status(), 'lookup_qty' => null === $lookup['stock_quantity'] ? null : (int) $lookup['stock_quantity'], 'lookup_status' => $lookup['stock_status'] );
};
`;

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('stock applier', () => {
    let site;
    const php = (code, args) => site.wpEval(PRELUDE + code, args);

    before(async () => {
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: false });
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
    });

    test('links by SKU, sets stock the way WooCommerce does, stock status and lookup table included', async () => {
      const r = await php(`
        $id = $make( 'A-1', 0 );
        $before = $stock( $id );
        $counts = $apply( array( array( 'item_id' => '1001', 'sku' => 'A-1', 'shop_qoh' => array( '1' => 5 ), 'qoh' => 5, 'base' => 5 ) ) );
        $hooked = did_action( 'woocommerce_product_set_stock' );
        return array( $before, $stock( $id ), $counts, get_post_meta( $id, '_pos_sync_item_id', true ), get_post_meta( $id, '_pos_sync_last_stock', true ), $hooked );`);
      assert.deepEqual(r[0], { qty: 0, status: 'outofstock', lookup_qty: 0, lookup_status: 'outofstock' });
      assert.deepEqual(r[1], { qty: 5, status: 'instock', lookup_qty: 5, lookup_status: 'instock' });
      assert.equal(r[2].written, 1);
      assert.equal(r[3], '1001');
      assert.equal(r[4], '5');
      assert.ok(r[5] >= 1, 'woocommerce_product_set_stock fired');
    });

    test('a linked product is found by its item id even when its SKU changed', async () => {
      const r = await php(`
        $id = wc_get_product_id_by_sku( 'A-1' ); $p = wc_get_product( $id ); $p->set_sku( 'A-1-renamed' ); $p->save();
        $apply( array( array( 'item_id' => '1001', 'sku' => 'A-1', 'base' => 3 ) ) );
        return $stock( $id );`);
      assert.equal(r.qty, 3);
    });

    test('subtracts the pending ledger (orders minus restocking refunds, rows confirmed before the reading ignored) and floors at 0', async () => {
      const r = await php(`
        $b = $make( 'B-1', 50 ); $c = $make( 'C-1', 50 );
        $pend( 'web-1001', 'pending', array( $b => -2 ) );
        $pend( 'web-1002', 'retry', array( $b => -1, $c => -9 ), 1000 );
        $pend( 'web-r-1', 'pending', array( $b => 1 ) );        // restocking refund never sent to the POS
        $pend( 'web-0999', 'posted', array( $b => -5 ), 1000, 2000 ); // confirmed long before the reading: in the POS figure
        $apply( array( array( 'item_id' => '2001', 'sku' => 'B-1', 'base' => 10 ), array( 'item_id' => '2002', 'sku' => 'C-1', 'base' => 4 ) ) );
        global $wpdb;
        return array( $stock( $b ), $stock( $c ), $wpdb->get_results( "SELECT item_id, from_qty, to_qty, pos_base, pending, run_id FROM {$wpdb->prefix}pos_sync_stock_log WHERE item_id IN ('2001','2002') ORDER BY item_id", ARRAY_A ) );`);
      assert.deepEqual(r[0], { qty: 8, status: 'instock', lookup_qty: 8, lookup_status: 'instock' }); // 10 − (2 + 1 − 1)
      assert.deepEqual(r[1], { qty: 0, status: 'outofstock', lookup_qty: 0, lookup_status: 'outofstock' }); // max(0, 4 − 9)
      assert.deepEqual(r[2], [
        { item_id: '2001', from_qty: '50', to_qty: '8', pos_base: '10', pending: '2', run_id: 'test-run' },
        { item_id: '2002', from_qty: '50', to_qty: '0', pos_base: '4', pending: '9', run_id: 'test-run' },
      ]);
    });

    test('a figure typed into WooCommerce is overwritten, logged with who and when, and noted on the product', async () => {
      const r = await php(`
        $id = wc_get_product_id_by_sku( 'B-1' );
        wp_set_current_user( 1 );
        $p = wc_get_product( $id ); $p->set_stock_quantity( 99 ); $p->save();   // as wp-admin, REST or an import would
        wp_set_current_user( 0 );
        $edit = get_post_meta( $id, '_pos_sync_stock_edit', true );
        $counts = $apply( array( array( 'item_id' => '2001', 'sku' => 'B-1', 'base' => 10 ) ) );
        global $wpdb;
        $log = ''; foreach ( glob( WC_LOG_DIR . 'pos-sync-*.log' ) as $f ) { $log .= file_get_contents( $f ); }
        return array( $edit['user_id'], $stock( $id )['qty'], $counts, get_post_meta( $id, '_pos_sync_notes', true ), (int) $wpdb->get_var( "SELECT overwrote_edit FROM {$wpdb->prefix}pos_sync_stock_log ORDER BY id DESC LIMIT 1" ), $log, get_post_meta( $id, '_pos_sync_stock_edit', true ) );`);
      assert.equal(r[0], 1);
      assert.equal(r[1], 8);
      assert.equal(r[2].overwritten, 1);
      assert.match(r[3][0].message, /changed to 99 by admin \(code\) at .*the sync had set 8.*now 8/);
      assert.equal(r[4], 1);
      assert.match(r[5], /WARNING .*Stock of “Product B-1” \(SKU B-1\) was changed to 99 by admin/);
      assert.equal(r[6], '');
    });

    test('an order taken by WooCommerce and still pending is not given back by the next pull', async () => {
      const r = await php(`
        $id = $make( 'D-1', 0 );
        $apply( array( array( 'item_id' => '3001', 'sku' => 'D-1', 'base' => 6 ) ) );
        wc_update_product_stock( $id, 2, 'decrease' );          // checkout of 2
        $pend( 'web-2001', 'pending', array( $id => -2 ) );     // and its outbox row (an order line is negative)
        $counts = $apply( array( array( 'item_id' => '3001', 'sku' => 'D-1', 'base' => 6 ) ) ); // POS still says 6
        return array( $stock( $id )['qty'], $counts, get_post_meta( $id, '_pos_sync_notes', true ) );`);
      assert.equal(r[0], 4);
      assert.equal(r[1].unchanged, 1);
      assert.equal(r[1].overwritten, 0);
      assert.equal(r[2], '');
    });

    test('products that do not manage stock, and items matching no product, are left alone and reported once', async () => {
      const r = await php(`
        $id = $make( 'E-1', 0, false );
        $counts = $apply( array(
          array( 'item_id' => '4001', 'sku' => 'E-1', 'base' => 7 ),
          array( 'item_id' => '4002', 'sku' => 'NO-SUCH-SKU', 'base' => 3 ),
          array( 'item_id' => '4002', 'sku' => 'NO-SUCH-SKU', 'base' => 3 ),
          array( 'item_id' => '4003', 'sku' => '', 'base' => 1 ),
        ), null, 'run-unmatched' );
        $p = wc_get_product( $id );
        $log = ''; foreach ( glob( WC_LOG_DIR . 'pos-sync-*.log' ) as $f ) { $log .= file_get_contents( $f ); }
        return array( $p->get_manage_stock(), $p->get_stock_quantity(), $p->get_stock_status(), $counts, get_option( 'pos_sync_unmatched' ), substr_count( $log, 'POS item 4002 (SKU NO-SUCH-SKU) matches no WooCommerce product' ) );`);
      assert.equal(r[0], false);
      assert.equal(r[1], null);
      assert.equal(r[2], 'instock');
      assert.equal(r[3].unmanaged, 1);
      assert.equal(r[3].unmatched, 3);
      assert.equal(r[4]['4002'].sku, 'NO-SUCH-SKU');
      assert.equal(r[4]['4002'].base, 3);
      assert.equal(r[5], 1);
    });

    test('variations each get their own figure; a variation using its parent\'s stock is left alone', async () => {
      const r = await php(`
        $attr = new WC_Product_Attribute(); $attr->set_name( 'Size' ); $attr->set_options( array( 'S', 'M', 'L' ) ); $attr->set_variation( true );
        $parent = new WC_Product_Variable(); $parent->set_name( 'Shirt' ); $parent->set_attributes( array( $attr ) ); $pid = $parent->save();
        $ids = array();
        foreach ( array( 'S' => true, 'M' => true, 'L' => false ) as $size => $own ) {
          $v = new WC_Product_Variation(); $v->set_parent_id( $pid ); $v->set_attributes( array( 'size' => $size ) ); $v->set_sku( 'SHIRT-' . $size ); $v->set_regular_price( '20' );
          $v->set_manage_stock( $own ? true : 'parent' ); if ( $own ) { $v->set_stock_quantity( 0 ); } $ids[ $size ] = $v->save();
        }
        $counts = $apply( array(
          array( 'item_id' => '5001', 'sku' => 'SHIRT-S', 'base' => 2 ),
          array( 'item_id' => '5002', 'sku' => 'SHIRT-M', 'base' => 9 ),
          array( 'item_id' => '5003', 'sku' => 'SHIRT-L', 'base' => 4 ),
        ) );
        wp_cache_flush();
        return array( $stock( $ids['S'] ), $stock( $ids['M'] )['qty'], wc_get_product( $ids['L'] )->get_stock_quantity( 'edit' ), wc_get_product( $pid )->get_stock_quantity(), $counts, $pid );`);
      assert.deepEqual(r[0], { qty: 2, status: 'instock', lookup_qty: 2, lookup_status: 'instock' });
      assert.equal(r[1], 9);
      assert.equal(r[2], null);
      assert.equal(r[3], null);
      assert.equal(r[4].written, 2);
      assert.equal(r[4].unmanaged, 1);
      // WooCommerce syncs the parent at the end of the request (deferred product sync): look from a fresh process.
      assert.equal(await php(`return wc_get_product( $args )->get_stock_status();`, r[5]), 'instock');
    });

    test('the cursor commits with the levels, and a failure rolls both back', async () => {
      const r = await php(`
        $f = $make( 'F-1', 1 ); $g = $make( 'G-1', 1 );
        $apply( array( array( 'item_id' => '6001', 'sku' => 'F-1', 'base' => 11 ) ), array( 'ts' => '2026-02-01T00:00:00+00:00', 'ids' => array( '6001' ) ) );
        $ok = array( $stock( $f )['qty'], PosSync\\Store\\Settings::cursors()['item_shop'] );
        // Make the second product's write fail after the first one was written.
        add_action( 'woocommerce_product_set_stock', function ( $p ) use ( $g ) { if ( $p->get_id() === $g ) { throw new RuntimeException( 'disk full' ); } } );
        $error = null;
        try {
          $apply( array( array( 'item_id' => '6001', 'sku' => 'F-1', 'base' => 12 ), array( 'item_id' => '6002', 'sku' => 'G-1', 'base' => 13 ) ), array( 'ts' => '2026-03-01T00:00:00+00:00', 'ids' => array( '6002' ) ) );
        } catch ( RuntimeException $e ) { $error = $e->getMessage(); }
        wp_cache_flush();
        $opt = get_option( 'pos_sync_cursors' );
        return array( $ok, $error, $stock( $f )['qty'], $stock( $g )['qty'], $opt['item_shop'] );`);
      assert.deepEqual(r[0], [11, { ts: '2026-02-01T00:00:00+00:00', ids: ['6001'] }]);
      assert.equal(r[1], 'disk full');
      assert.equal(r[2], 11, 'first product rolled back');
      assert.equal(r[3], 1, 'second product untouched');
      assert.deepEqual(r[4], { ts: '2026-02-01T00:00:00+00:00', ids: ['6001'] }, 'cursor rolled back');
      // Seen from another process (nothing half-committed in the database).
      const fresh = await php(`return array( wc_get_product( wc_get_product_id_by_sku( 'F-1' ) )->get_stock_quantity(), get_option( 'pos_sync_cursors' )['item_shop']['ts'] );`);
      assert.deepEqual(fresh, [11, '2026-02-01T00:00:00+00:00']);
    });

    test('the stock log is shown in the admin, escaped, with the overwritten edit marked', async () => {
      const res = await site.adminFetch('/wp-admin/admin.php?page=wc-settings&tab=pos_sync&section=log');
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, /<table class="widefat striped pos-sync-stock-log">/);
      assert.match(html, /Product B-1<\/a> <mark>overwrote a hand edit<\/mark>/);
      assert.match(html, /<td>2001<\/td><td>99<\/td><td>8<\/td><td>10<\/td><td>2<\/td><td>0<\/td>/);
      assert.doesNotMatch(html, /name="save"/);
    });

    test('every case of the core\'s ledger rule (tests/fixtures/ledger-cases.json) gives the same ledger and web stock here, from real rows', async () => {
      const { cases } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'tests', 'fixtures', 'ledger-cases.json'), 'utf8'));
      assert.ok(cases.length >= 10);
      const got = await php(`
        $out = array();
        foreach ( $args as $i => $case ) {
          $sku = 'LEDGER-' . $i; $item = (string) ( 90000 + $i );
          $id = $make( $sku, 0 );
          foreach ( $case['rows'] as $j => $row ) {
            $state = isset( $row['posted_at_ms'] ) ? 'posted' : ( ! empty( $row['released'] ) ? 'cancelled' : ( isset( $row['first_attempt_at_ms'] ) ? 'sending' : 'pending' ) );
            $pend( "ledger-$i-$j", $state, array( $id => $row['qty'] ), $row['first_attempt_at_ms'] ?? null, $row['posted_at_ms'] ?? null, ! empty( $row['released'] ) );
          }
          $level = array( 'item_id' => $item, 'sku' => $sku, 'base' => $case['base'], 'read_from_ms' => $case['read_from_ms'], 'read_until_ms' => $case['read_until_ms'] );
          global $wpdb; $wpdb->query( 'START TRANSACTION' );
          $ledger = PosSync\\Store\\Ledger::for_readings( array( $id => array( $case['read_from_ms'], $case['read_until_ms'] ) ) )[ $id ] ?? 0;
          $wpdb->query( 'COMMIT' );
          $apply( array( $level ) );
          $out[] = array( 'name' => $case['name'], 'ledger' => $ledger, 'web' => $stock( $id )['qty'] );
        }
        return $out;`, cases);
      assert.deepEqual(got, cases.map((c) => ({ name: c.name, ledger: c.ledger, web: c.web })));
    });

    test('a batch of levels with different reading windows gets each its own ledger', async () => {
      const r = await php(`
        $x = $make( 'W-1', 0 ); $y = $make( 'W-2', 0 );
        $pend( 'win-1', 'posted', array( $x => -2, $y => -2 ), 900, 1500 ); // confirmed at 1500
        $apply( array(
          array( 'item_id' => '95001', 'sku' => 'W-1', 'base' => 10, 'read_from_ms' => 1000, 'read_until_ms' => 1100 ), // read before the confirmation: still subtracted
          array( 'item_id' => '95002', 'sku' => 'W-2', 'base' => 10, 'read_from_ms' => 2000, 'read_until_ms' => 2100 ), // read after it: in the POS figure
        ) );
        return array( $stock( $x )['qty'], $stock( $y )['qty'] );`);
      assert.deepEqual(r, [8, 10]);
    });

    test('a recheck reading leaves the incremental cursor alone and clears only the requests it answers', async () => {
      const r = await php(`
        $id = $make( 'RC-1', 0 );
        $apply( array( array( 'item_id' => '96001', 'sku' => 'RC-1', 'base' => 3 ) ), array( 'ts' => '2026-04-01T00:00:00+00:00', 'ids' => array( '1' ) ) );
        PosSync\\Store\\Ledger::request_recheck( array( '96001' ), 5000 );
        $apply( array( array( 'item_id' => '96001', 'sku' => 'RC-1', 'base' => 4, 'read_from_ms' => 4000, 'read_until_ms' => 6000 ) ), array( 'recheck' => array( '96001' ) ) );
        $still = PosSync\\Store\\Ledger::recheck_item_ids();
        $apply( array( array( 'item_id' => '96001', 'sku' => 'RC-1', 'base' => 5, 'read_from_ms' => 5001, 'read_until_ms' => 5002 ) ), array( 'recheck' => array( '96001' ) ) );
        return array( $still, PosSync\\Store\\Ledger::recheck_item_ids(), $stock( $id )['qty'], PosSync\\Store\\Settings::cursors()['item_shop']['ts'] );`);
      assert.deepEqual(r, [['96001'], [], 5, '2026-04-01T00:00:00+00:00']);
    });

    test('no PHP notice in the debug log', () => {
      const lines = site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l));
      assert.deepEqual(lines, []);
    });
  });
}
