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
global $wpdb; $ob = PosSync\\Store\\Schema::outbox(); $ol = PosSync\\Store\\Schema::outbox_lines();
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

    const fakeDir = () => path.join(site.dir, 'fake');
    const fake = (cfg) => fs.writeFileSync(path.join(fakeDir(), 'fake-sidecar.json'), JSON.stringify(cfg));
    const jobs = (kind) => {
      const f = path.join(fakeDir(), 'fake-sidecar.seen.json');
      return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')).byKind[kind] || [] : [];
    };
    const tick = async () => {
      await site.wpEval(`wp_clear_scheduled_hook( 'pos_sync_tick' ); wp_schedule_event( time() - 1, 'pos_sync_minute', 'pos_sync_tick' ); return true;`);
      return site.runCron({ hooks: ['pos_sync_tick'] });
    };
    const stock = (id) => site.wpEval(`wp_cache_flush(); return wc_get_product( $args )->get_stock_quantity();`, id);
    const level = (item, sku, base) => ({ item_id: item, sku, shop_qoh: { 1: base }, qoh: base, base, read_from_ms: 'now' });
    const order = (status, lines) => site.rest('POST', '/wc/v3/orders', { status, set_paid: status === 'processing', payment_method: 'bacs', billing: { email: 'ada@example.com', first_name: 'Ada' }, line_items: lines });
    let linked;

    before(async () => {
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: false });
      fs.mkdirSync(fakeDir());
      fs.copyFileSync(path.join(REPO_ROOT, 'tests', 'plugin', 'fake-sidecar.mjs'), path.join(fakeDir(), 'sidecar.mjs'));
      fake({ mode: 'ok' });
      await site.wpEval(`update_option( 'pos_sync_site_test_sidecar', $args );
        update_option( 'pos_sync_settings', array( 'api_base' => 'http://127.0.0.1:9/API/V3', 'account_id' => '1', 'client_id' => 'fake', 'client_secret' => 'fake-secret', 'reconcile_every' => 'off', 'reference_prefix' => 'WEB-', 'pos_shop_id' => '1', 'register_id' => '1', 'employee_id' => '1', 'payment_types' => 'default=1' ) );
        PosSync\\Store\\Settings::save_tokens( null, 'fake-refresh', 0 ); return true;`, path.join(fakeDir(), 'sidecar.mjs'));
      linked = await site.wpEval(`$out = array();
        foreach ( array( 'TEE' => '701', 'MUG' => '702', 'CAP' => '703', 'HAT' => '704' ) as $sku => $item ) {
          $p = new WC_Product_Simple(); $p->set_name( 'Linked ' . $sku ); $p->set_sku( $sku ); $p->set_regular_price( '10' ); $p->set_manage_stock( true ); $p->set_stock_quantity( 2 );
          $id = $p->save(); update_post_meta( $id, '_pos_sync_item_id', $item ); update_post_meta( $id, '_pos_sync_last_stock', '2' ); $out[ $sku ] = $id;
        }
        return $out;`);
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
    });

    test('schema from 3 (through 4 and 5): parts numbered, a never-sent copy of an order cancelled and released, the unique (kind, order, refund, part) key in place', { timeout: 60_000 }, async () => {
      const r = await php(`
        // Back to the version 3 table, holding what version 3 made of one order whose prefix changed.
        foreach ( array( 'row_key', 'claim_token' ) as $key ) { $wpdb->query( "ALTER TABLE {$ob} DROP INDEX {$key}" ); }
        foreach ( array( 'part', 'placed_at_ms', 'released', 'cancel_requested', 'claim_token', 'claimed_until_ms', 'resumable' ) as $col ) { $wpdb->query( "ALTER TABLE {$ob} DROP COLUMN {$col}" ); }
        $now = current_time( 'mysql', true );
        $wpdb->insert( $ob, array( 'reference_number' => 'WEB-9001', 'order_id' => 9001, 'state' => 'posted', 'first_attempt_at_ms' => 5, 'posted_at_ms' => 6, 'pos_sale_id' => '77', 'created_at' => '2026-03-02 10:00:00', 'updated_at' => $now ) );
        $wpdb->insert( $ob, array( 'reference_number' => 'SHOP-9001', 'order_id' => 9001, 'state' => 'pending', 'created_at' => $now, 'updated_at' => $now ) );
        $copy = $wpdb->insert_id;
        $wpdb->insert( $ol, array( 'outbox_id' => $copy, 'product_id' => 1, 'qty' => -1 ) );
        delete_option( 'pos_sync_connected_on' );
        update_option( 'pos_sync_db_version', '3' );
        PosSync\\Store\\Schema::maybe_upgrade();
        $dup = $wpdb->query( $wpdb->prepare( "INSERT INTO {$ob} (reference_number, kind, order_id, refund_id, part, created_at, updated_at) VALUES ('X-9001', 'order', 9001, 0, 0, %s, %s)", $now, $now ) );
        $out = array( get_option( 'pos_sync_db_version' ) === PosSync\\Store\\Schema::DB_VERSION ? 'current' : get_option( 'pos_sync_db_version' ), $wpdb->get_results( "SELECT reference_number, part, state, released FROM {$ob} WHERE order_id = 9001 ORDER BY id", ARRAY_A ), $dup, get_option( 'pos_sync_connected_on' ), array_column( $wpdb->get_results( "SHOW INDEX FROM {$ob} WHERE Key_name = 'row_key'", ARRAY_A ), 'Column_name' ) );
        $wpdb->query( "DELETE FROM {$ol} WHERE outbox_id = {$copy}" ); $wpdb->query( "DELETE FROM {$ob} WHERE order_id = 9001" );
        return $out;`);
      assert.equal(r[0], 'current', 'upgraded to the current schema');
      assert.deepEqual(r[1], [
        { reference_number: 'WEB-9001', part: '0', state: 'posted', released: '0' },
        { reference_number: 'SHOP-9001', part: '1', state: 'cancelled', released: '1' },
      ]);
      assert.equal(r[2], false, 'a second part 0 of the same order is refused by the database');
      assert.equal(r[3], '2026-03-02', 'the cut-off of an upgraded shop is the day its first row was made');
      assert.deepEqual(r[4], ['kind', 'order_id', 'refund_id', 'part']);
    });
    test('an on-hold order holds its unit through a new POS reading and a full reconcile, and releases it when cancelled', { timeout: 120_000 }, async () => {
      const o = await order('on-hold', [{ product_id: linked.TEE, quantity: 1 }]);
      assert.equal(await stock(linked.TEE), 1, 'WooCommerce took the unit');
      let rows = await php(`return $rows( $args );`, o.id);
      assert.deepEqual(rows.map((r) => [r.reference_number, r.state, r.ledger]), [[`WEB-${o.number}`, 'held', `${linked.TEE}:-1`]]);
      // The POS still says 2: the hold keeps the web at 1, through a sync and a reconcile.
      fake({ mode: 'ok', stock: [{ levels: [level('701', 'TEE', 2)], cursor: null }] });
      await tick();
      assert.equal(await stock(linked.TEE), 1, 'a POS reading does not give the held unit back');
      assert.equal(jobs('post_orders').flatMap((j) => j.outbox).filter((r) => r.reference === `WEB-${o.number}`).length, 0, 'a held row is never sent');
      await php(`return PosSync\\Jobs\\Runner::run( 'reconcile' )['ok'];`);
      assert.equal(await stock(linked.TEE), 1, 'nor does a full reconcile');
      await site.rest('PUT', `/wc/v3/orders/${o.id}`, { status: 'cancelled' });
      rows = await php(`return $rows( $args );`, o.id);
      assert.deepEqual(rows.map((r) => [r.state, r.released]), [['cancelled', '1']]);
      assert.equal(await stock(linked.TEE), 2, 'WooCommerce gave the unit back');
      await tick();
      assert.equal(await stock(linked.TEE), 2, 'and the next reading keeps 2, not 3');
    });

    test('an on-hold order that is paid goes from held to pending and is sent', { timeout: 120_000 }, async () => {
      const o = await order('on-hold', [{ product_id: linked.MUG, quantity: 1 }]);
      await site.rest('PUT', `/wc/v3/orders/${o.id}`, { status: 'processing' });
      const rows = await php(`return $rows( $args );`, o.id);
      assert.deepEqual(rows.map((r) => [r.state, r.ledger]), [['pending', `${linked.MUG}:-1`]]);
      fake({ mode: 'ok' });
      await tick();
      const sent = jobs('post_orders').at(-1).outbox.find((r) => r.reference === `WEB-${o.number}`);
      assert.ok(sent, 'sent once paid');
      assert.equal(sent.lookup_only, false);
      assert.ok(sent.placed_at_ms > 0);
      await php(`global $wpdb; $wpdb->query( "UPDATE {$ob} SET state = 'posted', posted_at_ms = 1 WHERE order_id = " . (int) $args ); return true;`, o.id);
    });

    test('paid then cancelled before posting: the row is cancelled and never reaches the POS', { timeout: 120_000 }, async () => {
      const o = await order('processing', [{ product_id: linked.CAP, quantity: 1 }]);
      assert.deepEqual((await php(`return $rows( $args );`, o.id)).map((r) => r.state), ['pending']);
      await site.rest('PUT', `/wc/v3/orders/${o.id}`, { status: 'cancelled' });
      assert.deepEqual((await php(`return $rows( $args );`, o.id)).map((r) => [r.state, r.released]), [['cancelled', '1']]);
      fake({ mode: 'ok' });
      await tick();
      assert.equal(jobs('post_orders').flatMap((j) => j.outbox).filter((r) => r.reference === `WEB-${o.number}`).length, 0);
    });

    test('cancelled while in flight: sent with lookup_only; outbox_absent releases it', { timeout: 120_000 }, async () => {
      const o = await order('processing', [{ product_id: linked.CAP, quantity: 1 }]);
      await php(`global $wpdb; $wpdb->query( $wpdb->prepare( "UPDATE {$ob} SET state = 'sending', first_attempt_at_ms = %d WHERE order_id = %d", PosSync\\Store\\Ledger::now_ms(), $args ) ); return true;`, o.id);
      await site.rest('PUT', `/wc/v3/orders/${o.id}`, { status: 'cancelled' });
      let [row] = await php(`return $rows( $args );`, o.id);
      assert.deepEqual([row.state, row.cancel_requested, row.released], ['sending', '1', '0']);
      fake({ mode: 'ok', byKind: { post_orders: { mode: 'ok', events: [{ type: 'outbox_absent', v: 1, outbox_id: row.id, reference: row.reference_number }] } } });
      await tick();
      const sent = jobs('post_orders').at(-1).outbox.find((r) => r.id === row.id);
      assert.equal(sent.lookup_only, true);
      [row] = await php(`return $rows( $args );`, o.id);
      assert.deepEqual([row.state, row.released], ['cancelled', '1']);
    });

    test('cancelled while in flight with a refund waiting: outbox_absent releases the refund row too (the POS has no sale to return against)', { timeout: 120_000 }, async () => {
      const o = await order('processing', [{ product_id: linked.HAT, quantity: 1 }]);
      await php(`global $wpdb; $wpdb->query( $wpdb->prepare( "UPDATE {$ob} SET state = 'sending', first_attempt_at_ms = %d WHERE order_id = %d", PosSync\\Store\\Ledger::now_ms(), $args ) ); return true;`, o.id);
      await site.rest('POST', `/wc/v3/orders/${o.id}/refunds`, { amount: '1.00', api_refund: false });
      await site.rest('PUT', `/wc/v3/orders/${o.id}`, { status: 'cancelled' });
      let rows = await php(`return $rows( $args );`, o.id);
      const sale = rows.find((r) => r.kind === 'order');
      const refund = rows.find((r) => r.kind === 'refund');
      assert.ok(refund, 'the refund has its row');
      assert.deepEqual([sale.state, sale.cancel_requested, refund.state, refund.released], ['sending', '1', 'pending', '0']);
      // The core looks the sale up (absent) and cannot post a return of a sale the POS lacks.
      fake({ mode: 'ok', byKind: { post_orders: { mode: 'ok', events: [
        { type: 'outbox_absent', v: 1, outbox_id: sale.id, reference: sale.reference_number },
        { type: 'outbox_failed', v: 1, outbox_id: refund.id, reference: refund.reference_number, code: 'order_not_posted', message: `${refund.reference_number}: its order is not in the POS yet`, retry_at_ms: Date.now() + 60_000, attention: false },
      ] } } });
      await tick();
      rows = await php(`return $rows( $args );`, o.id);
      assert.deepEqual(rows.map((r) => [r.kind, r.state, r.released]), [['order', 'cancelled', '1'], ['refund', 'cancelled', '1']], 'nothing left waiting for a sale that will never be');
      const seen = jobs('post_orders').length;
      await tick();
      assert.ok(!jobs('post_orders').slice(seen).some((j) => j.outbox.some((r) => r.id === refund.id)), 'the refund row is never sent again');
    });

    test('a trashed order that was never sent is released', { timeout: 60_000 }, async () => {
      const o = await order('processing', [{ product_id: linked.HAT, quantity: 1 }]);
      await site.rest('DELETE', `/wc/v3/orders/${o.id}`);
      assert.deepEqual((await php(`return $rows( $args );`, o.id)).map((r) => [r.state, r.released]), [['cancelled', '1']]);
    });

    test('an order edited before it was sent: the unsent row is rewritten under the same reference', { timeout: 60_000 }, async () => {
      const o = await order('processing', [{ product_id: linked.HAT, quantity: 1 }]);
      const line = o.line_items[0];
      await site.rest('PUT', `/wc/v3/orders/${o.id}`, { line_items: [{ id: line.id, product_id: linked.HAT, quantity: 2 }] });
      const rows = await php(`return $rows( $args );`, o.id);
      assert.deepEqual(rows.map((r) => [r.reference_number, r.state, r.ledger, JSON.parse(r.payload).lines[0].qty]), [[`WEB-${o.number}`, 'pending', `${linked.HAT}:-2`, 2]]);
    });

    test('an order edited while its sale is in flight: the added units are held at once (a new POS reading cannot give them back) and go to the POS once the sale is confirmed', { timeout: 120_000 }, async () => {
      const o = await order('processing', [{ product_id: linked.TEE, quantity: 1 }]);
      await php(`global $wpdb; $wpdb->query( $wpdb->prepare( "UPDATE {$ob} SET state = 'sending', first_attempt_at_ms = %d WHERE order_id = %d", PosSync\\Store\\Ledger::now_ms(), $args ) ); return true;`, o.id);
      await site.rest('PUT', `/wc/v3/orders/${o.id}`, { line_items: [{ product_id: linked.MUG, quantity: 1 }] });
      let rows = await php(`return $rows( $args );`, o.id);
      assert.deepEqual(rows.map((r) => [r.reference_number, r.state, r.ledger]), [[`WEB-${o.number}`, 'sending', `${linked.TEE}:-1`], [`WEB-${o.number}-E1`, 'held', `${linked.MUG}:-1`]], 'the added mug holds its unit from the edit on');
      // The sale is confirmed: the held edit goes to the POS, once.
      const own = rows[0];
      fake({ mode: 'ok', byKind: { post_orders: { mode: 'ok', events: [{ type: 'sale_posted', v: 1, outbox_id: own.id, reference: own.reference_number, sale_id: '7990', customer_id: '1', existing: false }] } } });
      await tick();
      rows = await php(`return $rows( $args );`, o.id);
      assert.deepEqual(rows.map((r) => [r.reference_number, r.state]), [[`WEB-${o.number}`, 'posted'], [`WEB-${o.number}-E1`, 'pending']], 'no second edit row');
      fake({ mode: 'ok', byKind: { post_orders: { mode: 'ok' } } });
      await tick();
      assert.ok(jobs('post_orders').at(-1).outbox.some((r) => r.reference === `WEB-${o.number}-E1`), 'the edit is sent');
    });

    test('posted then cancelled: one return row of every unit, exactly once', { timeout: 60_000 }, async () => {
      const o = await order('processing', [{ product_id: linked.MUG, quantity: 1 }]);
      await php(`global $wpdb; $wpdb->query( "UPDATE {$ob} SET state = 'posted', first_attempt_at_ms = 1, posted_at_ms = 2, pos_sale_id = '900' WHERE order_id = " . (int) $args ); return true;`, o.id);
      await site.rest('PUT', `/wc/v3/orders/${o.id}`, { status: 'cancelled' });
      await site.rest('PUT', `/wc/v3/orders/${o.id}`, { status: 'cancelled' });
      const rows = await php(`return $rows( $args );`, o.id);
      assert.deepEqual(rows.map((r) => [r.reference_number, r.kind, r.refund_id, r.part, r.state, r.ledger]), [
        [`WEB-${o.number}`, 'order', '0', '0', 'posted', `${linked.MUG}:-1`],
        [`WEB-${o.number}-C1`, 'refund', '0', '1', 'pending', `${linked.MUG}:1`],
      ]);
      const p = JSON.parse(rows[1].payload);
      assert.equal(p.full, true);
      assert.equal(p.order_reference, `WEB-${o.number}`);
      assert.deepEqual(p.lines.map((l) => [l.qty, l.amount, l.restock]), [[1, '10.00', true]]);
    });

    test('prefix changed between processing and completed: still one row and one sale, and a later refund is posted', { timeout: 120_000 }, async () => {
      const o = await order('processing', [{ product_id: linked.TEE, quantity: 1 }]);
      await php(`update_option( 'pos_sync_settings', array_merge( get_option( 'pos_sync_settings' ), array( 'reference_prefix' => 'SHOP-' ) ) ); return true;`);
      await site.rest('PUT', `/wc/v3/orders/${o.id}`, { status: 'completed' });
      let rows = await php(`return $rows( $args );`, o.id);
      assert.deepEqual(rows.map((r) => r.reference_number), [`WEB-${o.number}`], 'one row, its reference as made');
      const refund = await site.rest('POST', `/wc/v3/orders/${o.id}/refunds`, { amount: '10.00', api_refund: false, api_restock: true, line_items: [{ id: o.line_items[0].id, quantity: 1, refund_total: 10 }] });
      rows = await php(`return $rows( $args );`, o.id);
      assert.deepEqual(rows.map((r) => r.reference_number), [`WEB-${o.number}`, `SHOP-R${refund.id}`]);
      assert.equal(JSON.parse(rows[1].payload).order_reference, `WEB-${o.number}`, 'the refund names the order by its stored reference');
      fake({ mode: 'ok', byKind: { post_orders: { mode: 'ok', events: rows.map((r, i) => ({ type: 'sale_posted', v: 1, outbox_id: r.id, reference: r.reference_number, sale_id: String(7000 + i), customer_id: '1', existing: false })) } } });
      await tick();
      const sent = jobs('post_orders').at(-1).outbox.map((r) => r.reference);
      assert.deepEqual(sent.filter((r) => r.endsWith(`-${o.number}`) || r === `SHOP-R${refund.id}`), [`WEB-${o.number}`, `SHOP-R${refund.id}`]);
      rows = await php(`return $rows( $args );`, o.id);
      assert.deepEqual(rows.map((r) => r.state), ['posted', 'posted']);
      await php(`update_option( 'pos_sync_settings', array_merge( get_option( 'pos_sync_settings' ), array( 'reference_prefix' => 'WEB-' ) ) ); return true;`);
    });

    test('a failed insert (the lines table refused) is rolled back, logged with the order number, and recovered by the sweep', { timeout: 120_000 }, async () => {
      const made = await php(`
        // Break the lines insert for this one request only.
        add_filter( 'query', function ( $q ) use ( $ol ) { return str_starts_with( $q, "INSERT INTO {$ol}" ) ? str_replace( "INSERT INTO {$ol}", "INSERT INTO {$ol}_gone", $q ) : $q; } );
        $o = wc_create_order( array( 'status' => 'pending' ) ); $o->add_product( wc_get_product( $args ), 1 ); $o->calculate_totals(); $o->set_payment_method( 'bacs' ); $o->save();
        $o->update_status( 'processing' );
        return array( $o->get_id(), $o->get_order_number(), $rows( $o->get_id() ) );`, linked.MUG);
      const [id, number, before] = made;
      assert.deepEqual(before, [], 'nothing half-written');
      const logs = fs.readdirSync(path.join(site.wpDir, 'wp-content', 'uploads', 'wc-logs')).filter((f) => f.startsWith('pos-sync')).map((f) => fs.readFileSync(path.join(site.wpDir, 'wp-content', 'uploads', 'wc-logs', f), 'utf8')).join('');
      assert.match(logs, new RegExp(`Order #${number}: its order row WEB-${number} could not be recorded`));
      fake({ mode: 'ok' });
      await tick();
      const after = await php(`return $rows( $args );`, id);
      // Made by the sweep before the sync, then claimed by the same tick's post_orders job.
      assert.deepEqual(after.map((r) => [r.reference_number, r.state, r.ledger]), [[`WEB-${number}`, 'sending', `${linked.MUG}:-1`]]);
      assert.ok(jobs('post_orders').at(-1).outbox.some((r) => r.reference === `WEB-${number}`));
    });

    test('no PHP notice in the debug log', () => {
      assert.deepEqual(site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
