// End to end, orders and refunds: real WordPress + WooCommerce (HPOS) driven over its
// REST API, the plugin zip, the Node sidecar with the core, and the Lightspeed emulator.
// An online order becomes exactly one balanced POS sale on the right customer; a refund
// that restocks becomes a POS return that restocks; faults never duplicate or lose a sale.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { e2eSkip, startShop, SETTINGS_PAGE } from './shop.mjs';

const skip = await e2eSkip();

// Demo catalogue (js/emulator/seed.mjs): Classic Tee = item 1 (19.00), Crew Tee S Black = 7, M Black = 8 (24.00).
const ITEM = { 'TEE-WHT': '1', 'CREW-S-BLK': '7', 'CREW-M-BLK': '8' };

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('e2e: WooCommerce orders and refunds → POS sales and returns', () => {
    let shop;
    let site;
    let ids;
    let control;
    let state;
    let posStock;
    let salesWith;
    let linesOf;
    let webStock;
    let outboxRow;
    let tick;
    let buy;
    const settingsPage = SETTINGS_PAGE;
    // The sidecar processes of this site (started by its PHP, so by this test).
    const sidecarPids = () => {
      const mine = path.join(site.wpDir, 'wp-content', 'plugins', 'pos-sync', 'sidecar', 'sidecar.mjs');
      return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(mine);
        } catch {
          return false;
        }
      }).map(Number);
    };

    before(async () => {
      shop = await startShop({
        setup: `$out = array();
          $tee = new WC_Product_Simple(); $tee->set_name( 'Classic Tee' ); $tee->set_sku( 'TEE-WHT' ); $tee->set_regular_price( '19' ); $tee->set_manage_stock( true ); $tee->set_stock_quantity( 0 ); $out['TEE-WHT'] = $tee->save();
          $attr = new WC_Product_Attribute(); $attr->set_name( 'Size' ); $attr->set_options( array( 'S', 'M' ) ); $attr->set_variation( true ); $attr->set_visible( true );
          $crew = new WC_Product_Variable(); $crew->set_name( 'Crew Tee' ); $crew->set_attributes( array( $attr ) ); $out['CREW'] = $crew->save();
          foreach ( array( 'S' => 'CREW-S-BLK', 'M' => 'CREW-M-BLK' ) as $size => $sku ) {
            $v = new WC_Product_Variation(); $v->set_parent_id( $out['CREW'] ); $v->set_attributes( array( 'size' => $size ) ); $v->set_sku( $sku ); $v->set_regular_price( '24' ); $v->set_manage_stock( true ); $v->set_stock_quantity( 0 ); $out[ $sku ] = $v->save();
          }
          WC_Product_Variable::sync( $out['CREW'] );
          return $out;`,
      }); // the first tick links the products by SKU and brings the POS stock
      ({ site, ids, control, state, posStock, salesWith, linesOf, webStock, outboxRow, tick } = shop);
      buy = (email, lines, extra) => shop.order(email, lines, extra);
    });
    after(async () => {
      await shop?.stop();
    });

    let first;
    let firstSale;
    test('an order for a simple product and two variations becomes exactly one balanced POS sale with the right lines, customer and reference; POS stock drops', async () => {
      const st0 = await state();
      for (const sku of Object.keys(ITEM)) assert.equal(await webStock(ids[sku]), posStock(st0, ITEM[sku]), `${sku} linked and synced`);
      first = await buy('grace@example.com', [['TEE-WHT', 1], ['CREW-S-BLK', 2], ['CREW-M-BLK', 1]]);
      assert.equal(first.total, '91.00');
      const ref = `WEB-${first.number}`;
      assert.equal((await outboxRow(ref)).state, 'pending');
      const runs = await tick();
      assert.equal(runs.post_orders.ok, true, runs.post_orders.error);
      const row = await outboxRow(ref);
      assert.equal(row.state, 'posted', row.last_error);
      const st = await state();
      const sales = salesWith(st, ref);
      assert.equal(sales.length, 1, 'exactly one sale with the reference');
      firstSale = sales[0];
      assert.equal(row.pos_sale_id, firstSale.saleID);
      assert.equal(firstSale.completed, 'true');
      assert.equal(firstSale.shopID, '1');
      assert.equal(firstSale.registerID, '1');
      assert.equal(firstSale.employeeID, '3');
      assert.equal(firstSale.balance, '0.00', 'balanced');
      assert.equal(firstSale.calcTotal, '91.00');
      assert.equal(firstSale.calcPayments, '91.00');
      const lines = linesOf(st, firstSale.saleID).map((l) => [l.itemID, Number(l.unitQuantity), l.unitPrice]).sort();
      assert.deepEqual(lines, [['1', 1, '19.00'], ['7', 2, '24.00'], ['8', 1, '24.00']]);
      const payments = st.tables.SalePayment.filter((p) => p.saleID === firstSale.saleID);
      assert.deepEqual(payments.map((p) => [p.paymentTypeID, p.amount]), [['7', '91.00']]);
      const customer = st.tables.Customer.find((c) => c.customerID === firstSale.customerID);
      assert.deepEqual([customer.firstName, customer.lastName], ['Grace', 'Hopper']);
      assert.equal(row.pos_customer_id, firstSale.customerID);
      for (const [sku, qty] of [['TEE-WHT', 1], ['CREW-S-BLK', 2], ['CREW-M-BLK', 1]]) {
        assert.equal(posStock(st, ITEM[sku]), posStock(st0, ITEM[sku]) - qty, `POS stock of ${sku} dropped by ${qty}`);
      }
      // The next tick rechecks the sold items: the web shows the POS figure, the order counted once.
      await tick();
      for (const sku of Object.keys(ITEM)) assert.equal(await webStock(ids[sku]), posStock(st, ITEM[sku]), `${sku} after the recheck`);
      // The order screen shows the POS sale ID.
      const screen = await (await site.adminFetch(`/wp-admin/admin.php?page=wc-orders&action=edit&id=${first.id}`)).text();
      assert.match(screen, new RegExp(`in the POS — POS sale ID ${firstSale.saleID}`));
    });

    test('a partial refund with restock becomes a POS return on the same customer and restores that stock', async () => {
      const st0 = await state();
      const line = first.line_items.find((l) => l.variation_id === ids['CREW-S-BLK']);
      const refund = await site.rest('POST', `/wc/v3/orders/${first.id}/refunds`, { amount: '24.00', api_refund: false, api_restock: true, line_items: [{ id: line.id, quantity: 1, refund_total: 24 }] });
      const ref = `WEB-R${refund.id}`;
      assert.equal((await outboxRow(ref)).state, 'pending');
      const runs = await tick();
      assert.equal(runs.post_orders.ok, true, runs.post_orders.error);
      const row = await outboxRow(ref);
      assert.equal(row.state, 'posted', row.last_error);
      const st = await state();
      const returns = salesWith(st, ref);
      assert.equal(returns.length, 1);
      assert.equal(returns[0].customerID, firstSale.customerID);
      assert.equal(returns[0].balance, '0.00');
      const lines = linesOf(st, returns[0].saleID);
      assert.deepEqual(lines.map((l) => [l.itemID, Number(l.unitQuantity)]), [['7', -1]]);
      assert.equal(posStock(st, '7'), posStock(st0, '7') + 1, 'the POS restocked the unit');
      await tick();
      assert.equal(await webStock(ids['CREW-S-BLK']), posStock(st, '7'));
    });

    test('a second order by the same e-mail reuses the POS customer', async () => {
      const before = (await state()).tables.Customer.length;
      const second = await buy('grace@example.com', [['TEE-WHT', 1]]);
      await tick();
      const st = await state();
      const sales = salesWith(st, `WEB-${second.number}`);
      assert.equal(sales.length, 1);
      assert.equal(sales[0].customerID, firstSale.customerID);
      assert.equal(st.tables.Customer.length, before, 'no new customer');
    });

    test('POS 500s on sale posts, then a sale committed and its connection dropped: after recovery each order is in the POS exactly once, no row lost', async () => {
      const a = await buy('ada@example.com', [['TEE-WHT', 1]]);
      const b = await buy('alan@example.com', [['CREW-M-BLK', 1]]);
      const refs = [`WEB-${a.number}`, `WEB-${b.number}`];
      await control('faults', { method: 'POST', path: 'Sale\\.json$', count: 5, action: 'status', status: 500 });
      await tick();
      let rows = await Promise.all(refs.map(outboxRow));
      for (const r of rows) assert.notEqual(r.state, 'posted');
      assert.ok(rows.some((r) => r.state === 'retry' && Number(r.attempts) >= 1 && /500|503|unavailable/i.test(r.last_error)), JSON.stringify(rows));
      let st = await state();
      for (const ref of refs) assert.equal(salesWith(st, ref).length, 0);
      // The failure is shown in the admin with its cause.
      assert.match(await (await site.adminFetch(settingsPage)).text(), /failed, will retry/);

      // The POS recovers; the next write is committed but its answer is lost.
      await control('faults', undefined, 'DELETE');
      await control('faults', { method: 'POST', path: 'Sale\\.json$', count: 1, action: 'drop_after_write' });
      await site.wpEval(`global $wpdb; $wpdb->query( "UPDATE {$wpdb->prefix}pos_sync_outbox SET retry_at_ms = 1 WHERE state = 'retry'" ); return true;`); // the retry time has come
      for (let i = 0; i < 4; i++) {
        await tick();
        rows = await Promise.all(refs.map(outboxRow));
        if (rows.every((r) => r.state === 'posted')) break;
        await site.wpEval(`global $wpdb; $wpdb->query( "UPDATE {$wpdb->prefix}pos_sync_outbox SET retry_at_ms = 1 WHERE state = 'retry'" ); return true;`);
      }
      assert.deepEqual(rows.map((r) => r.state), ['posted', 'posted'], JSON.stringify(rows));
      const left = await control('faults', undefined, 'GET');
      assert.ok(left.every((f) => f.count <= 0), `the dropped write happened: ${JSON.stringify(left)}`);
      st = await state();
      for (const ref of refs) assert.equal(salesWith(st, ref).length, 1, `${ref} exactly once`);
      // Every order of this file is in the POS exactly once, and every outbox row is still there.
      const all = await site.wpEval(`global $wpdb; return $wpdb->get_results( "SELECT reference_number, state FROM {$wpdb->prefix}pos_sync_outbox ORDER BY id", ARRAY_A );`);
      assert.equal(all.length, 5);
      for (const r of all) {
        assert.equal(r.state, 'posted');
        assert.equal(salesWith(st, r.reference_number).length, 1, r.reference_number);
      }
    });

    test('a 429 storm on the sale lookups and posts is waited out: the order is in the POS exactly once', async () => {
      const c = await buy('storm@example.com', [['CREW-S-BLK', 1]]);
      const ref = `WEB-${c.number}`;
      await control('faults', { path: 'Sale\\.json$', count: 4, action: 'status', status: 429 });
      let row;
      for (let i = 0; i < 3; i++) {
        await tick();
        row = await outboxRow(ref);
        if (row.state === 'posted') break;
        await site.wpEval(`global $wpdb; $wpdb->query( "UPDATE {$wpdb->prefix}pos_sync_outbox SET retry_at_ms = 1 WHERE state = 'retry'" ); return true;`);
      }
      assert.equal(row.state, 'posted', row.last_error);
      const log = await control('log', undefined, 'GET');
      assert.ok(log.filter((e) => /Sale\.json$/.test(e.path) && e.status === 429).length >= 4, 'the storm happened');
      assert.equal(salesWith(await state(), ref).length, 1, 'exactly once');
    });

    test('a sidecar killed in the middle of a post_orders batch loses nothing and posts nothing twice', async () => {
      const c = await buy('kill@example.com', [['TEE-WHT', 1]]);
      const ref = `WEB-${c.number}`;
      await control('faults', { method: 'POST', path: 'Sale\\.json$', count: 1, action: 'hang' });
      await site.wpEval(`wp_clear_scheduled_hook( 'pos_sync_tick' ); wp_schedule_event( time() - 1, 'pos_sync_minute', 'pos_sync_tick' ); return true;`);
      const cron = site.runCron();
      let row;
      for (let i = 0; i < 100; i++) {
        row = await outboxRow(ref);
        if (row.state === 'sending') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(row.state, 'sending', 'claimed by the post_orders run');
      await new Promise((r) => setTimeout(r, 1500)); // the sidecar now waits on the sale post
      const pids = sidecarPids();
      assert.ok(pids.length, 'the post_orders sidecar is running');
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      await cron;
      const runs = await site.wpEval(`return get_option( 'pos_sync_last_runs' );`);
      assert.equal(runs.post_orders.ok, false);
      assert.match(runs.post_orders.error, /killed \(signal 9\)/);
      assert.equal((await outboxRow(ref)).state, 'sending', 'the row stays, due again');
      await control('faults', undefined, 'DELETE');
      await tick();
      assert.equal((await outboxRow(ref)).state, 'posted');
      assert.equal(salesWith(await state(), ref).length, 1, 'exactly once');
    });

    test('no PHP notice in the debug log', () => {
      assert.deepEqual(site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
