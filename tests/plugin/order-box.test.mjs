// The POS box on the order screen and the status page's outbox counts, in the merchant's
// words (issue 11), on real WordPress + WooCommerce (HPOS; the legacy post screen's box
// too): every row of an order — the sale, a sale of items added after posting, a return
// of removed items, a refund, the return for a cancel — with its reference, its state in
// words (with the cause when it is stuck, the POS sale ID once posted) and the Retry /
// Entered by hand / Cancel buttons where they apply, pressed as the merchant would.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createSite, wordPressOrSkip, REPO_ROOT } from '../../scripts/lib/site.mjs';
import { press } from './forms.mjs';

const { skip } = await wordPressOrSkip();

const decode = (s) => s.replace(/&#8212;|&mdash;/g, '—').replace(/&#8220;|&#8221;/g, '"').replace(/&amp;/g, '&').replace(/&#039;/g, "'");

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('order box and status page in words', { timeout: 600_000 }, () => {
    let site;
    let ids;
    const sql = (query, args = null) => site.wpEval(`global $wpdb; $q = str_replace( '{outbox}', $wpdb->prefix . 'pos_sync_outbox', ${JSON.stringify(query)} ); return $wpdb->get_results( $args ? $wpdb->prepare( $q, $args ) : $q, ARRAY_A );`, args);
    const order = (status, lines) =>
      site.rest('POST', '/wc/v3/orders', { status, set_paid: status === 'processing', payment_method: 'bacs', billing: { email: 'ada@example.com', first_name: 'Ada' }, line_items: lines.map(([sku, quantity]) => ({ product_id: ids[sku], quantity })) });
    const screen = async (orderId) => (await site.adminFetch(`/wp-admin/admin.php?page=wc-orders&action=edit&id=${orderId}`)).text();
    // The box's rows: reference → {state, role, words, buttons}.
    const box = (html) => {
      const ul = html.match(/<ul class="pos-sync-order-rows">([\s\S]*?)<\/ul>/);
      assert.ok(ul, 'the POS box lists the rows');
      const out = {};
      for (const m of ul[1].matchAll(/<li class="pos-sync-order-state" data-state="([^"]+)" data-reference="([^"]+)"><strong>([^<]+)<\/strong> [^:]+: <span class="pos-sync-order-words">([^<]*)<\/span>(.*?)<\/li>/gs)) {
        out[m[2]] = { state: m[1], role: decode(m[3]), words: decode(m[4]), buttons: [...m[5].matchAll(/<button[^>]*>([^<]+)<\/button>/g)].map((b) => decode(b[1])) };
      }
      return out;
    };

    before(async () => {
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: false });
      ids = await site.wpEval(`update_option( 'pos_sync_settings', array( 'reference_prefix' => 'WEB-', 'reconcile_every' => 'off' ) );
        $out = array();
        foreach ( array( 'TEE' => '701', 'MUG' => '702', 'CAP' => '703' ) as $sku => $item ) {
          $p = new WC_Product_Simple(); $p->set_name( 'Linked ' . $sku ); $p->set_sku( $sku ); $p->set_regular_price( '10' ); $p->set_manage_stock( true ); $p->set_stock_quantity( 20 );
          $id = $p->save(); update_post_meta( $id, '_pos_sync_item_id', $item ); $out[ $sku ] = $id;
        }
        return $out;`);
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
    });

    test('an on-hold order: "Held for stock — sent when paid", with the by-hand and cancel buttons; a cancelled one says it was never sent', async () => {
      const held = await order('on-hold', [['TEE', 1]]);
      let rows = box(await screen(held.id));
      assert.deepEqual(rows[`WEB-${held.number}`], { state: 'held', role: 'Sale', words: 'Held for stock — sent when paid', buttons: ['Entered in the POS by hand', 'Cancel (do not send)'] });
      const gone = await order('processing', [['TEE', 1]]);
      await site.rest('PUT', `/wc/v3/orders/${gone.id}`, { status: 'cancelled' });
      rows = box(await screen(gone.id));
      assert.deepEqual(rows[`WEB-${gone.number}`], { state: 'cancelled', role: 'Sale', words: 'Cancelled — never sent to the POS, stock released', buttons: [] });
    });

    test('an order posted, edited, refunded and cancelled: every row with its reference, what it is, where it stands, and its buttons; pressing one from the order screen', async () => {
      const o = await order('processing', [['TEE', 2], ['MUG', 1]]);
      await sql("UPDATE {outbox} SET state = 'posted', first_attempt_at_ms = 1, posted_at_ms = 2, pos_sale_id = '4242' WHERE order_id = %d", [o.id]);
      const tee = o.line_items.find((l) => l.product_id === ids.TEE);
      const mug = o.line_items.find((l) => l.product_id === ids.MUG);
      // Edited after posting: a cap added, the mug removed.
      await site.rest('PUT', `/wc/v3/orders/${o.id}`, { line_items: [{ id: mug.id, product_id: ids.MUG, quantity: 0 }, { product_id: ids.CAP, quantity: 1 }] });
      const refund = await site.rest('POST', `/wc/v3/orders/${o.id}/refunds`, { amount: '10.00', api_refund: false, api_restock: true, line_items: [{ id: tee.id, quantity: 1, refund_total: 10 }] });
      await site.rest('PUT', `/wc/v3/orders/${o.id}`, { status: 'cancelled' });
      const refs = (await sql('SELECT reference_number, kind, part FROM {outbox} WHERE order_id = %d ORDER BY id', [o.id])).map((r) => r.reference_number);
      const [sale, addSale, removed, refundRef, cancel] = refs;
      assert.deepEqual([sale, refundRef, refs.length], [`WEB-${o.number}`, `WEB-R${refund.id}`, 5], JSON.stringify(refs));
      assert.match(cancel, /-C\d+$/);
      // The cancel released the unsent added sale; each row is put in another state, as a week of a real shop would leave them.
      await sql("UPDATE {outbox} SET state = 'attention', attempts = 8, last_error = 'totals_mismatch: the sale lines add up to 10.00, the order says 12.00' WHERE reference_number = %s", [addSale]);
      await sql("UPDATE {outbox} SET state = 'retry', attempts = 2, retry_at_ms = 4102444800000, last_error = 'pos_unavailable: the POS answered 503' WHERE reference_number = %s", [removed]);
      await sql("UPDATE {outbox} SET state = 'manual', released = 1 WHERE reference_number = %s", [refundRef]);
      const html = await screen(o.id);
      const rows = box(html);
      assert.deepEqual(Object.keys(rows), [sale, addSale, removed, refundRef, cancel], 'every row of the order, oldest first');
      assert.deepEqual(rows[sale], { state: 'posted', role: 'Sale', words: 'in the POS — POS sale ID 4242', buttons: [] });
      assert.deepEqual(rows[addSale], {
        state: 'attention',
        role: 'Sale of items added after posting',
        words: 'Needs attention — not in the POS and holding its stock: totals_mismatch: the sale lines add up to 10.00, the order says 12.00',
        buttons: ['Retry now', 'Entered in the POS by hand', 'Cancel (do not send)'],
      });
      assert.equal(rows[removed].role, 'Return of items removed after posting');
      assert.match(rows[removed].words, /^Not in the POS yet — attempt 2 failed, tried again at 2100-01-01 \d\d:\d\d: pos_unavailable: the POS answered 503$/);
      assert.deepEqual(rows[removed].buttons, ['Retry now', 'Entered in the POS by hand', 'Cancel (do not send)']);
      assert.deepEqual(rows[refundRef], { state: 'manual', role: `Return for refund ${refund.id}`, words: 'Entered in the POS by hand', buttons: [] });
      assert.deepEqual(rows[cancel], { state: 'pending', role: 'Return for the cancel', words: 'Waiting to be sent to the POS', buttons: ['Entered in the POS by hand', 'Cancel (do not send)'] });
      // The merchant keyed the added cap into the POS by hand: pressed on the order screen (POST + nonce).
      const [{ id }] = await sql('SELECT id FROM {outbox} WHERE reference_number = %s', [addSale]);
      const res = await press(site.adminFetch, html, new RegExp(`name="pos_sync_row" value="manual:${id}"`), { pos_sync_row: `manual:${id}` });
      assert.equal(res.status, 302);
      assert.match(res.headers.get('location'), /pos_sync_resolved=1/);
      const after = box(await screen(o.id));
      assert.deepEqual(after[addSale], { state: 'manual', role: 'Sale of items added after posting', words: 'Entered in the POS by hand', buttons: [] });
      const get = await site.adminFetch(`/wp-admin/admin-post.php?action=pos_sync_outbox_action&pos_sync_row=cancel:${id}`);
      assert.notEqual(get.status, 302, 'a GET changes nothing');
    });

    test('the legacy order screen gets the same box', async () => {
      const o = await order('on-hold', [['MUG', 1]]);
      const r = await site.wpEval(`global $wp_meta_boxes; require_once ABSPATH . 'wp-admin/includes/admin.php'; set_current_screen( 'shop_order' );
        PosSync\\Admin\\OrdersAdmin::add_order_box( 'shop_order', null );
        ob_start(); PosSync\\Admin\\OrdersAdmin::order_box( new WP_Post( (object) array( 'ID' => (int) $args, 'post_type' => 'shop_order' ) ) );
        return array( isset( $wp_meta_boxes['shop_order']['side']['default']['pos-sync-order'] ), ob_get_clean() );`, o.id);
      assert.equal(r[0], true, 'the box is added to the legacy screen');
      assert.deepEqual(box(r[1])[`WEB-${o.number}`].words, 'Held for stock — sent when paid');
    });

    test('the status page counts held, waiting, needing attention, in the POS, cancelled and entered by hand', async () => {
      const counts = Object.fromEntries((await sql('SELECT state, COUNT(*) AS n FROM {outbox} GROUP BY state')).map((r) => [r.state, Number(r.n)]));
      const n = (s) => counts[s] ?? 0;
      for (const s of ['held', 'cancelled', 'manual', 'posted']) assert.ok(n(s) > 0, `the shop has ${s} rows`);
      const html = decode(await (await site.adminFetch('/wp-admin/admin.php?page=pos-sync')).text());
      const expected = `${n('held')} held for stock (sent when paid), ${n('pending') + n('sending') + n('retry')} waiting to be sent, ${n('attention')} needing attention, ${n('posted')} in the POS, ${n('cancelled')} cancelled (never sent), ${n('manual')} entered in the POS by hand.`;
      assert.equal(html.match(/id="pos-sync-outbox-counts">([^<]*)</)[1], expected);
      assert.equal(n('held'), 2);
    });

    test('no PHP notice in the debug log', () => {
      assert.deepEqual(site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
