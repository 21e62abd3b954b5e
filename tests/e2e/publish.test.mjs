// End to end, publish (issue 6): real WordPress + WooCommerce (HPOS) + the plugin
// zip + the Node sidecar + the Lightspeed emulator's demo catalogue. WP-Cron runs
// the tick (stock, then publish); the POS is changed through its own API.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createSite } from '../../scripts/lib/site.mjs';
import { e2eSkip, ZIP, EMULATOR } from './shop.mjs';

const skip = await e2eSkip();

// What a product looks like from WooCommerce's side (CLI, caches flushed).
const SHOW_PHP = `
wp_cache_flush();
$img = function ( $aid ) { return $aid ? array( 'key' => get_post_meta( $aid, '_pos_sync_image_key', true ), 'alt' => get_post_meta( $aid, '_wp_attachment_image_alt', true ), 'file' => basename( (string) get_attached_file( $aid ) ) ) : null; };
$cats = function ( $p ) { return array_map( function ( $id ) { $path = array(); $t = get_term( $id, 'product_cat' ); while ( $t && ! is_wp_error( $t ) ) { array_unshift( $path, $t->name ); $t = $t->parent ? get_term( $t->parent, 'product_cat' ) : null; } return $path; }, $p->get_category_ids() ); };
$show = function ( $p ) use ( $img, $cats ) {
  $id = $p->get_id();
  $out = array( 'id' => $id, 'type' => $p->get_type(), 'name' => $p->get_name(), 'status' => $p->get_status(), 'visibility' => $p->get_catalog_visibility(), 'sku' => $p->get_sku(),
    'regular' => $p->get_regular_price(), 'sale' => $p->get_sale_price(), 'stock' => $p->get_stock_quantity(), 'weight' => $p->get_weight(),
    'dims' => array( 'length' => $p->get_length(), 'width' => $p->get_width(), 'height' => $p->get_height() ), 'description' => $p->get_description(), 'short' => $p->get_short_description(),
    'tax' => array( $p->get_tax_status(), $p->get_tax_class( 'edit' ) ), 'cats' => $cats( $p ), 'images' => array_map( $img, array_values( array_filter( array_merge( array( $p->get_image_id() ), $p->get_gallery_image_ids() ) ) ) ),
    'key' => get_post_meta( $id, '_pos_sync_key', true ), 'item' => get_post_meta( $id, '_pos_sync_item_id', true ), 'modified' => get_post_field( 'post_modified_gmt', $id ), 'url' => get_permalink( $id ) );
  if ( $p->is_type( 'variable' ) ) {
    $out['attributes'] = array();
    foreach ( $p->get_attributes() as $a ) { $out['attributes'][] = array( 'name' => $a->get_name(), 'global' => $a->is_taxonomy(), 'options' => $a->is_taxonomy() ? wc_get_product_terms( $id, $a->get_name(), array( 'fields' => 'names' ) ) : $a->get_options() ); }
    $out['variations'] = array();
    foreach ( $p->get_children() as $cid ) { $v = wc_get_product( $cid );
      $out['variations'][] = array( 'id' => $cid, 'sku' => $v->get_sku(), 'attrs' => $v->get_attributes(), 'regular' => $v->get_regular_price(), 'stock' => $v->get_stock_quantity(), 'manage' => $v->get_manage_stock(), 'status' => $v->get_status(), 'weight' => $v->get_weight(), 'dims' => array( 'length' => $v->get_length(), 'width' => $v->get_width(), 'height' => $v->get_height() ), 'image' => $img( $v->get_image_id() ), 'tax_class' => $v->get_tax_class( 'edit' ), 'item' => get_post_meta( $cid, '_pos_sync_item_id', true ), 'modified' => get_post_field( 'post_modified_gmt', $cid ) ); }
  }
  return $out;
};
$all = array();
foreach ( wc_get_products( array( 'limit' => -1, 'status' => array( 'publish', 'draft', 'private', 'pending' ), 'orderby' => 'ID', 'order' => 'ASC' ) ) as $p ) { $all[] = $show( $p ); }
return $all;
`;

