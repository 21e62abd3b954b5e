// Customer personal data in the outbox, through WordPress's own privacy tools on real
// WordPress + WooCommerce: the exporter and the eraser (Tools → Export / Erase Personal
// Data, driven over admin-ajax.php exactly as wp-admin/js/privacy-tools.js drives them:
// every registered exporter or eraser, page by page, with the page's nonce), the pruning
// of old settled rows by the tick, its setting, and the privacy policy text. One site.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createSite, wordPressOrSkip, REPO_ROOT } from '../../scripts/lib/site.mjs';

const { skip } = await wordPressOrSkip();
const TIMEOUT = 240_000;

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('privacy of the outbox', () => {
    let site;
    let product;

    // Paid orders made as WooCommerce makes them; each becomes an outbox row through the hook.
    const orders = (specs) =>
      site.wpEval(
        `global $wpdb; $out = array();
        foreach ( $args['specs'] as $s ) {
          $o = wc_create_order();
          $o->add_product( wc_get_product( $args['product'] ), 1 );
          $o->set_billing_email( $s['email'] ); $o->set_billing_first_name( $s['first'] ); $o->set_billing_last_name( $s['last'] );
          $o->set_billing_phone( $s['phone'] ); $o->set_billing_address_1( $s['street'] ); $o->set_billing_city( 'Ghent' ); $o->set_billing_postcode( '9000' ); $o->set_billing_country( 'BE' );
          $o->calculate_totals(); $o->set_status( 'processing' ); $o->save();
          $row = $wpdb->get_row( $wpdb->prepare( "SELECT id, reference_number FROM {$wpdb->prefix}pos_sync_outbox WHERE order_id = %d AND kind = 'order'", $o->get_id() ), ARRAY_A );
          $out[] = array( 'order_id' => $o->get_id(), 'row_id' => (int) $row['id'], 'reference' => $row['reference_number'] );
        }
        return $out;`,
        { product, specs },
      );
    const person = (email, first, last, n) => Array.from({ length: n }, (_, i) => ({ email, first, last, phone: `+32 470 00 00 ${String(i).padStart(2, '0')}`, street: `${i + 1} Veldstraat` }));
    // The POS confirmed a row (the sale_posted path of the runner).
    const posted = (rows, firstSaleId, customerId) =>
      site.wpEval(
        `global $wpdb; foreach ( $args as $event ) {
          // Held by this run's lease (Lease.php), as a post_orders run holds what it sends.
          $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->prefix}pos_sync_outbox SET state = 'sending', claim_token = 'privacy-run', claimed_until_ms = %d WHERE id = %d", PosSync\\Store\\Ledger::now_ms() + 60000, $event['outbox_id'] ) );
          PosSync\\Jobs\\Outbox::apply_posted( $event, 'privacy-run' );
        } return true;`,
        rows.map((row, i) => ({ outbox_id: row.row_id, reference: row.reference, sale_id: String(firstSaleId + i), customer_id: customerId })),
      );
    const setState = (rows, state, extra = '') =>
      site.wpEval(`global $wpdb; foreach ( $args as $id ) { $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->prefix}pos_sync_outbox SET state = %s${extra} WHERE id = %d", '${state}', $id ) ); } return true;`, rows.map((r) => r.row_id));
    const rowsById = (rows) =>
      site.wpEval(
        `global $wpdb; $out = array(); foreach ( $args as $id ) { $r = $wpdb->get_row( $wpdb->prepare( "SELECT id, reference_number, state, pos_sale_id, pos_customer_id, last_error, payload FROM {$wpdb->prefix}pos_sync_outbox WHERE id = %d", $id ), ARRAY_A ); $r['payload'] = json_decode( $r['payload'], true ); $out[ $id ] = $r; } return $out;`,
        rows.map((r) => r.row_id),
      );
    const ajax = async (body) => {
      const res = await site.adminFetch('/wp-admin/admin-ajax.php', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(Object.entries(body).map(([k, v]) => [k, String(v)])),
      });
      const text = await res.text();
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`admin-ajax answered ${res.status}: ${text.slice(0, 500)}`);
      }
    };
    // The request's row on the Tools screen gives the count and the nonce the screen's script uses.
    const toolsRow = async (screen, countAttr, requestId) => {
      const html = await (await site.adminFetch(`/wp-admin/${screen}`)).text();
      const m = html.match(new RegExp(`data-${countAttr}-count="(\\d+)" data-request-id="${requestId}" data-nonce="([^"]+)"`));
      assert.ok(m, `${screen} lists request ${requestId} with its ${countAttr} and nonce`);
      return { count: Number(m[1]), nonce: m[2] };
    };
    const request = (email, action) => site.wpEval(`$id = wp_create_user_request( $args[0], $args[1], array(), 'confirmed' ); return is_wp_error( $id ) ? $id->get_error_message() : $id;`, [email, action]);
    const keyIndex = (filter) => site.wpEval(`$i = array_search( 'pos-sync-outbox', array_keys( apply_filters( '${filter}', array() ) ), true ); return false === $i ? -1 : $i;`);

    // Export: every exporter, page by page; returns our exporter's pages and the export file's JSON.
    const exportAll = async (email) => {
      const requestId = await request(email, 'export_personal_data');
      assert.equal(typeof requestId, 'number', `export request: ${requestId}`);
      const { count, nonce } = await toolsRow('export-personal-data.php', 'exporters', requestId);
      const ours = (await keyIndex('wp_privacy_personal_data_exporters')) + 1;
      assert.ok(ours >= 1, 'the outbox exporter is registered');
      const pages = [];
      let last;
      for (let exporter = 1; exporter <= count; exporter++) {
        for (let page = 1; page <= 100; page++) {
          last = await ajax({ action: 'wp-privacy-export-personal-data', exporter, id: requestId, page, security: nonce, sendAsEmail: 'false' });
          assert.equal(last.success, true, `exporter ${exporter} page ${page}: ${JSON.stringify(last.data)}`);
          if (exporter === ours) pages.push(last.data);
          if (last.data.done) break;
        }
      }
      assert.ok(last.data.url, 'the last page links the export file');
      const report = await site.wpEval(
        `$z = new ZipArchive(); $z->open( wp_privacy_exports_dir() . get_post_meta( $args, '_export_file_name', true ) ); $j = json_decode( $z->getFromName( 'export.json' ), true ); return reset( $j );`,
        requestId,
      );
      // As the admin does once the file is downloaded: "Mark as completed" (a new request may follow).
      await site.wpEval(`require_once ABSPATH . 'wp-admin/includes/admin.php'; _wp_privacy_completed_request( $args ); return true;`, requestId);
      return { pages, group: report['pos-sync-outbox'] };
    };
    // Erase: every eraser, page by page; returns our eraser's pages and the summary the screen shows.
    const eraseAll = async (email) => {
      const requestId = await request(email, 'remove_personal_data');
      assert.equal(typeof requestId, 'number', `erase request: ${requestId}`);
      const { count, nonce } = await toolsRow('erase-personal-data.php', 'erasers', requestId);
      const ours = (await keyIndex('wp_privacy_personal_data_erasers')) + 1;
      assert.ok(ours >= 1, 'the outbox eraser is registered');
      const pages = [];
      for (let eraser = 1; eraser <= count; eraser++) {
        for (let page = 1; page <= 100; page++) {
          const r = await ajax({ action: 'wp-privacy-erase-personal-data', eraser, id: requestId, page, security: nonce });
          assert.equal(r.success, true, `eraser ${eraser} page ${page}: ${JSON.stringify(r.data)}`);
          if (eraser === ours) pages.push(r.data);
          if (r.data.done) break;
          assert.ok(page < 100, 'the eraser finishes');
        }
      }
      const status = await site.wpEval(`return wp_get_user_request( $args )->status;`, requestId);
      return {
        pages,
        status,
        removed: pages.some((p) => p.items_removed),
        retained: pages.some((p) => p.items_retained),
        messages: pages.flatMap((p) => p.messages),
      };
    };
    const field = (item, name) => item.find((f) => f.name === name)?.value;

    let ana;
    let bob;

    before(async () => {
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: false });
      product = await site.wpEval(`$p = new WC_Product_Simple(); $p->set_name( 'Tee' ); $p->set_sku( 'TEE' ); $p->set_regular_price( '25' ); return $p->save();`);
      // Ana: 14 orders (more than one page of 10); Bob: 2.
      ana = await orders(person('ana.peeters@example.com', 'Ana', 'Peeters', 14));
      bob = await orders(person('bob@example.com', 'Bob', 'Janssens', 2));
      // Ana's first 11 are in the POS, the 12th cancelled, the 13th still waiting, the 14th parked.
      await posted(ana.slice(0, 11), 5000, '77');
      await setState([ana[11]], 'cancelled', ", last_error = 'customer ana.peeters@example.com: cancelled by the shop'");
      await setState([ana[13]], 'attention', ", attempts = 8, last_error = 'POS answered 422'");
      await posted(bob, 6000, '88');
    }, { timeout: TIMEOUT });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
    });

    test('the exporter: every outbox row of the e-mail, page by page, with reference, state, dates, POS ids and the personal fields held', { timeout: TIMEOUT }, async () => {
      const { pages, group } = await exportAll('ana.peeters@example.com');
      assert.ok(pages.length >= 2, `14 rows take more than one page (got ${pages.length})`);
      assert.deepEqual(pages.map((p) => p.done), [...pages.slice(1).map(() => false), true]);
      assert.ok(group, 'the export file holds the "Orders sent to the POS" group');
      assert.equal(group.group_label, 'Orders sent to the POS');
      const items = Object.values(group.items);
      assert.equal(items.length, 14, "Ana's rows, each once");
      const byRef = Object.fromEntries(items.map((it) => [field(it, 'Reference number'), it]));
      assert.deepEqual(Object.keys(byRef).sort(), ana.map((r) => r.reference).sort(), "Ana's references and no one else's");
      const first = byRef[ana[0].reference];
      assert.equal(field(first, 'State'), 'in the POS');
      assert.equal(field(first, 'POS sale ID'), '5000');
      assert.equal(field(first, 'POS customer ID'), '77');
      assert.equal(field(first, 'E-mail'), 'ana.peeters@example.com');
      assert.equal(field(first, 'First name'), 'Ana');
      assert.equal(field(first, 'Last name'), 'Peeters');
      assert.equal(field(first, 'Phone'), '+32 470 00 00 00');
      assert.match(field(first, 'Billing address'), /1 Veldstraat, .*Ghent, .*9000, BE/);
      assert.match(field(first, 'Recorded (UTC)'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.match(field(first, 'In the POS since (UTC)'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.equal(field(byRef[ana[12].reference], 'State'), 'waiting to be sent');
      assert.equal(field(byRef[ana[12].reference], 'POS sale ID'), undefined);
      // The e-mail is matched without regard to case (the request's e-mail as typed).
      const upper = await exportAll('Ana.Peeters@Example.COM');
      assert.equal(Object.keys(upper.group.items).length, 14);
      const none = await exportAll('nobody@example.com');
      assert.equal(none.group, undefined, 'no rows, no group');
    });

    test('the eraser: settled rows lose name, e-mail, phone and address and keep reference, state, POS ids, amounts and lines; rows not in the POS yet are retained with the reason', { timeout: TIMEOUT }, async () => {
      const before = await rowsById([...ana, ...bob]);
      const run = await eraseAll('ana.peeters@example.com');
      assert.equal(run.status, 'request-completed', 'WordPress marks the request completed');
      assert.ok(run.pages.length >= 2, `12 settled rows take more than one page (got ${run.pages.length})`);
      assert.equal(run.removed, true);
      assert.equal(run.retained, true);
      const retainedMessages = run.messages.filter((m) => /retained/.test(m));
      assert.equal(retainedMessages.length, 2, run.messages.join('\n'));
      assert.match(retainedMessages.join('\n'), new RegExp(`${ana[12].reference} were retained: the order is not in the POS yet \\(waiting to be sent\\)`));
      assert.match(retainedMessages.join('\n'), new RegExp(`${ana[13].reference} were retained: the order is not in the POS yet \\(needs attention\\)`));
      assert.ok(run.messages.some((m) => /POS customer 77/.test(m)), 'the admin is told the POS keeps its own customer record');

      const now = await rowsById([...ana, ...bob]);
      for (const row of ana.slice(0, 12)) {
        const b = before[row.row_id];
        const a = now[row.row_id];
        const text = JSON.stringify(a.payload) + (a.last_error || '');
        assert.doesNotMatch(text, /ana|peeters|Veldstraat|\+32 470|Ghent|9000/i, `${row.reference} holds no personal data`);
        assert.deepEqual(a.payload.customer, { email: '', first_name: '', last_name: '', phone: '', billing: { address1: '', address2: '', city: '', state: '', postcode: '', country: '' } });
        assert.match(a.payload.personal_data_erased_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
        for (const k of ['reference_number', 'state', 'pos_sale_id', 'pos_customer_id']) assert.equal(a[k], b[k], `${row.reference}: ${k} kept`);
        for (const k of ['number', 'order_id', 'currency', 'lines', 'total', 'total_tax', 'shipping_total', 'discount_total', 'gateway']) assert.deepEqual(a.payload[k], b.payload[k], `${row.reference}: payload ${k} kept`);
      }
      assert.match(now[ana[11].row_id].last_error, /customer \[deleted\]: cancelled by the shop/);
      for (const row of [ana[12], ana[13], ...bob]) assert.deepEqual(now[row.row_id], before[row.row_id], `${row.reference} untouched`);

      // What is left for Ana is what was retained.
      const left = await exportAll('ana.peeters@example.com');
      assert.deepEqual(Object.values(left.group.items).map((it) => field(it, 'Reference number')).sort(), [ana[12].reference, ana[13].reference].sort());

      // Once the waiting row is in the POS, a new request erases it too; the parked one stays.
      await posted([ana[12]], 5099, '77');
      const again = await eraseAll('ana.peeters@example.com');
      assert.equal(again.removed, true);
      assert.equal(again.messages.filter((m) => /retained/.test(m)).length, 1);
      const after = await rowsById([ana[12], ana[13]]);
      assert.equal(after[ana[12].row_id].payload.customer.email, '');
      assert.equal(after[ana[12].row_id].pos_sale_id, '5099');
      assert.equal(after[ana[13].row_id].payload.customer.email, 'ana.peeters@example.com');
    });

    test('pruning: the tick removes customer details from settled rows past "Keep customer details for N days", a batch at a time; newer and unsettled rows keep them', { timeout: TIMEOUT }, async () => {
      // The setting: default 90, validated, on the settings tab.
      assert.equal(await site.wpEval(`return PosSync\\Store\\Settings::get( 'privacy_days' );`), 90);
      const bad = await site.wpEval(`return PosSync\\Store\\Settings::save_form( array( 'privacy_days' => '0' ) );`);
      assert.match(bad.join('\n'), /Customer details are kept in the outbox for 1 to 3650 days \(got “0”\)/);
      assert.deepEqual(await site.wpEval(`$e = PosSync\\Store\\Settings::save_form( array( 'privacy_days' => '30' ) ); return array( $e, PosSync\\Store\\Settings::get( 'privacy_days' ) );`), [[], 30]);
      const page = await (await site.adminFetch('/wp-admin/admin.php?page=wc-settings&tab=pos_sync')).text();
      assert.match(page, /Keep customer details in the outbox for \(days\)/);
      assert.match(page, /name="pos_sync_settings\[privacy_days\]"[^>]*value="30"|value="30"[^>]*name="pos_sync_settings\[privacy_days\]"/);

      const carol = await orders(person('carol@example.com', 'Carol', 'Maes', 30));
      const oldPosted = carol.slice(0, 25);
      await posted(carol.slice(0, 27), 7000, '99');
      // 25 in the POS for 40 days, 2 for 10 days, 1 cancelled 40 days ago, 2 never sent (one made 100 days ago).
      await site.wpEval(
        `global $wpdb; $t = $wpdb->prefix . 'pos_sync_outbox'; $old = gmdate( 'Y-m-d H:i:s', time() - 40 * DAY_IN_SECONDS ); $recent = gmdate( 'Y-m-d H:i:s', time() - 10 * DAY_IN_SECONDS ); $ancient = gmdate( 'Y-m-d H:i:s', time() - 100 * DAY_IN_SECONDS );
        foreach ( $args['old'] as $id ) { $wpdb->query( $wpdb->prepare( "UPDATE {$t} SET posted_at = %s, updated_at = %s WHERE id = %d", $old, $old, $id ) ); }
        foreach ( $args['recent'] as $id ) { $wpdb->query( $wpdb->prepare( "UPDATE {$t} SET posted_at = %s, updated_at = %s WHERE id = %d", $recent, $recent, $id ) ); }
        $wpdb->query( $wpdb->prepare( "UPDATE {$t} SET state = 'cancelled', updated_at = %s WHERE id = %d", $old, $args['cancelled'] ) );
        $wpdb->query( $wpdb->prepare( "UPDATE {$t} SET created_at = %s, updated_at = %s WHERE id = %d", $ancient, $ancient, $args['waiting'] ) );
        delete_transient( 'pos_sync_privacy_pruned' ); return true;`,
        { old: oldPosted.map((r) => r.row_id), recent: [carol[25].row_id, carol[26].row_id], cancelled: carol[27].row_id, waiting: carol[28].row_id },
      );
      // A return of an old order: its payload holds no customer, so pruning leaves it alone.
      const refundRow = await site.wpEval(
        `global $wpdb; $t = $wpdb->prefix . 'pos_sync_outbox'; wc_create_refund( array( 'order_id' => $args, 'amount' => '5.00', 'reason' => 'goodwill' ) );
        $id = (int) $wpdb->get_var( $wpdb->prepare( "SELECT id FROM {$t} WHERE order_id = %d AND kind = 'refund'", $args ) );
        $old = gmdate( 'Y-m-d H:i:s', time() - 40 * DAY_IN_SECONDS );
        $wpdb->query( $wpdb->prepare( "UPDATE {$t} SET state = 'posted', posted_at = %s, updated_at = %s WHERE id = %d", $old, $old, $id ) ); return $id;`,
        carol[0].order_id,
      );
      assert.ok(refundRow > 0, 'the refund has its outbox row');
      const refundBefore = (await rowsById([{ row_id: refundRow }]))[refundRow];
      const tick = async () => {
        await site.wpEval(`wp_clear_scheduled_hook( 'pos_sync_tick' ); wp_schedule_event( time() - 1, 'pos_sync_minute', 'pos_sync_tick' ); return true;`);
        assert.deepEqual(await site.runCron({ hooks: ['pos_sync_tick'] }), ['pos_sync_tick']);
        const rows = await rowsById(carol);
        return carol.filter((r) => rows[r.row_id].payload.customer.email === '').map((r) => r.reference);
      };
      const before = await rowsById(carol);
      const first = await tick();
      assert.equal(first.length, 20, 'one batch of 20 in the first tick');
      const second = await tick();
      assert.deepEqual(second.sort(), [...oldPosted, carol[27]].map((r) => r.reference).sort(), 'the rest in the next: every settled row past 30 days');
      const now = await rowsById(carol);
      for (const row of [...oldPosted, carol[27]]) {
        const a = now[row.row_id];
        const b = before[row.row_id];
        assert.doesNotMatch(JSON.stringify(a.payload), /carol|maes|Veldstraat/i);
        for (const k of ['reference_number', 'state', 'pos_sale_id', 'pos_customer_id']) assert.equal(a[k], b[k]);
        assert.deepEqual(a.payload.lines, b.payload.lines);
        assert.equal(a.payload.total, b.payload.total);
      }
      for (const row of carol.slice(25, 27).concat(carol.slice(28))) assert.deepEqual(now[row.row_id], before[row.row_id], `${row.reference} keeps its details`);
      assert.deepEqual((await rowsById([{ row_id: refundRow }]))[refundRow], refundBefore, 'the return row is untouched');
      // Caught up: later ticks do not scan again within the hour.
      assert.equal(await site.wpEval(`return (bool) get_transient( 'pos_sync_privacy_pruned' );`), true);
      assert.match(await site.wpEval(`$log = ''; foreach ( glob( WC_LOG_DIR . 'pos-sync-*.log' ) as $f ) { $log .= file_get_contents( $f ); } return $log;`), /customer details of 20 orders in the POS for more than 30 days were removed/);
    });

    test('the privacy policy guide carries the plugin\'s text', { timeout: TIMEOUT }, async () => {
      const html = await (await site.adminFetch('/wp-admin/options-privacy.php?tab=policyguide')).text();
      assert.match(html, /POS Sync for WooCommerce/);
      assert.match(html, /Lightspeed Retail/);
      assert.match(html, /for 30 days after the order reached the point of sale/);
      assert.deepEqual(site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
