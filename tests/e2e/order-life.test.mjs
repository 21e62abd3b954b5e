// End to end, the life of an order (issue 11): real WordPress + WooCommerce (HPOS) driven
// over its REST API, the plugin zip, the Node sidecar with the core, and the Lightspeed
// emulator. An on-hold order holds its unit until it is cancelled; an order cancelled
// before it was sent never reaches the POS; one cancelled after posting gets exactly one
// POS return; an order edited after posting sends the difference only; a refunded status
// without a WooCommerce refund object is one return, and nothing is returned twice.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { e2eSkip, startShop } from './shop.mjs';

const skip = await e2eSkip();

// Demo catalogue (js/emulator/seed.mjs): Classic Tee 19.00, Logo Hoodie 49.00, Harbour Mug 12.50.
const PRICES = { 'TEE-WHT': '19', 'HOOD-LOGO': '49', 'MUG-HARB': '12.5' };

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('e2e: the life of an order (holds, cancels, edits, returns)', { timeout: 900_000 }, () => {
    let shop;
    let item; // sku → POS itemID
    const wait = { timeout: 180_000 };
    // Puts the POS at `qoh` in shop 1 (0 elsewhere) and lets the web follow.
    const posAt = async (sku, qoh) => {
      await shop.control('stock', { itemID: item[sku], shopID: 1, qoh });
      await shop.control('stock', { itemID: item[sku], shopID: 2, qoh: 0 });
    };
    const both = async (sku) => {
      const st = await shop.state();
      return { pos: shop.posStock(st, item[sku]), web: await shop.webStock(shop.ids[sku]) };
    };
    // Every POS sale or return of an order: its own reference and every part of it.
    const salesOf = (st, order) => st.tables.Sale.filter((s) => s.referenceNumber === `WEB-${order.number}` || s.referenceNumber.startsWith(`WEB-${order.number}-`));
    const lineQty = (st, sale) => shop.linesOf(st, sale.saleID).map((l) => [l.itemID, Number(l.unitQuantity)]).sort();
    const rows = async (order) => (await shop.rowsOf(order.id)).map((r) => [r.reference_number, r.kind, r.state]);

    before(async () => {
      shop = await startShop({
        setup: `$out = array();
          foreach ( json_decode( '${JSON.stringify(PRICES)}', true ) as $sku => $price ) {
            $p = new WC_Product_Simple(); $p->set_name( 'Demo ' . $sku ); $p->set_sku( $sku ); $p->set_regular_price( $price ); $p->set_manage_stock( true ); $p->set_stock_quantity( 0 ); $out[ $sku ] = $p->save();
          }
          return $out;`,
      });
      const st = await shop.state();
      item = Object.fromEntries(Object.keys(PRICES).map((sku) => [sku, shop.itemBySku(st, sku)]));
    });
    after(async () => {
      await shop?.stop();
    });

    test('an on-hold order holds its unit through a POS stock reading and a full reconcile, and releases it when cancelled', wait, async () => {
      await posAt('TEE-WHT', 2);
      await shop.tick();
      assert.deepEqual(await both('TEE-WHT'), { pos: 2, web: 2 });
      const o = await shop.order('hold@example.com', [['TEE-WHT', 1]], { status: 'on-hold', set_paid: false });
      assert.equal(await shop.webStock(shop.ids['TEE-WHT']), 1, 'WooCommerce took the unit');
      assert.deepEqual(await rows(o), [[`WEB-${o.number}`, 'order', 'held']]);
      // A new POS reading of the item (a stock count in the shop: still 2).
      await posAt('TEE-WHT', 2);
      await shop.tick();
      assert.deepEqual(await both('TEE-WHT'), { pos: 2, web: 1 }, 'the POS reading does not give the held unit back');
      // A full reconcile reads every item again.
      await shop.site.wpEval(`PosSync\\Jobs\\Reconcile::start(); return true;`);
      const runs = await shop.tick();
      assert.equal(runs.reconcile?.ok, true, JSON.stringify(runs.reconcile));
      assert.deepEqual(await both('TEE-WHT'), { pos: 2, web: 1 }, 'nor does the full reconcile');
      assert.equal(salesOf(await shop.state(), o).length, 0, 'a held order is never sent');
      // Cancelled: WooCommerce gives the unit back and the hold ends.
      await shop.site.rest('PUT', `/wc/v3/orders/${o.id}`, { status: 'cancelled' });
      assert.deepEqual(await rows(o), [[`WEB-${o.number}`, 'order', 'cancelled']]);
      await shop.tick();
      assert.deepEqual(await both('TEE-WHT'), { pos: 2, web: 2 }, 'the unit is back on the web, and only once');
      assert.equal(salesOf(await shop.state(), o).length, 0);
    });

    test('paid then cancelled before the tick: no POS sale, the stock back on the web', wait, async () => {
      await posAt('HOOD-LOGO', 3);
      await shop.tick();
      const o = await shop.order('quick@example.com', [['HOOD-LOGO', 1]]);
      assert.equal(await shop.webStock(shop.ids['HOOD-LOGO']), 2);
      await shop.site.rest('PUT', `/wc/v3/orders/${o.id}`, { status: 'cancelled' });
      assert.deepEqual(await rows(o), [[`WEB-${o.number}`, 'order', 'cancelled']]);
      await shop.tick();
      await posAt('HOOD-LOGO', 3); // and a later reading of the item
      await shop.tick();
      assert.equal(salesOf(await shop.state(), o).length, 0, 'never sent to the POS');
      assert.deepEqual(await both('HOOD-LOGO'), { pos: 3, web: 3 });
    });

    test('posted then cancelled: exactly one POS return by its own reference, POS stock back, web right; a later failed or refunded status returns nothing more', wait, async () => {
      await posAt('MUG-HARB', 5);
      await shop.tick();
      const o = await shop.order('mug@example.com', [['MUG-HARB', 2]]);
      await shop.tick();
      let st = await shop.state();
      const [sale] = salesOf(st, o);
      assert.equal(sale?.referenceNumber, `WEB-${o.number}`);
      assert.equal(shop.posStock(st, item['MUG-HARB']), 3, 'the sale took 2 in the POS');
      await shop.site.rest('PUT', `/wc/v3/orders/${o.id}`, { status: 'cancelled' });
      assert.deepEqual(await rows(o), [
        [`WEB-${o.number}`, 'order', 'posted'],
        [`WEB-${o.number}-C1`, 'refund', 'pending'],
      ]);
      await shop.tick();
      st = await shop.state();
      const sales = salesOf(st, o);
      assert.deepEqual(sales.map((s) => s.referenceNumber), [`WEB-${o.number}`, `WEB-${o.number}-C1`], 'one sale, one return');
      const ret = sales[1];
      assert.deepEqual(lineQty(st, ret), [[item['MUG-HARB'], -2]], 'the return restocks both units');
      assert.equal(ret.customerID, sale.customerID, 'on the same customer');
      assert.equal(ret.balance, '0.00');
      assert.equal(shop.posStock(st, item['MUG-HARB']), 5, 'POS stock back');
      await shop.tick();
      assert.deepEqual(await both('MUG-HARB'), { pos: 5, web: 5 }, 'web stock right');
      // The merchant changes the status again: failed, then refunded (WooCommerce then makes a refund object of the whole total).
      await shop.site.rest('PUT', `/wc/v3/orders/${o.id}`, { status: 'failed' });
      await shop.site.rest('PUT', `/wc/v3/orders/${o.id}`, { status: 'refunded' });
      await shop.tick();
      await shop.tick();
      st = await shop.state();
      const refunds = await shop.site.rest('GET', `/wc/v3/orders/${o.id}/refunds`);
      const refundSales = refunds.flatMap((r) => shop.salesWith(st, `WEB-R${r.id}`));
      assert.deepEqual([...salesOf(st, o), ...refundSales].map((s) => s.referenceNumber), [`WEB-${o.number}`, `WEB-${o.number}-C1`], 'still one sale and one return');
      assert.deepEqual(await both('MUG-HARB'), { pos: 5, web: 5 });
      for (const r of await shop.rowsOf(o.id)) assert.notEqual(r.state, 'attention', `${r.reference_number}: ${r.last_error}`);
    });

    test('an order edited after posting: the POS gets a sale of the added line and a return of the removed units, never a second copy', wait, async () => {
      await posAt('TEE-WHT', 6);
      await posAt('HOOD-LOGO', 4);
      await posAt('MUG-HARB', 6);
      await shop.tick();
      const o = await shop.order('edit@example.com', [['TEE-WHT', 3], ['MUG-HARB', 1]]);
      await shop.tick();
      let st = await shop.state();
      assert.equal(salesOf(st, o).length, 1);
      const tee = o.line_items.find((l) => l.product_id === shop.ids['TEE-WHT']);
      const mug = o.line_items.find((l) => l.product_id === shop.ids['MUG-HARB']);
      // The merchant adds a hoodie, takes one tee off and removes the mug line.
      await shop.site.rest('PUT', `/wc/v3/orders/${o.id}`, {
        line_items: [
          { id: tee.id, product_id: shop.ids['TEE-WHT'], quantity: 2 },
          { id: mug.id, product_id: shop.ids['MUG-HARB'], quantity: 0 },
          { product_id: shop.ids['HOOD-LOGO'], quantity: 1 },
        ],
      });
      await shop.tick();
      st = await shop.state();
      const sales = salesOf(st, o);
      const byRef = Object.fromEntries(sales.map((s) => [s.referenceNumber, lineQty(st, s)]));
      assert.deepEqual(byRef[`WEB-${o.number}`], [[item['MUG-HARB'], 1], [item['TEE-WHT'], 3]].sort(), 'the first sale as it was');
      // The edit may reach the plugin in more than one save (WooCommerce saves the order per change):
      // the extra sales and returns together are exactly the difference, each unit once.
      const extra = sales.filter((s) => s.referenceNumber !== `WEB-${o.number}`).map((s) => lineQty(st, s));
      const sum = (lists) => Object.entries(lists.flat().reduce((m, [i, q]) => ({ ...m, [i]: (m[i] ?? 0) + q }), {})).sort();
      assert.ok(extra.every((l) => l.every(([, q]) => q > 0) || l.every(([, q]) => q < 0)), `each extra is a sale or a return: ${JSON.stringify(byRef)}`);
      assert.deepEqual(sum(extra.filter((l) => l[0][1] > 0)), [[item['HOOD-LOGO'], 1]], `a sale of the added line only: ${JSON.stringify(byRef)}`);
      assert.deepEqual(sum(extra.filter((l) => l[0][1] < 0)), [[item['MUG-HARB'], -1], [item['TEE-WHT'], -1]].sort(), `a return of the removed units only: ${JSON.stringify(byRef)}`);
      const count = sales.length;
      assert.deepEqual(
        [shop.posStock(st, item['TEE-WHT']), shop.posStock(st, item['HOOD-LOGO']), shop.posStock(st, item['MUG-HARB'])],
        [4, 3, 6],
        'the POS holds what the order holds now',
      );
      await shop.tick();
      for (const sku of ['TEE-WHT', 'HOOD-LOGO', 'MUG-HARB']) {
        const b = await both(sku);
        assert.equal(b.web, b.pos, `${sku} web follows the POS`);
      }
      // Saved again without a change: nothing more.
      await shop.site.rest('PUT', `/wc/v3/orders/${o.id}`, { customer_note: 'leave at the door' });
      await shop.tick();
      assert.equal(salesOf(await shop.state(), o).length, count, 'no second copy');
    });

    test('refunded status without a WooCommerce refund object: one full return; a refund object afterwards returns nothing twice', wait, async () => {
      await posAt('HOOD-LOGO', 4);
      await shop.tick();
      const o = await shop.order('refund@example.com', [['HOOD-LOGO', 2]]);
      await shop.tick();
      assert.equal(salesOf(await shop.state(), o).length, 1);
      // A gateway or plugin that marks orders refunded without WooCommerce's own refund object.
      await shop.site.wpEval(`remove_action( 'woocommerce_order_status_refunded', 'wc_order_fully_refunded' ); $o = wc_get_order( $args ); $o->update_status( 'refunded' ); return count( $o->get_refunds() );`, o.id);
      await shop.tick();
      let st = await shop.state();
      assert.deepEqual(salesOf(st, o).map((s) => [s.referenceNumber, lineQty(st, s)]), [
        [`WEB-${o.number}`, [[item['HOOD-LOGO'], 2]]],
        [`WEB-${o.number}-C1`, [[item['HOOD-LOGO'], -2]]],
      ]);
      assert.equal(shop.posStock(st, item['HOOD-LOGO']), 4);
      // Later the merchant records the refund in WooCommerce too, restocking one unit.
      const line = o.line_items[0];
      const refund = await shop.site.rest('POST', `/wc/v3/orders/${o.id}/refunds`, { amount: '49.00', api_refund: false, api_restock: true, line_items: [{ id: line.id, quantity: 1, refund_total: 49 }] });
      await shop.tick();
      await shop.tick();
      st = await shop.state();
      assert.deepEqual(shop.salesWith(st, `WEB-R${refund.id}`), [], 'the units are back in the POS already: no second return');
      assert.equal(salesOf(st, o).length, 2);
      assert.equal(shop.posStock(st, item['HOOD-LOGO']), 4);
      const b = await both('HOOD-LOGO');
      assert.equal(b.web, b.pos, 'web follows the POS');
      for (const r of await shop.rowsOf(o.id)) assert.notEqual(r.state, 'attention', `${r.reference_number}: ${r.last_error}`);
    });

    test('no PHP notice in the debug log', () => {
      assert.deepEqual(shop.site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
