// What the runner does across cron ticks, with the stand-in sidecar (fake-sidecar.mjs)
// and real WordPress + WooCommerce: recheck requests (hand edits overwritten though the
// POS did not move), the scheduled full reconcile (resumable, never abandoned, "Reconcile
// now"), and the outbox of orders and refunds (hooks, claim, sale_posted / outbox_failed,
// the admin). One site for the whole file.
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
  describe('runs across ticks', () => {
    let site;
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
    const setting = (values) => site.wpEval(`update_option( 'pos_sync_settings', array_merge( get_option( 'pos_sync_settings', array() ), $args ) ); return true;`, values);
    const settingsPage = '/wp-admin/admin.php?page=wc-settings&tab=pos_sync';
    const pressOnSettings = async (re) => press(site.adminFetch, await (await site.adminFetch(settingsPage)).text(), re);
    let linked;

    before(async () => {
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: false });
      fs.mkdirSync(fakeDir());
      fs.copyFileSync(path.join(REPO_ROOT, 'tests', 'plugin', 'fake-sidecar.mjs'), path.join(fakeDir(), 'sidecar.mjs'));
      await site.wpEval(`update_option( 'pos_sync_site_test_sidecar', $args );
        update_option( 'pos_sync_settings', array( 'api_base' => 'http://127.0.0.1:9/API/V3', 'account_id' => '1', 'client_id' => 'fake', 'client_secret' => 'fake-secret', 'reconcile_every' => 'off', 'reference_prefix' => 'WEB-' ) );
        PosSync\\Store\\Settings::save_tokens( null, 'fake-refresh', 0 ); return true;`, path.join(fakeDir(), 'sidecar.mjs'));
      linked = await site.wpEval(`$out = array();
        foreach ( array( 'TEE' => '701', 'MUG' => '702' ) as $sku => $item ) {
          $p = new WC_Product_Simple(); $p->set_name( 'Linked ' . $sku ); $p->set_sku( $sku ); $p->set_regular_price( '10' ); $p->set_manage_stock( true ); $p->set_stock_quantity( 20 );
          $id = $p->save(); update_post_meta( $id, '_pos_sync_item_id', $item ); update_post_meta( $id, '_pos_sync_last_stock', '20' ); $out[ $sku ] = $id;
        }
        return $out;`);
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
    });

    test('a hand edit over REST asks for a recheck; the next tick reads the item afresh and overwrites it though the POS did not move', async () => {
      await site.wpEval(`update_option( 'pos_sync_cursors', array( 'item_shop' => array( 'ts' => '2026-05-01T00:00:00+00:00', 'ids' => array( '9' ) ), 'reconcile' => null ) ); return true;`);
      await site.rest('PUT', `/wc/v3/products/${linked.TEE}`, { stock_quantity: 40 });
      const asked = await site.wpEval(`return PosSync\\Store\\Ledger::recheck_item_ids();`);
      assert.deepEqual(asked, ['701']);
      // The core answers a recheck with a fresh reading and the cursor {"recheck": [ids]}.
      fake({ mode: 'ok', stock: [{ levels: [{ item_id: '701', sku: 'TEE', shop_qoh: { 1: 20 }, qoh: 20, base: 20, read_from_ms: 'now' }], cursor: { recheck: ['701'] } }] });
      assert.deepEqual(await tick(), ['pos_sync_tick']);
      const job = jobs('sync').at(-1);
      assert.deepEqual(job.recheck_item_ids, ['701']);
      const after = await site.wpEval(`wp_cache_flush(); return array( wc_get_product( $args )->get_stock_quantity(), PosSync\\Store\\Ledger::recheck_item_ids(), PosSync\\Store\\Settings::cursors()['item_shop'], get_option( 'pos_sync_last_run' )['summary']['applied']['overwritten'], get_post_meta( $args, '_pos_sync_notes', true )[0]['message'] );`, linked.TEE);
      assert.equal(after[0], 20, 'the POS figure is back');
      assert.deepEqual(after[1], [], 'the request is answered');
      assert.deepEqual(after[2], { ts: '2026-05-01T00:00:00+00:00', ids: ['9'] }, 'the item_shop cursor is not touched');
      assert.equal(after[3], 1);
      assert.match(after[4], /changed to 40 by admin \(REST API\)/);
      // Answered: the next sync asks for nothing.
      fake({ mode: 'ok' });
      await tick();
      assert.deepEqual(jobs('sync').at(-1).recheck_item_ids, []);
      // An item the POS no longer returns is asked once, not forever.
      await site.wpEval(`PosSync\\Store\\Ledger::request_recheck( array( '999' ) ); return true;`);
      await tick();
      assert.deepEqual(jobs('sync').at(-1).recheck_item_ids, ['999']);
      assert.deepEqual(await site.wpEval(`return PosSync\\Store\\Ledger::recheck_item_ids();`), []);
    });

    test('the scheduled reconcile: a rate-limited pass resumes from its cursor at the next tick, runs until done, then waits for its schedule', async () => {
      await setting({ reconcile_every: 'daily' });
      fake({
        mode: 'ok',
        byKind: {
          reconcile: { mode: 'fail', code: 'rate_limited', message: 'Lightspeed answered 429 for 3 minutes', stock: [{ levels: [{ item_id: '702', sku: 'MUG', shop_qoh: { 1: 7 }, qoh: 7, base: 7, read_from_ms: 'now' }], cursor: { reconcile: { after: '702' } } }] },
        },
      });
      await tick();
      let st = await site.wpEval(`wp_cache_flush(); return array( PosSync\\Jobs\\Reconcile::state(), PosSync\\Store\\Settings::cursors()['reconcile'], wc_get_product( $args )->get_stock_quantity(), get_option( 'pos_sync_last_runs' )['reconcile']['ok'] );`, linked.MUG);
      assert.equal(jobs('reconcile').length, 1);
      assert.equal(jobs('reconcile')[0].cursors.reconcile, null, 'a new pass starts from the first item');
      assert.equal(st[0].running, true, 'the pass is not abandoned');
      assert.deepEqual(st[1], { after: '702' });
      assert.equal(st[2], 7, 'the page read before the 429 is applied');
      assert.equal(st[3], false);
      assert.match(await (await site.adminFetch('/wp-admin/')).text(), /POS Sync:.*the full reconcile \(.*\) failed: Lightspeed answered 429 for 3 minutes — nothing is lost/s);

      fake({ mode: 'ok', byKind: { reconcile: { mode: 'ok', stock: [{ levels: [], cursor: { reconcile: null } }] } } });
      await tick();
      assert.equal(jobs('reconcile').length, 2);
      assert.deepEqual(jobs('reconcile')[1].cursors.reconcile, { after: '702' }, 'resumed where it stopped');
      st = await site.wpEval(`return PosSync\\Jobs\\Reconcile::state();`);
      assert.equal(st.running, false);
      assert.ok(st.finished_at > 0);

      await tick();
      assert.equal(jobs('reconcile').length, 2, 'not due again before a day');
      assert.equal(jobs('sync').length >= 4, true);
    });

    test('"Reconcile now" needs the capability and a nonce, and starts a pass at the next tick', async () => {
      const bad = await site.adminFetch('/wp-admin/admin-post.php?action=pos_sync_reconcile_now');
      assert.notEqual(bad.status, 302);
      assert.equal((await site.wpEval(`return PosSync\\Jobs\\Reconcile::state()['running'];`)), false);
      const res = await pressOnSettings(/id="pos-sync-reconcile-now"/);
      assert.equal(res.status, 302);
      assert.equal((await site.wpEval(`return PosSync\\Jobs\\Reconcile::state()['running'];`)), true);
      assert.match(await (await site.adminFetch(settingsPage)).text(), /A pass started at .* is under way/);
      await tick();
      assert.equal(jobs('reconcile').length, 3);
      assert.equal(jobs('reconcile')[2].cursors.reconcile, null);
      assert.equal((await site.wpEval(`return PosSync\\Jobs\\Reconcile::state()['running'];`)), false);
      // Off: no pass, even when due.
      await setting({ reconcile_every: 'off' });
      await site.wpEval(`update_option( 'pos_sync_reconcile', array( 'running' => false, 'finished_at' => 1 ) ); return true;`);
      await tick();
      assert.equal(jobs('reconcile').length, 3);
    });

    let order;
    test('a paid order writes one outbox row (idempotent) with its raw payload and negative ledger lines', async () => {
      order = await site.rest('POST', '/wc/v3/orders', {
        status: 'processing',
        set_paid: true,
        payment_method: 'bacs',
        billing: { email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', phone: '555-0100', address_1: '1 Analytical Way', city: 'London', postcode: 'N1', country: 'GB' },
        line_items: [{ product_id: linked.TEE, quantity: 2 }, { product_id: linked.MUG, quantity: 1 }],
      });
      await site.rest('PUT', `/wc/v3/orders/${order.id}`, { status: 'completed' }); // a second paid status
      const rows = await site.wpEval(`global $wpdb; return array(
        $wpdb->get_results( $wpdb->prepare( "SELECT id, reference_number, kind, state, attempts, first_attempt_at_ms, posted_at_ms, payload FROM {$wpdb->prefix}pos_sync_outbox WHERE order_id = %d", $args ), ARRAY_A ),
        $wpdb->get_results( $wpdb->prepare( "SELECT l.product_id, l.item_id, l.qty FROM {$wpdb->prefix}pos_sync_outbox_lines l JOIN {$wpdb->prefix}pos_sync_outbox o ON o.id = l.outbox_id WHERE o.order_id = %d ORDER BY l.id", $args ), ARRAY_A ) );`, order.id);
      assert.equal(rows[0].length, 1, 'one row per order');
      const row = rows[0][0];
      assert.equal(row.reference_number, `WEB-${order.number}`);
      assert.equal(row.state, 'pending');
      assert.equal(row.first_attempt_at_ms, null);
      const payload = JSON.parse(row.payload);
      assert.equal(payload.customer.email, 'ada@example.com');
      assert.equal(payload.customer.billing.city, 'London');
      assert.equal(payload.gateway, 'bacs');
      assert.equal(payload.total, '30.00');
      assert.deepEqual(payload.lines.map((l) => [l.item_id, l.qty, l.unit_price, l.total]), [['701', 2, '10.00', '20.00'], ['702', 1, '10.00', '10.00']]);
      assert.deepEqual(rows[1], [
        { product_id: String(linked.TEE), item_id: '701', qty: '-2' },
        { product_id: String(linked.MUG), item_id: '702', qty: '-1' },
      ]);
    });

    test('a refund with restock writes a refund row with + ledger lines; a money-only refund has none', async () => {
      const items = order.line_items;
      const tee = items.find((l) => l.product_id === linked.TEE);
      await site.rest('POST', `/wc/v3/orders/${order.id}/refunds`, { amount: '10.00', api_refund: false, api_restock: true, line_items: [{ id: tee.id, quantity: 1, refund_total: 10 }] });
      await site.rest('POST', `/wc/v3/orders/${order.id}/refunds`, { amount: '2.50', api_refund: false, reason: 'goodwill' });
      const rows = await site.wpEval(`global $wpdb; return $wpdb->get_results( $wpdb->prepare( "SELECT o.reference_number, o.kind, o.refund_id, o.payload, ( SELECT GROUP_CONCAT( CONCAT( l.product_id, ':', l.qty ) ) FROM {$wpdb->prefix}pos_sync_outbox_lines l WHERE l.outbox_id = o.id ) AS ledger FROM {$wpdb->prefix}pos_sync_outbox o WHERE o.order_id = %d AND o.kind = 'refund' ORDER BY o.id", $args ), ARRAY_A );`, order.id);
      assert.equal(rows.length, 2);
      assert.equal(rows[0].reference_number, `WEB-R${rows[0].refund_id}`);
      const restock = JSON.parse(rows[0].payload);
      assert.equal(restock.order_reference, `WEB-${order.number}`);
      assert.deepEqual(restock.lines.map((l) => [l.item_id, l.qty, l.amount, l.restock]), [['701', 1, '10.00', true]]);
      assert.equal(rows[0].ledger, `${linked.TEE}:1`);
      const money = JSON.parse(rows[1].payload);
      assert.equal(money.amount, '2.50');
      assert.deepEqual(money.lines, []);
      assert.equal(rows[1].ledger, null);
    });

    test('post_orders: due rows claimed and sent with the order settings; sale_posted and outbox_failed recorded; failures shown with "Retry now"; the order screen shows the POS sale', async () => {
      await setting({ pos_shop_id: '1', register_id: '1', employee_id: '1', payment_types: 'bacs=2, default=1', shipping_item_id: '', refund_item_id: '99' });
      const outbox = await site.wpEval(`global $wpdb; return $wpdb->get_results( $wpdb->prepare( "SELECT id, reference_number FROM {$wpdb->prefix}pos_sync_outbox WHERE order_id = %d ORDER BY id", $args ), ARRAY_A );`, order.id);
      const [saleRow, restockRow, moneyRow] = outbox;
      fake({
        mode: 'ok',
        byKind: {
          post_orders: {
            mode: 'ok',
            events: [
              { type: 'sale_posted', v: 1, outbox_id: saleRow.id, reference: saleRow.reference_number, sale_id: '5001', customer_id: '77', existing: false },
              { type: 'outbox_failed', v: 1, outbox_id: restockRow.id, reference: restockRow.reference_number, code: 'pos_unavailable', message: `refund ${restockRow.reference_number}: POS answered 503; retry 1 of 8 at 14:05`, retry_at_ms: Date.now() + 3_600_000, attention: false },
              { type: 'outbox_failed', v: 1, outbox_id: moneyRow.id, reference: moneyRow.reference_number, code: 'no_refund_item', message: `refund ${moneyRow.reference_number}: money refunded without restocking needs a non-inventory POS item`, retry_at_ms: null, attention: true },
            ],
          },
        },
      });
      const t0 = Date.now();
      await tick();
      const job = jobs('post_orders').at(-1);
      assert.ok(job, 'a post_orders job ran in the tick');
      assert.equal(job.settings.shop_id, '1');
      assert.deepEqual(job.settings.payment_types, { bacs: '2', default: '1' });
      assert.deepEqual(job.settings.shipping, { mode: 'exclude' });
      assert.deepEqual(job.outbox.map((r) => [r.id, r.kind, r.reference, r.attempts]), outbox.map((r, i) => [r.id, i ? 'refund' : 'order', r.reference_number, 0]));
      assert.equal(job.outbox[0].payload.customer.email, 'ada@example.com');
      const rows = await site.wpEval(`global $wpdb; return $wpdb->get_results( $wpdb->prepare( "SELECT state, attempts, pos_sale_id, pos_customer_id, first_attempt_at_ms, posted_at_ms, retry_at_ms, last_error FROM {$wpdb->prefix}pos_sync_outbox WHERE order_id = %d ORDER BY id", $args ), ARRAY_A );`, order.id);
      assert.equal(rows[0].state, 'posted');
      assert.equal(rows[0].pos_sale_id, '5001');
      assert.equal(rows[0].pos_customer_id, '77');
      assert.ok(Number(rows[0].first_attempt_at_ms) >= t0 && Number(rows[0].posted_at_ms) >= Number(rows[0].first_attempt_at_ms));
      assert.equal(rows[1].state, 'retry');
      assert.equal(rows[1].attempts, '1');
      assert.ok(Number(rows[1].retry_at_ms) > Date.now());
      assert.match(rows[1].last_error, /pos_unavailable: refund WEB-R\d+: POS answered 503/);
      assert.equal(rows[2].state, 'attention');
      assert.equal(rows[2].retry_at_ms, null);
      // The posted order asks for a fresh reading of its items.
      assert.deepEqual((await site.wpEval(`return PosSync\\Store\\Ledger::recheck_item_ids();`)).sort(), ['701', '702']);

      // Nothing due until the retry time: no job at the next tick.
      const before = jobs('post_orders').length;
      fake({ mode: 'ok' });
      await tick();
      assert.equal(jobs('post_orders').length, before);

      // The admin lists the failures; "Retry now" needs a nonce and makes the row due.
      const html = await (await site.adminFetch(settingsPage)).text();
      assert.match(html, /needs attention/);
      assert.match(html, /no_refund_item: refund WEB-R\d+: money refunded without restocking/);
      const bad = await site.adminFetch(`/wp-admin/admin-post.php?action=pos_sync_outbox_action&pos_sync_row=retry:${moneyRow.id}`);
      assert.notEqual(bad.status, 302);
      assert.match(html, new RegExp(`name="pos_sync_row" value="retry:${moneyRow.id}">Retry now`));
      const nonce = html.match(/<form id="pos-sync-outbox-form"[\s\S]*?name="_wpnonce" value="([^"]+)"/)[1];
      const body = new URLSearchParams({ action: 'pos_sync_outbox_action', _wpnonce: nonce, pos_sync_row: `retry:${moneyRow.id}` });
      assert.equal((await site.adminFetch('/wp-admin/admin-post.php', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status, 302);
      assert.equal(await site.wpEval(`global $wpdb; return $wpdb->get_var( $wpdb->prepare( "SELECT state FROM {$wpdb->prefix}pos_sync_outbox WHERE id = %d", $args ) );`, moneyRow.id), 'retry');
      fake({ mode: 'ok', byKind: { post_orders: { mode: 'ok' } } });
      await tick();
      assert.deepEqual(jobs('post_orders').at(-1).outbox.map((r) => [r.id, r.attempts]), [[moneyRow.id, 1]]);

      // The order screen (HPOS) shows the POS sale ID and each row's state.
      const screen = await (await site.adminFetch(`/wp-admin/admin.php?page=wc-orders&action=edit&id=${order.id}`)).text();
      assert.match(screen, /id="pos-sync-order"/);
      assert.match(screen, new RegExp(`<strong>Sale</strong> WEB-${order.number}: <span class="pos-sync-order-words">in the POS — POS sale ID 5001</span>`));
      assert.match(screen, /in the POS — POS sale ID 5001/);
      // Nothing was deleted.
      assert.equal(await site.wpEval(`global $wpdb; return (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->prefix}pos_sync_outbox" );`), 3);
    });

    test('while a publish pass is under way the sync gets half the tick; once it caught up, the whole', async () => {
      fake({ mode: 'ok' });
      await setting({ publish_enabled: 'yes', publish_rule: 'ecom_flag', budget_seconds: 30 });
      const budgets = async (cursor) => {
        await site.wpEval(`update_option( 'pos_sync_cursors', array_merge( PosSync\\Store\\Settings::cursors(), array( 'publish' => $args ) ) ); return true;`, cursor);
        const before = { sync: jobs('sync').length, publish: jobs('publish').length };
        await tick();
        assert.equal(jobs('sync').length, before.sync + 1);
        assert.equal(jobs('publish').length, before.publish + 1, 'publishing ran in the tick');
        return jobs('sync').at(-1).budget_ms;
      };
      assert.equal(await budgets(null), 15_000, 'first import: no publish cursor yet');
      assert.equal(await budgets({ item: { ts: '2026-11-01T00:00:00+00:00', ids: ['4'] }, pass: { done: 400, total: 9000 } }), 15_000, 'mid-pass');
      assert.equal(await budgets({ item: { ts: '2026-11-01T00:00:00+00:00', ids: ['4'] } }), 30_000, 'caught up');
      await setting({ publish_enabled: 'no' });
      assert.equal(await site.wpEval(`return PosSync\\Apply\\Publisher::is_enabled();`), false);
    });

    test('no PHP notice in the debug log', () => {
      assert.deepEqual(site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