// Logs every write to a product or variation (or a new attachment, term, term link) while
// WP-Cron runs, to a file: the no-change run must log none.
const WRITES_MU_PHP = `<?php
if ( defined( 'DOING_CRON' ) && DOING_CRON ) {
	$pos_sync_test_note = function ( $what ) {
		return function ( ...$a ) use ( $what ) {
			$post = 'set_object_terms' === $what || 'save_post' === $what || 'add_attachment' === $what ? $a[0] : ( $a[1] ?? 0 );
			$type = is_numeric( $post ) ? get_post_type( (int) $post ) : '';
			if ( 'created_term' === $what || in_array( $type, array( 'product', 'product_variation', 'attachment' ), true ) ) {
				file_put_contents( WP_CONTENT_DIR . '/pos-sync-writes.log', $what . ' ' . wp_json_encode( array_slice( $a, 0, 3 ) ) . "\\n", FILE_APPEND );
			}
		};
	};
	foreach ( array( 'save_post', 'added_post_meta', 'updated_post_meta', 'deleted_post_meta', 'set_object_terms', 'add_attachment', 'created_term' ) as $pos_sync_test_hook ) {
		add_action( $pos_sync_test_hook, $pos_sync_test_note( $pos_sync_test_hook ), 10, 4 );
	}
}
// The POS image CDN is an outside host in a real shop; the emulator's is on 127.0.0.1.
add_filter( 'http_request_host_is_external', fn( $ext, $host ) => $ext || '127.0.0.1' === $host, 10, 2 );
add_filter( 'http_allowed_safe_ports', fn( $ports, $host, $url ) => '127.0.0.1' === $host ? array_merge( $ports, array( (int) wp_parse_url( $url, PHP_URL_PORT ) ) ) : $ports, 10, 3 );
add_filter( 'pos_sync_image_hosts', fn( $hosts ) => array_merge( (array) $hosts, array( '127.0.0.1' ) ) );
`;

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  const { startEmulator } = await import(EMULATOR);

  describe('e2e publish: POS catalogue → WooCommerce listings', () => {
    let site;
    let pos;
    let grant;
    let first;
    const control = async (name, body, method = 'POST') => {
      const res = await fetch(`${pos.url}/_emulator/${name}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = await res.json();
      assert.ok(res.ok, `${name}: ${JSON.stringify(json)}`);
      return json;
    };
    // The POS's own API, as a merchant's back office would change it.
    const posApi = async (method, p, body) => {
      const g = await control('grant', {});
      const res = await fetch(`${pos.apiBase}/Account/1/${p}`, { method, headers: { authorization: `Bearer ${g.access_token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      return JSON.parse(text);
    };
    const products = () => site.wpEval(SHOW_PHP);
    const bySku = (all, sku) => all.find((p) => p.sku === sku);
    const writesLog = path.join('wp', 'wp-content', 'pos-sync-writes.log');
    const tick = async () => {
      await site.wpEval(`wp_clear_scheduled_hook( 'pos_sync_tick' ); wp_schedule_event( time() - 1, 'pos_sync_minute', 'pos_sync_tick' ); return true;`);
      const t0 = Date.now();
      assert.ok((await site.runCron({ hooks: ['pos_sync_tick'] })).includes('pos_sync_tick'));
      const runs = await site.wpEval(`return get_option( 'pos_sync_last_runs' );`);
      assert.equal(runs.sync.ok, true, runs.sync.error);
      assert.equal(runs.publish?.ok, true, runs.publish?.error);
      return { publish: runs.publish, sync: runs.sync, ms: Date.now() - t0 };
    };
    const settingsPage = '/wp-admin/admin.php?page=wc-settings&tab=pos_sync';
    const saveSettings = async (fields) => {
      const html = await (await site.adminFetch(settingsPage)).text();
      const nonce = html.match(/name="_wpnonce" value="([^"]+)"/)[1];
      const body = new URLSearchParams({ _wpnonce: nonce, _wp_http_referer: settingsPage, save: 'Save changes' });
      for (const [k, v] of Object.entries(fields)) body.set(`pos_sync_settings[${k}]`, v);
      return (await site.adminFetch(settingsPage, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })).text();
    };

    before(async () => {
      pos = await startEmulator({ port: 0, seed: 'demo' });
      site = await createSite({ plugin: ZIP, log: false });
      fs.writeFileSync(path.join(site.wpDir, 'wp-content', 'mu-plugins', 'pos-sync-test-writes.php'), WRITES_MU_PHP);
      await site.wpEval(`update_option( 'woocommerce_weight_unit', 'kg' ); update_option( 'woocommerce_dimension_unit', 'cm' ); return true;`);
      grant = await control('grant', {});
      const html = await saveSettings({
        api_base: pos.apiBase,
        token_url: pos.tokenUrl,
        account_id: grant.account_id,
        client_id: grant.client_id,
        client_secret: grant.client_secret,
        refresh_token: grant.refresh_token,
        shop_ids: '',
        safety_buffer: '0',
        budget_seconds: '30',
        publish_enabled: 'yes',
        publish_rule: 'ecom_flag',
        publish_ids: '',
        price_level: 'default',
        hidden_mode: 'draft',
        link_by_sku: 'no',
        // POS tax class 3 ("Reduced rate", the Harbour Mug's) → WooCommerce's Reduced rate.
        'tax_class_map][3': 'reduced-rate',
      });
      assert.doesNotMatch(html, /class="error/);
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
      await pos?.close();
    });

    test('one tick publishes the demo catalogue: simple and matrix items complete, the unpublished and archived ones absent', async () => {
      const run = await tick();
      const all = await products();
      first = all;
      const state = await control('state', undefined, 'GET');
      const pages = await posApi('GET', 'Item.json?load_relations=%5B%22ItemECommerce%22%5D&archived=true&limit=100');
      const ecom = new Map([].concat(pages.Item).map((i) => [i.itemID, i.ItemECommerce]));
      const cats = new Map(state.tables.Category.map((c) => [c.categoryID, c]));
      const catPath = (id) => {
        const out = [];
        for (let c = cats.get(id); c; c = cats.get(c.parentID)) out.unshift(c.name);
        return out;
      };
      const qoh = (itemID) => Number(state.tables.ItemShop.find((r) => r.itemID === itemID && r.shopID === '0').qoh);
      const price = (item) => item.Prices.ItemPrice.find((p) => p.useType === 'Default').amount;
      const num = (v) => String(Number(v));
      const imagesOf = (where) => state.tables.Image.filter(where).sort((a, b) => Number(a.ordering) - Number(b.ordering));

      const simple = state.tables.Item.filter((i) => i.itemMatrixID === '0');
      const published = simple.filter((i) => i.publishToEcom === 'true' && i.archived === 'false');
      assert.equal(published.length, 4);
      for (const item of published) {
        const sku = item.customSku || item.systemSku;
        const p = bySku(all, sku);
        assert.ok(p, `${item.description} (${sku}) is a product`);
        assert.equal(p.type, 'simple');
        assert.equal(p.status, 'publish');
        assert.equal(p.name, item.description);
        assert.equal(p.key, `item:${item.itemID}`);
        assert.equal(p.item, item.itemID);
        assert.equal(p.regular, price(item), `${sku} price`);
        assert.equal(p.stock, Math.max(0, qoh(item.itemID)), `${sku} stock`);
        const e = ecom.get(item.itemID);
        assert.equal(p.weight, num(e.weight), `${sku} weight`);
        assert.deepEqual(p.dims, { length: num(e.length), width: num(e.width), height: num(e.height) });
        assert.deepEqual(p.cats, [catPath(item.categoryID)], `${sku} nested categories`);
        const imgs = imagesOf((im) => im.itemID === item.itemID);
        assert.deepEqual(p.images.map((i) => i.alt), imgs.map((im) => im.description), `${sku} images in POS order with alt text`);
        assert.doesNotMatch(p.description, /<script|onclick|alert\(/i);
      }
      assert.deepEqual(bySku(all, 'TEE-WHT').cats, [['Apparel', 'T-Shirts']]);
      assert.match(bySku(all, 'HOOD-LOGO').description, /Warm fleece hoodie.*Machine washable/s);
      assert.equal(bySku(all, 'TOTE-01'), undefined, 'the unpublished item does not exist');
      assert.equal(bySku(all, 'TEE-VINT'), undefined, 'the archived item does not exist');
      assert.equal(all.filter((p) => p.type === 'simple').length, 4);
      // Tax: the mapped class, the Standard rate for the rest, none where the POS does not tax.
      assert.deepEqual(bySku(all, 'MUG-HARB').tax, ['taxable', 'reduced-rate']);
      assert.deepEqual(bySku(all, 'TEE-WHT').tax, ['taxable', '']);
      const camp = published.find((i) => i.description === 'Enamel Camp Mug');
      assert.deepEqual(bySku(all, camp.systemSku).tax, ['none', ''], 'tax:false in the POS');

      // The matrix: one variable product, global attributes, six variations.
      const matrix = state.tables.ItemMatrix[0];
      const crew = all.find((p) => p.type === 'variable');
      assert.equal(crew.name, 'Crew Tee');
      assert.equal(crew.key, `matrix:${matrix.itemMatrixID}`);
      assert.equal(crew.status, 'publish');
      assert.deepEqual(crew.cats, [['Apparel', 'T-Shirts']]);
      assert.deepEqual(crew.attributes, [
        { name: 'pa_size', global: true, options: ['S', 'M', 'L'] },
        { name: 'pa_colour', global: true, options: ['Black', 'Navy'] },
      ]);
      assert.deepEqual(crew.images.map((i) => i.alt), ['Crew Tee']);
      assert.deepEqual(crew.tax, ['taxable', '']);
      assert.ok(crew.variations.every((v) => v.tax_class === 'parent'), 'variants in the matrix’s class');
      assert.doesNotMatch(crew.description, /<script/i);
      const variants = state.tables.Item.filter((i) => i.itemMatrixID === matrix.itemMatrixID);
      assert.equal(crew.variations.length, variants.length);
      for (const it of variants) {
        const v = crew.variations.find((x) => x.sku === it.customSku);
        assert.ok(v, `variation ${it.customSku}`);
        assert.equal(v.item, it.itemID);
        assert.equal(v.regular, price(it));
        assert.equal(v.stock, Math.max(0, qoh(it.itemID)), `${it.customSku} stock`);
        assert.equal(v.manage, true);
        assert.equal(v.status, 'publish');
        assert.equal(v.weight, '0.18');
        assert.deepEqual(v.dims, { length: '30', width: '25', height: '2' });
        const [size, colour] = it.customSku.split('-').slice(1);
        assert.equal(v.attrs.pa_size, size.toLowerCase());
        assert.equal(v.attrs.pa_colour, colour === 'BLK' ? 'black' : 'navy');
        const img = imagesOf((im) => im.itemID === it.itemID)[0];
        assert.ok(v.image, `${it.customSku} has its image`);
        assert.equal(v.image.alt, img.description);
      }
      assert.equal(run.publish.summary.published.created, 5);
      assert.equal(run.publish.summary.published.not_listed, 2);

      // The stock pull ran first and found no product for these items; now they have one.
      const unmatched = await site.wpEval(`return get_option( 'pos_sync_unmatched', array() );`);
      assert.ok(run.sync.summary.applied.unmatched >= published.length, 'the pull found no product for them');
      for (const item of published) assert.equal(unmatched[item.itemID], undefined, `${item.description} left the unmatched list`);

      // The shop's page of the hoodie: the POS <script> never reaches it.
      const hoodie = bySku(all, 'HOOD-LOGO');
      const page = await fetch(hoodie.url);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /Machine washable/);
      assert.doesNotMatch(html, /pos-sync xss test|steal\(\)/);

      // The settings tab shows the progress of the pass.
      const tab = await (await site.adminFetch(settingsPage)).text();
      assert.match(tab, /Up to date: 12 items read in the last pass/);
      assert.match(tab, /Last run [\d-]+ [\d:]+: ok — created 5, updated 0, unchanged 0, hidden 0, not listed 2, SKU conflicts 0, linked 0, images downloaded 12\./);
    });

    test('a second run with no POS change makes no write at all', async () => {
      const log = path.join(site.dir, writesLog);
      fs.rmSync(log, { force: true });
      await control('clock', { advance_s: 2 });
      const run = await tick();
      const writes = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
      assert.equal(writes, '', 'no product, variation, meta, term or attachment written');
      assert.deepEqual(await products(), first, 'every product exactly as before (post_modified included)');
      assert.equal(run.publish.summary.published.created + run.publish.summary.published.updated, 0);
    });

    test('a price change in the POS shows at the next run without touching other fields', async () => {
      const tee = bySku(first, 'TEE-WHT');
      const log = path.join(site.dir, writesLog);
      fs.rmSync(log, { force: true });
      await control('clock', { advance_s: 2 });
      await posApi('PUT', `Item/${tee.item}.json`, { Prices: { ItemPrice: [{ useType: 'Default', amount: '21.00' }] } });
      const run = await tick();
      assert.equal(run.publish.summary.published.updated, 1);
      const all = await products();
      const after = bySku(all, 'TEE-WHT');
      assert.equal(after.regular, '21.00');
      assert.match(fs.readFileSync(log, 'utf8'), /_regular_price/, 'the write log sees writes (so its silence above means something)');
      const { regular, modified, ...rest } = after;
      const { regular: r0, modified: m0, ...rest0 } = tee;
      assert.deepEqual(rest, rest0, 'name, descriptions, images, categories, stock, weight … unchanged');
      for (const p of first.filter((x) => x.sku !== 'TEE-WHT')) assert.deepEqual(all.find((x) => x.id === p.id), p, `${p.name} untouched`);
    });

    test('a new tax class map re-plans the catalogue at the next run and writes only the tax class it moved', async () => {
      const before = await products();
      const log = path.join(site.dir, writesLog);
      fs.rmSync(log, { force: true });
      await site.wpEval(`$s = get_option( 'pos_sync_settings' ); $s['tax_class_map'] = array( '3' => 'zero-rate' ); update_option( 'pos_sync_settings', $s ); return true;`);
      const run = await tick();
      assert.equal(run.publish.summary.published.updated, 1, JSON.stringify(run.publish.summary));
      assert.equal(run.publish.summary.published.unchanged, 4, 'every listing planned again, the others found unchanged');
      const all = await products();
      const mug = bySku(all, 'MUG-HARB');
      assert.deepEqual(mug.tax, ['taxable', 'zero-rate']);
      const { tax, modified, ...rest } = mug;
      const { tax: t0, modified: m0, ...rest0 } = bySku(before, 'MUG-HARB');
      assert.deepEqual(rest, rest0, 'nothing else of the mug moved');
      for (const p of before.filter((x) => x.sku !== 'MUG-HARB')) assert.deepEqual(all.find((x) => x.id === p.id), p, `${p.name} untouched`);
      assert.doesNotMatch(fs.readFileSync(log, 'utf8'), /_regular_price|_thumbnail_id|_weight/, 'only the tax class was written');
    });

    test('under “These POS items” the merchant picks the unpublished tote in Products → POS items; the next run publishes it and nothing else', async () => {
      const before = await products();
      const keys = before.map((p) => p.key);
      await site.wpEval(`$s = get_option( 'pos_sync_settings' ); $s['publish_rule'] = 'manual'; $s['publish_ids'] = implode( ',', $args ); update_option( 'pos_sync_settings', $s ); return true;`, keys.map((k) => k.replace(/^item:/, '')));
      await tick(); // A new rule: one pass plans every listing again, and finds nothing to change.
      assert.deepEqual(await products(), before, 'the same products under the new rule');
      const PAGE = '/wp-admin/edit.php?post_type=product&page=pos-sync-items';
      let html = await (await site.adminFetch(PAGE + '&s=Tote')).text();
      const tote = html.match(/name="pos_key\[\]" value="(item:\d+)"/);
      assert.ok(tote, 'the tote is listed with a checkbox');
      assert.match(html, /Not on the web: not chosen by the publish rule/);
      const nonce = html.match(/id="_wpnonce" name="_wpnonce" value="([^"]+)"/)[1];
      const res = await site.adminFetch(PAGE, { method: 'POST', body: new URLSearchParams({ action: 'pos_sync_pick', 'pos_key[]': tote[1], _wpnonce: nonce }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(res.status, 302);
      const log = path.join(site.dir, writesLog);
      fs.rmSync(log, { force: true });
      const run = await tick();
      assert.equal(run.publish.summary.replanned, 1, JSON.stringify(run.publish.summary));
      assert.equal(run.publish.summary.published.created, 1);
      const all = await products();
      const made = bySku(all, 'TOTE-01');
      assert.ok(made, 'the tote is a product');
      assert.equal(made.status, 'publish');
      assert.equal(made.key, tote[1]);
      for (const p of before) assert.deepEqual(all.find((x) => x.id === p.id), p, `${p.name} untouched`);
      html = await (await site.adminFetch(PAGE + '&s=Tote')).text();
      assert.match(html, /Canvas Tote<\/a><\/strong>.*On the web/s);
      assert.equal(await site.wpEval(`return get_option( 'pos_sync_publish_replan', 'none' );`), 'none', 'the queue is empty');
    });

    test('archiving an item in the POS hides its product at the next run (draft, not deleted)', async () => {
      const mug = bySku(first, 'MUG-HARB');
      await control('clock', { advance_s: 2 });
      await posApi('DELETE', `Item/${mug.item}.json`);
      await tick();
      const after = bySku(await products(), 'MUG-HARB');
      assert.ok(after, 'still there, with its order history');
      assert.equal(after.status, 'draft');
      assert.equal(after.stock, 0, 'archived: stock 0');
      const page = await fetch(mug.url);
      assert.equal(page.status, 404, 'no longer on the shop');
    });

    test('a large first import spans several runs within the time budget and resumes where each stopped', async () => {
      // Another catalogue (big:300) on a clean shop: the first import of a real store.
      await control('reset', { seed: 'big:300' });
      const g = await control('grant', {});
      await site.wpEval(`foreach ( get_posts( array( 'post_type' => array( 'product', 'product_variation' ), 'post_status' => 'any', 'numberposts' => -1, 'fields' => 'ids' ) ) as $id ) { wp_delete_post( $id, true ); }
        delete_option( 'pos_sync_cursors' ); delete_option( 'pos_sync_publish_progress' );
        $s = get_option( 'pos_sync_settings' ); $s['budget_seconds'] = 5; $s['publish_rule'] = 'ecom_flag'; update_option( 'pos_sync_settings', $s );
        PosSync\\Store\\Settings::save_tokens( null, $args, 0 ); return true;`, g.refresh_token);
      const runs = [];
      for (let i = 0; i < 15; i++) {
        const t0 = Date.now();
        const r = await site.wpEval(`$r = PosSync\\Jobs\\Runner::run( 'publish' ); return array( 'ok' => $r['ok'], 'error' => $r['error'], 'done' => $r['summary']['done'] ?? null, 'published' => $r['summary']['published'] ?? null, 'progress' => PosSync\\Apply\\Publisher::progress() );`);
        runs.push({ ...r, s: (Date.now() - t0) / 1000 });
        if (r.done === true) break;
      }
      for (const r of runs) {
        assert.equal(r.ok, true, r.error);
        assert.ok(r.s < 5 + 5, `a run stays near its 5 s budget (${r.s} s)`);
      }
      assert.ok(runs.length >= 2, `the import took ${runs.length} runs`);
      assert.equal(runs.at(-1).done, true);
      assert.ok(runs.slice(0, -1).every((r) => r.done === false), 'cut runs say they are not done');
      const mid = runs[runs.length - 2].progress;
      assert.equal(mid.total, 300);
      assert.ok(mid.done > 0 && mid.done < 300 && mid.rate > 0 && mid.seconds_left > 0, JSON.stringify(mid));
      const last = runs.at(-1).progress;
      assert.deepEqual([last.done, last.total, last.finished], [300, 300, true]);
      const created = runs.reduce((n, r) => n + r.published.created, 0);
      assert.equal(created, 300, 'every item created exactly once (replays are skipped by fingerprint)');
      const count = await site.wpEval(`global $wpdb; return (int) $wpdb->get_var( "SELECT COUNT(DISTINCT meta_value) FROM {$wpdb->postmeta} WHERE meta_key = '_pos_sync_key'" );`);
      assert.equal(count, 300);
    });

    test('no PHP notice, warning or deprecation in the debug log', () => {
      const lines = site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal|Parse)/.test(l));
      assert.deepEqual(lines, []);
    });
  });
}
