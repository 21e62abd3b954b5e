// Posting safety on real WordPress + WooCommerce (HPOS) with the stand-in sidecar
// (fake-sidecar.mjs): the lease that claims outbox rows, the moved-or-cloned site
// guard, resolving parked rows (Retry, "Entered in the POS by hand", Cancel), rows
// parked by an outage resuming by themselves, and fees. One site for the whole file.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createSite, wordPressOrSkip, REPO_ROOT } from '../../scripts/lib/site.mjs';

const { skip } = await wordPressOrSkip();

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('posting safety', { timeout: 600_000 }, () => {
    let site;
    let product;
    const fakeDir = () => path.join(site.dir, 'fake');
    const fake = (cfg) => fs.writeFileSync(path.join(fakeDir(), 'fake-sidecar.json'), JSON.stringify(cfg));
    const jobs = (kind) => {
      const f = path.join(fakeDir(), 'fake-sidecar.seen.json');
      return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')).byKind[kind] || [] : [];
    };
    const allJobs = () => ['sync', 'post_orders', 'reconcile', 'publish', 'test_connection', 'lookups'].reduce((n, k) => n + jobs(k).length, 0);
    const tick = async () => {
      await site.wpEval(`wp_clear_scheduled_hook( 'pos_sync_tick' ); wp_schedule_event( time() - 1, 'pos_sync_minute', 'pos_sync_tick' ); return true;`);
      return site.runCron({ hooks: ['pos_sync_tick'] });
    };
    const setting = (values) => site.wpEval(`update_option( 'pos_sync_settings', array_merge( get_option( 'pos_sync_settings', array() ), $args ) ); return true;`, values);
    const sql = (query, args = null) => site.wpEval(`global $wpdb; $q = str_replace( '{outbox}', $wpdb->prefix . 'pos_sync_outbox', ${JSON.stringify(query)} ); return $wpdb->get_results( $args ? $wpdb->prepare( $q, $args ) : $q, ARRAY_A );`, args);
    const row = async (id) => (await sql('SELECT * FROM {outbox} WHERE id = %d', [id]))[0];
    const webStock = (id) => site.wpEval(`wp_cache_flush(); return wc_get_product( $args )->get_stock_quantity();`, id);
    const statusPage = '/wp-admin/admin.php?page=pos-sync';
    const buy = (qty, extra = {}) =>
      site.rest('POST', '/wc/v3/orders', {
        status: 'processing',
        set_paid: true,
        payment_method: 'bacs',
        billing: { email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', country: 'GB' },
        line_items: [{ product_id: product, quantity: qty }],
        ...extra,
      });
    const rowOf = async (orderId) => (await sql("SELECT * FROM {outbox} WHERE order_id = %d AND kind = 'order'", [orderId]))[0];
    // Posts the outbox action form of a page (the nonce of its own form, not the page's).
    const postAction = async (page, fields) => {
      const html = await (await site.adminFetch(page)).text();
      const form = html.match(/<form id="pos-sync-outbox-form"[\s\S]*?<\/form>/);
      assert.ok(form, `the outbox action form is on ${page}`);
      const nonce = form[0].match(/name="_wpnonce" value="([^"]+)"/)[1];
      const body = new URLSearchParams({ action: 'pos_sync_outbox_action', _wpnonce: nonce, _wp_http_referer: page });
      for (const [k, v] of Object.entries(fields)) for (const one of [].concat(v)) body.append(k, one);
      return site.adminFetch('/wp-admin/admin-post.php', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    };
    const reading = (qoh) => ({ mode: 'ok', stock: [{ levels: [{ item_id: '801', sku: 'LAMP', shop_qoh: { 1: qoh }, qoh, base: qoh, read_from_ms: 'now' }], cursor: { recheck: ['801'] } }] });

    before(async () => {
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: false });
      fs.mkdirSync(fakeDir());
      fs.copyFileSync(path.join(REPO_ROOT, 'tests', 'plugin', 'fake-sidecar.mjs'), path.join(fakeDir(), 'sidecar.mjs'));
      fake({ mode: 'ok' });
      await site.wpEval(`update_option( 'pos_sync_site_test_sidecar', $args );
        update_option( 'pos_sync_settings', array( 'api_base' => 'http://127.0.0.1:9/API/V3', 'account_id' => '1', 'client_id' => 'fake', 'client_secret' => 'fake-secret', 'reconcile_every' => 'off', 'pos_shop_id' => '1', 'register_id' => '1', 'employee_id' => '1', 'payment_types' => 'default=1', 'reference_prefix' => 'WEB-' ) );
        PosSync\\Store\\Settings::save_tokens( null, 'fake-refresh', 0 ); return true;`, path.join(fakeDir(), 'sidecar.mjs'));
      product = await site.wpEval(`$p = new WC_Product_Simple(); $p->set_name( 'Lamp' ); $p->set_sku( 'LAMP' ); $p->set_regular_price( '10' ); $p->set_manage_stock( true ); $p->set_stock_quantity( 10 );
        $id = $p->save(); update_post_meta( $id, '_pos_sync_item_id', '801' ); update_post_meta( $id, '_pos_sync_last_stock', '10' ); return $id;`);
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
    });

    test('lease: rows are claimed by one atomic UPDATE with a token; a live lease is never claimed twice, not even by two PHP processes at once; an expired one is', async () => {
      const orders = [];
      for (let i = 0; i < 6; i++) orders.push(await buy(1));
      const ids = (await sql("SELECT id FROM {outbox} WHERE state = 'pending' ORDER BY id")).map((r) => r.id);
      assert.equal(ids.length, 6);
      // Two real PHP processes claim at the same moment (each its own MySQL connection).
      const claim = `$lease = new PosSync\\Jobs\\Lease( 20000 ); return array( $lease->token, array_column( PosSync\\Jobs\\Outbox::claim_due( $lease ), 'id' ) );`;
      const [a, b] = await Promise.all([site.wpEval(claim), site.wpEval(claim)]);
      assert.notEqual(a[0], b[0], 'each run has its own token');
      assert.deepEqual([...a[1], ...b[1]].sort(), [...ids].sort(), 'every due row claimed');
      assert.deepEqual(a[1].filter((id) => b[1].includes(id)), [], 'no row claimed by both');
      for (const id of ids) {
        const r = await row(id);
        assert.equal(r.state, 'sending');
        assert.ok([a[0], b[0]].includes(r.claim_token));
        assert.ok(Number(r.claimed_until_ms) > Date.now() + 20_000, 'the lease covers the budget and the margins');
      }
      // A third run finds nothing while the leases run.
      assert.deepEqual(await site.wpEval(`return PosSync\\Jobs\\Outbox::claim_due( new PosSync\\Jobs\\Lease( 20000 ) );`), []);
      // An event carrying another run's token changes nothing.
      const held = a[1].length ? [a, a[1][0]] : [b, b[1][0]];
      const intruder = await site.wpEval(`PosSync\\Jobs\\Outbox::apply_posted( array( 'outbox_id' => $args[0], 'reference' => $args[1], 'sale_id' => '9', 'customer_id' => '9' ), 'not-the-token' );
        PosSync\\Jobs\\Outbox::apply_failed( array( 'outbox_id' => $args[0], 'reference' => $args[1], 'code' => 'x', 'message' => 'x', 'retry_at_ms' => null, 'attention' => true ), 'not-the-token' ); return true;`, [held[1], (await row(held[1])).reference_number]);
      assert.equal(intruder, true);
      assert.equal((await row(held[1])).state, 'sending', 'an event of a run that does not hold the row is not applied');
      assert.equal((await row(held[1])).pos_sale_id, null);
      // The lease expires (its run died): the row is claimable again, still `sending`, so the core looks it up first.
      await site.wpEval(`global $wpdb; $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->prefix}pos_sync_outbox SET claimed_until_ms = %d WHERE id = %d", PosSync\\Store\\Ledger::now_ms() - 1, $args ) ); return true;`, held[1]);
      const again = await site.wpEval(claim);
      assert.deepEqual(again[1], [String(held[1])]);
      // The holder's own answer is applied; its late answer after that changes nothing.
      await site.wpEval(`PosSync\\Jobs\\Outbox::apply_posted( array( 'outbox_id' => $args[0], 'reference' => $args[1], 'sale_id' => '4242', 'customer_id' => '7' ), $args[2] ); return true;`, [held[1], (await row(held[1])).reference_number, again[0]]);
      const posted = await row(held[1]);
      assert.equal(posted.state, 'posted');
      assert.equal(posted.pos_sale_id, '4242');
      assert.equal(posted.claim_token, null);
      // The rest go through a real tick: the run's token is on its events, the rows end posted;
      // rows the sidecar did not answer for are free again when it exits (state sending, no token).
      await site.wpEval(`global $wpdb; $wpdb->query( "UPDATE {$wpdb->prefix}pos_sync_outbox SET claimed_until_ms = 1 WHERE state = 'sending'" ); return true;`);
      const rest = ids.filter((id) => id !== String(held[1]));
      const [first, ...others] = await Promise.all(rest.map(row));
      fake({ mode: 'ok', byKind: { post_orders: { mode: 'ok', events: [{ type: 'sale_posted', outbox_id: first.id, reference: first.reference_number, sale_id: '5001', customer_id: '7' }] } } });
      await tick();
      const job = jobs('post_orders').at(-1);
      assert.deepEqual(job.outbox.map((r) => r.id).sort(), rest.sort());
      assert.equal((await row(first.id)).state, 'posted');
      for (const o of others) {
        const r = await row(o.id);
        assert.equal(r.state, 'sending', 'unanswered: left as maybe-sent');
        assert.equal(r.claim_token, null, 'free again once the sidecar exited');
      }
      // Settle them so the next tests start clean.
      await site.wpEval(`global $wpdb; $wpdb->query( "UPDATE {$wpdb->prefix}pos_sync_outbox SET state = 'posted', posted_at_ms = 1 WHERE state = 'sending'" ); return true;`);
    });

    test('the MySQL run lock only spares a second sidecar: held elsewhere it skips the tick; turned off (pos_sync_run_lock) the tick runs', async () => {
      fake({ mode: 'ok' });
      const before = jobs('sync').length;
      const busy = await site.wpEval(`global $wpdb;
        $other = new wpdb( DB_USER, DB_PASSWORD, DB_NAME, DB_HOST );
        $other->get_var( $other->prepare( 'SELECT GET_LOCK( %s, 0 )', substr( 'pos_sync_run_' . md5( DB_NAME . '|' . $wpdb->prefix ), 0, 64 ) ) );
        $skipped = PosSync\\Jobs\\Runner::run( 'sync' );
        add_filter( 'pos_sync_run_lock', '__return_false' );
        $ran = PosSync\\Jobs\\Runner::run( 'sync' );
        return array( $skipped['busy'] ?? false, $ran['ok'] );`);
      assert.deepEqual(busy, [true, true]);
      assert.equal(jobs('sync').length, before + 1);
    });

    test('a parked order resolved "entered in the POS by hand" releases its hold (web stock back up at the next reading) and never posts; GET on the action changes nothing', async () => {
      const order = await buy(2);
      const r0 = await rowOf(order.id);
      fake({ ...reading(10), byKind: { post_orders: { mode: 'ok', events: [{ type: 'outbox_failed', outbox_id: r0.id, reference: r0.reference_number, code: 'totals_mismatch', message: `order ${r0.reference_number}: the POS total differs`, retry_at_ms: null, attention: true, resumable: false }] } } });
      await tick();
      assert.equal((await row(r0.id)).state, 'attention');
      assert.equal(await webStock(product), 8, 'the parked order holds its 2 units');

      // GET (even with a valid nonce in the query) changes nothing.
      const html = await (await site.adminFetch(statusPage)).text();
      assert.match(html, new RegExp(`name="pos_sync_row" value="manual:${r0.id}"`));
      const nonce = html.match(/<form id="pos-sync-outbox-form"[\s\S]*?name="_wpnonce" value="([^"]+)"/)[1];
      const get = await site.adminFetch(`/wp-admin/admin-post.php?action=pos_sync_outbox_action&_wpnonce=${nonce}&pos_sync_row=manual:${r0.id}`);
      assert.equal(get.status, 405);
      assert.equal((await row(r0.id)).state, 'attention');
      // POST without the nonce is refused too.
      const noNonce = await site.adminFetch('/wp-admin/admin-post.php', { method: 'POST', body: new URLSearchParams({ action: 'pos_sync_outbox_action', pos_sync_row: `manual:${r0.id}` }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.notEqual(noNonce.status, 302);
      assert.equal((await row(r0.id)).state, 'attention');

      const res = await postAction(statusPage, { pos_sync_row: `manual:${r0.id}` });
      assert.equal(res.status, 302);
      assert.match(res.headers.get('location'), /pos_sync_resolved=1/);
      const r1 = await row(r0.id);
      assert.equal(r1.state, 'manual');
      assert.equal(r1.released, '1');
      assert.deepEqual(await site.wpEval(`return PosSync\\Store\\Ledger::recheck_item_ids();`), ['801'], 'its item is read again');
      const posts = jobs('post_orders').length;
      fake(reading(10));
      await tick();
      assert.deepEqual(jobs('sync').at(-1).recheck_item_ids, ['801']);
      assert.equal(await webStock(product), 10, 'the hold is released at the next reading');
      assert.equal(jobs('post_orders').length, posts, 'never posted');
      assert.equal((await row(r0.id)).state, 'manual');
      assert.match(site.debugLog() + (await site.wpEval(`$f = glob( WP_CONTENT_DIR . '/uploads/wc-logs/pos-sync-*.log' ); return $f ? file_get_contents( end( $f ) ) : '';`)), new RegExp(`${r0.reference_number} \\(row ${r0.id}\\) resolved by admin: marked “entered in the POS by hand”`), 'an audit line');
      // The order box shows it in words.
      const screen = await (await site.adminFetch(`/wp-admin/admin.php?page=wc-orders&action=edit&id=${order.id}`)).text();
      assert.match(screen, /data-state="manual"[^>]*><strong>Sale<\/strong> [^:]+: <span class="pos-sync-order-words">Entered in the POS by hand</);
    });

    test('bulk: ticked parked rows cancelled at once (released, never posted); Retry makes a parked row due; a row being sent is left alone', async () => {
      const [o1, o2, o3] = [await buy(1), await buy(1), await buy(1)];
      const [r1, r2, r3] = [await rowOf(o1.id), await rowOf(o2.id), await rowOf(o3.id)];
      const fail = (r) => ({ type: 'outbox_failed', outbox_id: r.id, reference: r.reference_number, code: 'no_payment_type', message: 'no payment type', retry_at_ms: null, attention: true });
      fake({ ...reading(10), byKind: { post_orders: { mode: 'ok', events: [fail(r1), fail(r2), fail(r3)] } } });
      await tick();
      assert.deepEqual(await Promise.all([r1, r2, r3].map(async (r) => (await row(r.id)).state)), ['attention', 'attention', 'attention']);
      // r3 is being sent by another run (a live lease): bulk cancel must not touch it.
      await site.wpEval(`global $wpdb; $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->prefix}pos_sync_outbox SET state = 'sending', claim_token = 'other-run', claimed_until_ms = %d WHERE id = %d", PosSync\\Store\\Ledger::now_ms() + 60000, $args ) ); return true;`, r3.id);
      const res = await postAction(statusPage, { pos_sync_bulk: 'cancel', 'outbox_ids[]': [r1.id, r3.id] });
      assert.equal(res.status, 302);
      assert.match(res.headers.get('location'), /pos_sync_resolved=1&pos_sync_asked=2|pos_sync_asked=2&pos_sync_resolved=1/);
      assert.equal((await row(r1.id)).state, 'cancelled');
      assert.equal((await row(r1.id)).released, '1');
      assert.equal((await row(r3.id)).state, 'sending');
      // Retry from the settings tab (inside WooCommerce's own settings form).
      assert.equal((await postAction('/wp-admin/admin.php?page=wc-settings&tab=pos_sync', { pos_sync_row: `retry:${r2.id}` })).status, 302);
      assert.equal((await row(r2.id)).state, 'retry');
      fake({ mode: 'ok', byKind: { post_orders: { mode: 'ok' } } });
      await tick();
      assert.deepEqual(jobs('post_orders').at(-1).outbox.map((r) => r.id), [r2.id], 'the retried row goes; the cancelled one never does');
      await site.wpEval(`global $wpdb; $wpdb->query( "UPDATE {$wpdb->prefix}pos_sync_outbox SET state = 'posted', posted_at_ms = 1, claim_token = NULL WHERE state = 'sending'" ); return true;`);
    });

    test('rows parked by an outage (resumable) go back to retry after the next good POS answer; a notice counts rows needing attention', async () => {
      const [o1, o2] = [await buy(1), await buy(1)];
      const [r1, r2] = [await rowOf(o1.id), await rowOf(o2.id)];
      fake({
        ...reading(10),
        byKind: {
          post_orders: {
            mode: 'ok',
            events: [
              { type: 'outbox_failed', outbox_id: r1.id, reference: r1.reference_number, code: 'pos_unavailable', message: 'POS answered 503; 8 of 8', retry_at_ms: null, attention: true, resumable: true },
              { type: 'outbox_failed', outbox_id: r2.id, reference: r2.reference_number, code: 'no_fee_item', message: 'fees need a fee item', retry_at_ms: null, attention: true, resumable: false },
            ],
          },
        },
      });
      await tick();
      assert.equal((await row(r1.id)).state, 'attention');
      assert.equal((await row(r1.id)).resumable, '1');
      const n = Number((await sql("SELECT COUNT(*) AS n FROM {outbox} WHERE state = 'attention'"))[0].n);
      const home = await (await site.adminFetch('/wp-admin/')).text();
      assert.ok(n >= 2);
      assert.match(home, new RegExp(`id="pos-sync-attention"><p><strong>POS Sync:</strong> ${n} orders and refunds need attention`));
      assert.match(home, /id="pos-sync-attention">.*href="[^"]*page=pos-sync[^"]*">Resolve them/s);
      // The POS answers again: a good sync run; the same tick sends the resumed row.
      fake({ mode: 'ok', byKind: { post_orders: { mode: 'ok' } } });
      await tick();
      const job = jobs('post_orders').at(-1);
      assert.deepEqual(job.outbox.map((r) => [r.id, r.attempts]), [[r1.id, 0]]);
      assert.equal((await row(r2.id)).state, 'attention', 'a row that needs the merchant stays parked');
      await site.wpEval(`global $wpdb; $wpdb->query( "UPDATE {$wpdb->prefix}pos_sync_outbox SET state = 'posted', posted_at_ms = 1, claim_token = NULL WHERE state IN ('sending', 'attention')" ); return true;`);
    });

    test('fees: the order payload carries its fee lines; fee_item_id is a validated setting sent in the job', async () => {
      const order = await buy(1, { fee_lines: [{ name: 'Gift wrap', total: '2.50', tax_status: 'none' }, { name: 'Loyalty', total: '-1.00', tax_status: 'none' }] });
      const payload = JSON.parse((await rowOf(order.id)).payload);
      assert.deepEqual(payload.fees, [
        { name: 'Gift wrap', total: '2.50', tax: '0.00' },
        { name: 'Loyalty', total: '-1.00', tax: '0.00' },
      ]);
      const errors = await site.wpEval(`return PosSync\\Store\\Settings::save_form( array_merge( PosSync\\Store\\Settings::all(), array( 'fee_item_id' => 'abc' ) ) );`);
      assert.ok(errors.some((e) => /whole numbers/.test(e)), JSON.stringify(errors));
      assert.equal(await site.wpEval(`return PosSync\\Store\\Settings::get( 'fee_item_id' );`), '');
      await site.wpEval(`return PosSync\\Store\\Settings::save_form( array_merge( PosSync\\Store\\Settings::all(), array( 'fee_item_id' => '55' ) ) );`);
      assert.equal((await site.wpEval(`return PosSync\\Store\\Settings::for_order_job();`)).fee_item_id, '55');
      assert.match(await (await site.adminFetch('/wp-admin/admin.php?page=wc-settings&tab=pos_sync')).text(), /Fee item ID/);
      fake({ mode: 'ok', byKind: { post_orders: { mode: 'ok' } } });
      await tick();
      const job = jobs('post_orders').at(-1);
      assert.equal(job.settings.fee_item_id, '55');
      assert.deepEqual(job.outbox.find((r) => r.reference === `WEB-${order.number}`).payload.fees.map((f) => f.total), ['2.50', '-1.00']);
      await site.wpEval(`global $wpdb; $wpdb->query( "UPDATE {$wpdb->prefix}pos_sync_outbox SET state = 'posted', posted_at_ms = 1, claim_token = NULL WHERE state = 'sending'" ); return true;`);
    });

    test('a site copied to another address runs nothing (no token refresh, no posting, no sync) and says why until "This is the live shop" (POST, nonce) re-binds it', async () => {
      const identity = await site.wpEval(`return PosSync\\Jobs\\SiteGuard::identity();`);
      assert.equal(identity.address, site.url.replace(/^http:\/\//, ''), 'bound when the connection was first used');
      assert.match(identity.site_id, /^[0-9a-f-]{36}$/);
      const order = await buy(1);
      const config = path.join(site.wpDir, 'wp-config.php');
      const original = fs.readFileSync(config, 'utf8');
      fs.writeFileSync(config, original.replace(/define\( 'WP_HOME', "[^"]+" \);/, `define( 'WP_HOME', "http://staging.example.test" );`));
      try {
        assert.equal(await site.wpEval(`return home_url();`), 'http://staging.example.test');
        fake({ mode: 'ok', token: { access_token: 'rotated', refresh_token: 'rotated-refresh', expires_at_ms: Date.now() + 3_600_000 } });
        const before = allJobs();
        await tick();
        const run = await site.wpEval(`return PosSync\\Jobs\\Runner::run( 'test_connection' );`);
        assert.equal(run.ok, false);
        assert.match(run.error, /paused on this site/);
        assert.equal(allJobs(), before, 'no job of any kind ran');
        assert.equal((await site.wpEval(`return PosSync\\Store\\Settings::tokens();`)).refresh_token, 'fake-refresh', 'the token is not rotated');
        assert.equal((await rowOf(order.id)).state, 'pending', 'nothing posted');
        const html = await (await site.adminFetch('/wp-admin/')).text();
        assert.match(html, /id="pos-sync-site-guard".*set up on 127\.0\.0\.1:\d+, but this site now answers at staging\.example\.test/s);
        // GET does not re-bind, POST without a nonce neither.
        assert.equal((await site.adminFetch('/wp-admin/admin-post.php?action=pos_sync_site_is_live')).status, 403);
        const getWithNonce = html.match(/id="pos-sync-site-guard"[\s\S]*?name="_wpnonce" value="([^"]+)"/)[1];
        assert.equal((await site.adminFetch(`/wp-admin/admin-post.php?action=pos_sync_site_is_live&_wpnonce=${getWithNonce}`)).status, 405);
        const noNonce = await site.adminFetch('/wp-admin/admin-post.php', { method: 'POST', body: new URLSearchParams({ action: 'pos_sync_site_is_live' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        assert.notEqual(noNonce.status, 302);
        assert.equal(await site.wpEval(`return PosSync\\Jobs\\SiteGuard::is_live();`), false);
        const form = html.match(/id="pos-sync-site-guard"[\s\S]*?name="_wpnonce" value="([^"]+)"/);
        const res = await site.adminFetch('/wp-admin/admin-post.php', { method: 'POST', body: new URLSearchParams({ action: 'pos_sync_site_is_live', _wpnonce: form[1] }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        assert.equal(res.status, 302);
        assert.equal(await site.wpEval(`return PosSync\\Jobs\\SiteGuard::identity()['address'];`), 'staging.example.test');
        assert.equal(await site.wpEval(`return PosSync\\Jobs\\SiteGuard::identity()['site_id'];`), identity.site_id, 'the site id stays');
        fake({ mode: 'ok', byKind: { post_orders: { mode: 'ok' } } });
        await tick();
        assert.ok(allJobs() > before, 'runs again once confirmed');
        assert.equal(jobs('post_orders').at(-1).outbox.at(-1).reference, `WEB-${order.number}`);
        assert.doesNotMatch(await (await site.adminFetch('/wp-admin/')).text(), /id="pos-sync-site-guard"/);
      } finally {
        fs.writeFileSync(config, original);
      }
    });

    test('no PHP notice in the debug log', () => {
      assert.deepEqual(site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
