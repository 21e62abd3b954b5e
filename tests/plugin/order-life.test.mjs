// The whole life of an order on real WordPress + WooCommerce (issue 11): the version 4
// outbox (one row per kind, order, refund and part; a stored reference), holds from the
// moment WooCommerce reduces stock, cancellations, trash and deletes, edits, the prefix,
// the cut-off, and the sweep that recovers a failed insert. The stand-in sidecar
// (fake-sidecar.mjs) answers the jobs; one site for the whole file.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createSite, wordPressOrSkip, REPO_ROOT } from '../../scripts/lib/site.mjs';

const { skip } = await wordPressOrSkip();

// PHP helpers for the snippets below.
const PRELUDE = `
global $wpdb; $ob = PosSync\\Schema::outbox(); $ol = PosSync\\Schema::outbox_lines();
$rows = function ( $order_id ) use ( $wpdb, $ob, $ol ) {
  return $wpdb->get_results( $wpdb->prepare( "SELECT o.id, o.reference_number, o.kind, o.refund_id, o.part, o.state, o.released, o.cancel_requested, o.placed_at_ms, o.payload, ( SELECT GROUP_CONCAT( CONCAT( l.product_id, ':', l.qty ) ORDER BY l.id ) FROM {$ol} l WHERE l.outbox_id = o.id ) AS ledger FROM {$ob} o WHERE o.order_id = %d ORDER BY o.id", $order_id ), ARRAY_A );
};
`;

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('order life', { timeout: 900_000 }, () => {
    let site;
    const php = (code, args) => site.wpEval(PRELUDE + code, args);

    before(async () => {
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: false });
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
    });

    test('schema 4 from 3: parts numbered, a never-sent copy of an order cancelled and released, the unique (kind, order, refund, part) key in place', { timeout: 60_000 }, async () => {
      const r = await php(`
        // Back to the version 3 table, holding what version 3 made of one order whose prefix changed.
        foreach ( array( 'row_key', 'claim_token' ) as $key ) { $wpdb->query( "ALTER TABLE {$ob} DROP INDEX {$key}" ); }
        foreach ( array( 'part', 'placed_at_ms', 'released', 'cancel_requested', 'claim_token' ) as $col ) { $wpdb->query( "ALTER TABLE {$ob} DROP COLUMN {$col}" ); }
        $now = current_time( 'mysql', true );
        $wpdb->insert( $ob, array( 'reference_number' => 'WEB-9001', 'order_id' => 9001, 'state' => 'posted', 'first_attempt_at_ms' => 5, 'posted_at_ms' => 6, 'pos_sale_id' => '77', 'created_at' => '2026-03-02 10:00:00', 'updated_at' => $now ) );
        $wpdb->insert( $ob, array( 'reference_number' => 'SHOP-9001', 'order_id' => 9001, 'state' => 'pending', 'created_at' => $now, 'updated_at' => $now ) );
        $copy = $wpdb->insert_id;
        $wpdb->insert( $ol, array( 'outbox_id' => $copy, 'product_id' => 1, 'qty' => -1 ) );
        delete_option( 'pos_sync_connected_on' );
        update_option( 'pos_sync_db_version', '3' );
        PosSync\\Schema::maybe_upgrade();
        $dup = $wpdb->query( $wpdb->prepare( "INSERT INTO {$ob} (reference_number, kind, order_id, refund_id, part, created_at, updated_at) VALUES ('X-9001', 'order', 9001, 0, 0, %s, %s)", $now, $now ) );
        $out = array( get_option( 'pos_sync_db_version' ), $wpdb->get_results( "SELECT reference_number, part, state, released FROM {$ob} WHERE order_id = 9001 ORDER BY id", ARRAY_A ), $dup, get_option( 'pos_sync_connected_on' ), array_column( $wpdb->get_results( "SHOW INDEX FROM {$ob} WHERE Key_name = 'row_key'", ARRAY_A ), 'Column_name' ) );
        $wpdb->query( "DELETE FROM {$ol} WHERE outbox_id = {$copy}" ); $wpdb->query( "DELETE FROM {$ob} WHERE order_id = 9001" );
        return $out;`);
      assert.equal(r[0], '4');
      assert.deepEqual(r[1], [
        { reference_number: 'WEB-9001', part: '0', state: 'posted', released: '0' },
        { reference_number: 'SHOP-9001', part: '1', state: 'cancelled', released: '1' },
      ]);
      assert.equal(r[2], false, 'a second part 0 of the same order is refused by the database');
      assert.equal(r[3], '2026-03-02', 'the cut-off of an upgraded shop is the day its first row was made');
      assert.deepEqual(r[4], ['kind', 'order_id', 'refund_id', 'part']);
    });
  });
}
