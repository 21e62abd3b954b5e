// The publisher against real WooCommerce: `product` events fed directly, shaped as
// the core sends them (docs/PROTOCOL.md, src/flows/products.rs), images served by a
// small HTTP server here, checked against what WooCommerce stores and shows.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createSite, wordPressOrSkip, REPO_ROOT } from '../../scripts/lib/site.mjs';
import { pngBytes } from '../../js/emulator/imageFiles.mjs';

const { skip } = await wordPressOrSkip();

// ------------------------------------------------------------ listings as the core makes them

const print = (v) => crypto.createHash('sha1').update(JSON.stringify(v ?? null)).digest('hex').slice(0, 16);
const imagePrint = (i) => [i.key, i.url, i.alt];

function sealVariation(v) {
  v.fingerprints = {
    sku: print(v.sku),
    attributes: print(v.attributes),
    price: print([v.regular_price, v.sale_price]),
    dimensions: print([v.weight, v.dimensions]),
    image: print(v.image ? imagePrint(v.image) : null),
    stock: print(v.base),
    enabled: print(v.enabled),
  };
  v.fingerprint = print(v.fingerprints);
  return v;
}

function seal(l) {
  const f = {
    name: print(l.name),
    description: print(l.description),
    short_description: print(l.short_description),
    sku: print(l.sku),
    price: print([l.regular_price, l.sale_price]),
    dimensions: print([l.weight, l.dimensions]),
    categories: print(l.categories),
    images: print(l.images.map(imagePrint)),
    visibility: print([l.visibility, l.hidden_reason]),
  };
  if (l.base !== undefined) f.stock = print(l.base);
  if (l.type === 'variable') {
    l.variations.forEach(sealVariation);
    f.attributes = print(l.attributes);
    f.variations = print(Object.fromEntries(l.variations.map((v) => [v.item_id, v.fingerprint])));
  }
  l.fingerprints = f;
  l.fingerprint = print({ key: l.key, type: l.type, f, owned: l.owned_by_woo });
  return l;
}

let imageBase = '';
const image = (id, name, alt) => ({ key: `${id}-${print(name).slice(0, 8)}`, image_id: String(id), url: `${imageBase}/img/${name}.png`, filename: `${name}.png`, alt });

function simple(itemId, over = {}) {
  return seal({
    key: `item:${itemId}`,
    type: 'simple',
    item_id: String(itemId),
    name: `Item ${itemId}`,
    description: '<p>Plain <strong>text</strong>.</p>',
    short_description: '<p>Short.</p>',
    sku: `SKU-${itemId}`,
    regular_price: '19.00',
    sale_price: null,
    weight: '0.2',
    dimensions: { length: '30', width: '25', height: '2' },
    categories: [['Apparel', 'T-Shirts']],
    images: [],
    visibility: 'publish',
    pos_timestamp: '2026-11-01T10:00:00+00:00',
    base: 5,
    owned_by_woo: [],
    ...over,
  });
}

function matrix(matrixId, over = {}) {
  const variations = [];
  let n = 0;
  for (const colour of ['Black', 'Navy']) {
    for (const size of ['S', 'M']) {
      n++;
      variations.push({
        item_id: String(matrixId * 100 + n),
        sku: `MX${matrixId}-${size}-${colour}`,
        attributes: { Size: size, Colour: colour },
        regular_price: '24.00',
        sale_price: size === 'S' ? '20.00' : null,
        weight: '0.18',
        dimensions: { length: '30', width: '25', height: '2' },
        image: image(matrixId * 100 + n, `mx${matrixId}-${colour.toLowerCase()}`, `Crew ${colour}`),
        base: n + 1,
        enabled: true,
        pos_timestamp: '2026-11-01T10:00:00+00:00',
      });
    }
  }
  return seal({
    key: `matrix:${matrixId}`,
    type: 'variable',
    matrix_id: String(matrixId),
    name: `Matrix ${matrixId}`,
    description: '<p>The <em>Crew</em>.</p><script>alert("x")</script>',
    short_description: '<p>Crew.</p>',
    sku: '',
    regular_price: null,
    sale_price: null,
    weight: '0.18',
    dimensions: { length: '30', width: '25', height: '2' },
    categories: [['Apparel', 'T-Shirts']],
    images: [image(matrixId, `mx${matrixId}`, 'Crew Tee')],
    visibility: 'publish',
    pos_timestamp: '2026-11-01T10:00:00+00:00',
    attributes: [
      { name: 'Size', options: ['S', 'M'] },
      { name: 'Colour', options: ['Black', 'Navy'] },
    ],
    variations,
    owned_by_woo: [],
    ...over,
  });
}

const reseal = (l, over) => seal({ ...structuredClone(l), ...over });
const event = (product, cursor = { item: { ts: product.pos_timestamp, ids: [product.item_id ?? 'm'] } }) => ({ v: 1, type: 'product', product, cursor });

// ------------------------------------------------------------ PHP helpers

const PRELUDE = `
$apply = function ( $events ) {
  $p = new PosSync\\Apply\\Publisher( 'test-run' ); $errors = array();
  foreach ( $events as $e ) { try { $p->apply_product_event( $e ); } catch ( Throwable $t ) { $errors[] = $t->getMessage(); } }
  return array( 'counts' => $p->counts, 'errors' => $errors );
};
$by_key = function ( $key ) {
  global $wpdb; return (int) $wpdb->get_var( $wpdb->prepare( "SELECT post_id FROM {$wpdb->postmeta} WHERE meta_key = '_pos_sync_key' AND meta_value = %s", $key ) );
};
$cats = function ( $p ) {
  return array_map( function ( $id ) { $path = array(); $t = get_term( $id, 'product_cat' ); while ( $t && ! is_wp_error( $t ) ) { array_unshift( $path, $t->name ); $t = $t->parent ? get_term( $t->parent, 'product_cat' ) : null; } return $path; }, $p->get_category_ids() );
};
$show = function ( $id ) use ( $cats ) {
  wp_cache_flush(); $p = wc_get_product( $id ); if ( ! $p ) { return null; }
  $img = function ( $aid ) { return $aid ? array( 'key' => get_post_meta( $aid, '_pos_sync_image_key', true ), 'alt' => get_post_meta( $aid, '_wp_attachment_image_alt', true ) ) : null; };
  $out = array( 'id' => $id, 'type' => $p->get_type(), 'name' => $p->get_name(), 'status' => $p->get_status(), 'visibility' => $p->get_catalog_visibility(), 'sku' => $p->get_sku(),
    'regular' => $p->get_regular_price(), 'sale' => $p->get_sale_price(), 'stock' => $p->get_stock_quantity(), 'manage' => $p->get_manage_stock(),
    'weight' => $p->get_weight(), 'dims' => array( $p->get_length(), $p->get_width(), $p->get_height() ), 'description' => $p->get_description(), 'short' => $p->get_short_description(),
    'cats' => $cats( $p ), 'image' => $img( $p->get_image_id() ), 'gallery' => array_map( $img, $p->get_gallery_image_ids() ),
    'item' => get_post_meta( $id, '_pos_sync_item_id', true ), 'modified' => get_post_field( 'post_modified_gmt', $id ) );
  if ( $p->is_type( 'variable' ) ) {
    $out['attributes'] = array_map( function ( $a ) { return array( $a->get_name(), $a->is_taxonomy(), $a->get_variation(), $a->get_options() ); }, array_values( $p->get_attributes() ) );
    $out['variations'] = array();
    foreach ( $p->get_children() as $cid ) { $v = wc_get_product( $cid );
      $out['variations'][ $v->get_sku() ] = array( 'id' => $cid, 'attrs' => $v->get_attributes(), 'regular' => $v->get_regular_price(), 'sale' => $v->get_sale_price(), 'stock' => $v->get_stock_quantity(), 'manage' => $v->get_manage_stock(), 'status' => $v->get_status(), 'weight' => $v->get_weight(), 'image' => $img( $v->get_image_id() ), 'item' => get_post_meta( $cid, '_pos_sync_item_id', true ), 'modified' => get_post_field( 'post_modified_gmt', $cid ) ); }
  }
  return $out;
};
// Every write: save_post, added/updated/deleted post meta, term changes, new attachments.
$count_writes = function () {
  $GLOBALS['pos_sync_test_writes'] = array();
  $note = function ( $what ) { return function () use ( $what ) { $GLOBALS['pos_sync_test_writes'][] = $what . ':' . wp_json_encode( array_slice( func_get_args(), 0, 3 ) ); }; };
  add_action( 'save_post', $note( 'save_post' ) );
  foreach ( array( 'added_post_meta', 'updated_post_meta', 'deleted_post_meta', 'set_object_terms', 'add_attachment', 'created_term' ) as $h ) { add_action( $h, $note( $h ), 10, 4 ); }
};
`;

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('publisher', () => {
    let site;
    let images;
    let downloads = 0;
    const brokenImages = new Set(['missing-file']);
    const php = (code, args) => site.wpEval(PRELUDE + code, args);

    before(async () => {
      images = http.createServer((req, res) => {
        downloads++;
        const m = /^\/img\/(.+)\.png$/.exec(req.url);
        if (!m || brokenImages.has(m[1])) {
          res.writeHead(404).end();
          return;
        }
        const h = crypto.createHash('md5').update(m[1]).digest();
        res.writeHead(200, { 'content-type': 'image/png' }).end(pngBytes([h[0], h[1], h[2]], 16));
      });
      await new Promise((r) => images.listen(0, '127.0.0.1', r));
      imageBase = `http://127.0.0.1:${images.address().port}`;
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: false });
      // The POS image CDN is an outside host in a real shop; here it is on 127.0.0.1.
      fs.writeFileSync(
        path.join(site.wpDir, 'wp-content', 'mu-plugins', 'pos-sync-test-cdn.php'),
        `<?php
add_filter( 'http_request_host_is_external', fn( $ext, $host ) => $ext || '127.0.0.1' === $host, 10, 2 );
add_filter( 'http_allowed_safe_ports', fn( $ports, $host, $url ) => '127.0.0.1' === $host ? array_merge( $ports, array( (int) wp_parse_url( $url, PHP_URL_PORT ) ) ) : $ports, 10, 3 );
add_filter( 'pos_sync_image_hosts', fn( $hosts ) => array_merge( (array) $hosts, array( '127.0.0.1' ) ) );
`,
      );
      // An existing category "Apparel" (different case of nothing: the same name) must be reused.
      await site.wpEval(`wp_insert_term( 'Apparel', 'product_cat' ); return true;`);
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
      images?.close();
    });

    const tee = simple(1, {
      name: 'Classic Tee',
      description: '<p>Our <strong>classic</strong> tee.</p><script>alert("xss")</script><p onclick="steal()">Machine washable.</p>',
      images: [],
      sale_price: '15.00',
    });
    let teeWithImages;
    const crew = () => matrix(5);

    test('a simple and a matrix listing become complete products, in one transaction each with the cursor', async () => {
      teeWithImages = reseal(tee, { images: [image(11, 'tee-front', 'Tee front'), image(12, 'tee-back', 'Tee back')] });
      const r = await php(
        `$r = $apply( $args['events'] );
         return array( $r, $show( $by_key( 'item:1' ) ), $show( $by_key( 'matrix:5' ) ), get_option( 'pos_sync_cursors' )['publish'] ?? null,
           count( get_terms( array( 'taxonomy' => 'product_cat', 'name' => 'Apparel', 'hide_empty' => false ) ) ), wc_attribute_taxonomy_id_by_name( 'size' ) > 0, wc_attribute_taxonomy_id_by_name( 'colour' ) > 0 );`,
        { events: [event(teeWithImages), event(crew(), { item: { ts: 'last' } })] },
      );
      const [res, p, v, cursor, apparelCount, size, colour] = r;
      assert.deepEqual(res.errors, []);
      assert.equal(res.counts.created, 2);
      assert.equal(res.counts.images, 2 + 1 + 4, 'two tee images, the matrix image, one per variation');

      assert.equal(p.type, 'simple');
      assert.equal(p.name, 'Classic Tee');
      assert.equal(p.status, 'publish');
      assert.equal(p.sku, 'SKU-1');
      assert.equal(p.regular, '19.00');
      assert.equal(p.sale, '15.00');
      assert.equal(p.stock, 5);
      assert.equal(p.manage, true);
      assert.equal(p.weight, '0.2');
      assert.deepEqual(p.dims, ['30', '25', '2']);
      assert.deepEqual(p.cats, [['Apparel', 'T-Shirts']]);
      assert.equal(apparelCount, 1, 'the existing Apparel category is reused');
      assert.equal(p.item, '1');
      assert.doesNotMatch(p.description, /script|alert|onclick/);
      assert.match(p.description, /<strong>classic<\/strong>/);
      assert.match(p.description, /Machine washable/);
      assert.deepEqual(p.image, { key: teeWithImages.images[0].key, alt: 'Tee front' });
      assert.deepEqual(p.gallery, [{ key: teeWithImages.images[1].key, alt: 'Tee back' }], 'ordered as in the POS');

      assert.equal(v.type, 'variable');
      assert.ok(size && colour, 'global attributes pa_size and pa_colour created');
      assert.deepEqual(v.attributes.map((a) => [a[0], a[1], a[2]]), [['pa_size', true, true], ['pa_colour', true, true]]);
      assert.doesNotMatch(v.description, /script|alert/);
      assert.equal(Object.keys(v.variations).length, 4);
      const s = v.variations['MX5-S-Black'];
      assert.deepEqual(s.attrs, { pa_size: 's', pa_colour: 'black' });
      assert.equal(s.regular, '24.00');
      assert.equal(s.sale, '20.00');
      assert.equal(s.stock, 2);
      assert.equal(s.manage, true);
      assert.equal(s.weight, '0.18');
      assert.equal(s.item, '501');
      assert.equal(s.image.alt, 'Crew Black');
      assert.equal(v.variations['MX5-M-Navy'].image.key, crew().variations[3].image.key);
      assert.deepEqual(cursor, { item: { ts: 'last' } });
    });

    test('the same listings again make no write at all', async () => {
      const before = downloads;
      const r = await php(
        `$count_writes(); $before = array( $show( $by_key( 'item:1' ) ), $show( $by_key( 'matrix:5' ) ) );
         $r = $apply( $args['events'] );
         return array( $r, $GLOBALS['pos_sync_test_writes'], $before, array( $show( $by_key( 'item:1' ) ), $show( $by_key( 'matrix:5' ) ) ) );`,
        { events: [event(teeWithImages), event(crew())] },
      );
      assert.deepEqual(r[0].counts.unchanged, 2);
      assert.deepEqual(r[1], [], 'no save_post, no meta or term write');
      assert.deepEqual(r[3], r[2], 'post_modified and everything else unchanged');
      assert.equal(downloads, before, 'no image downloaded again');
    });

    test('a price change updates only the price; what the merchant edited elsewhere stays', async () => {
      const id = await php(`$id = $by_key( 'item:1' ); $p = wc_get_product( $id ); $p->set_description( 'Merchant wording' ); $p->save(); return $id;`);
      const changed = reseal(teeWithImages, { regular_price: '21.00', sale_price: null });
      const r = await php(`$count_writes(); $r = $apply( $args['events'] ); return array( $r, $show( $args['id'] ), $GLOBALS['pos_sync_test_writes'] );`, { events: [event(changed)], id });
      assert.equal(r[0].counts.updated, 1);
      assert.equal(r[1].regular, '21.00');
      assert.equal(r[1].sale, '');
      assert.equal(r[1].description, 'Merchant wording', 'the description fingerprint did not move: not written');
      assert.equal(r[1].name, 'Classic Tee');
      assert.equal(r[1].stock, 5);
      const writes = r[2].map((w) => w.split(':')[0] + ':' + (w.match(/"(_[a-z_]+)"/) || [])[1]);
      // WooCommerce's own save re-sets the product type and visibility terms; nothing else is written.
      assert.ok(writes.every((w) => /^(save_post|updated_post_meta|added_post_meta|deleted_post_meta|set_object_terms):/.test(w)), writes.join(' '));
      assert.ok(!r[2].some((w) => /_thumbnail_id|_product_image_gallery|_sku"|_weight|_stock"/.test(w)), r[2].join('\n'));

      // A variation's price: only that variation is written.
      const mx = crew();
      mx.variations[1].regular_price = '26.00';
      const r2 = await php(`$before = $show( $by_key( 'matrix:5' ) ); sleep( 1 ); $r = $apply( $args['events'] ); return array( $r, $before, $show( $by_key( 'matrix:5' ) ) );`, { events: [event(seal(mx))] });
      assert.deepEqual(r2[0].errors, []);
      assert.equal(r2[2].variations['MX5-M-Black'].regular, '26.00');
      for (const sku of ['MX5-S-Black', 'MX5-S-Navy', 'MX5-M-Navy']) assert.equal(r2[2].variations[sku].modified, r2[1].variations[sku].modified, `${sku} untouched`);
    });

    test('fields the merchant owns are filled once, then left alone', async () => {
      await php(`$s = get_option( 'pos_sync_settings', array() ); $s['owned_fields'] = array( 'description', 'name', 'images' ); update_option( 'pos_sync_settings', $s ); return true;`);
      const changed = reseal(teeWithImages, { regular_price: '21.00', name: 'Renamed in POS', description: '<p>New POS text</p>', images: [image(13, 'tee-new', 'New')], weight: '0.3' });
      const r = await php(`$r = $apply( $args['events'] ); return array( $r, $show( $by_key( 'item:1' ) ) );`, { events: [event(changed)] });
      assert.equal(r[1].name, 'Classic Tee');
      assert.equal(r[1].description, 'Merchant wording');
      assert.equal(r[1].image.key, teeWithImages.images[0].key);
      assert.equal(r[1].weight, '0.3', 'fields not owned still follow the POS');
      const fresh = simple(2, { name: 'Owned But New', images: [image(21, 'new-item', 'New item')] });
      const r2 = await php(`$apply( $args['events'] ); $p = $show( $by_key( 'item:2' ) ); $s = get_option( 'pos_sync_settings' ); $s['owned_fields'] = array(); update_option( 'pos_sync_settings', $s ); return $p;`, { events: [event(fresh)] });
      assert.equal(r2.name, 'Owned But New', 'a new product is filled from the POS');
      assert.equal(r2.image.alt, 'New item');
    });

    test('archived or unpublished: draft (or catalogue-hidden), never deleted; never-published items are not created', async () => {
      const hidden = reseal(simple(2, { name: 'Owned But New', images: [image(21, 'new-item', 'New item')] }), { visibility: 'hidden', hidden_reason: 'archived', base: 0 });
      const notListed = simple(3, { visibility: 'hidden', hidden_reason: 'not_selected' });
      const r = await php(`$r = $apply( $args['events'] ); return array( $r, $show( $by_key( 'item:2' ) ), $by_key( 'item:3' ), wc_get_product_id_by_sku( 'SKU-3' ) );`, { events: [event(hidden), event(notListed)] });
      assert.equal(r[0].counts.not_listed, 1);
      assert.equal(r[1].status, 'draft');
      assert.equal(r[1].stock, 0);
      assert.equal(r[2], 0);
      assert.equal(r[3], 0);

      await php(`$s = get_option( 'pos_sync_settings', array() ); $s['hidden_mode'] = 'hidden'; update_option( 'pos_sync_settings', $s ); return true;`);
      const back = reseal(hidden, { visibility: 'publish', hidden_reason: null });
      const again = reseal(hidden, { hidden_reason: 'not_selected' });
      const r2 = await php(`$apply( array( $args['events'][0] ) ); $a = $show( $by_key( 'item:2' ) ); $apply( array( $args['events'][1] ) ); return array( $a, $show( $by_key( 'item:2' ) ) );`, { events: [event(back), event(again)] });
      assert.deepEqual([r2[0].status, r2[0].visibility], ['publish', 'visible']);
      assert.deepEqual([r2[1].status, r2[1].visibility], ['publish', 'hidden']);
      await php(`$s = get_option( 'pos_sync_settings', array() ); $s['hidden_mode'] = 'draft'; update_option( 'pos_sync_settings', $s ); return true;`);
    });

    test('a SKU already used by an unlinked product is reported, not overwritten; with the setting it is linked', async () => {
      const other = await php(`$p = new WC_Product_Simple(); $p->set_name( 'Shop-made mug' ); $p->set_sku( 'MUG-1' ); $p->set_regular_price( '9' ); return $p->save();`);
      const mug = simple(4, { name: 'POS Mug', sku: 'MUG-1', regular_price: '12.50' });
      const r = await php(`$r = $apply( $args['events'] ); return array( $r, $show( $args['id'] ), get_option( 'pos_sync_sku_conflicts' ), $by_key( 'item:4' ) );`, { events: [event(mug)], id: other });
      assert.equal(r[0].counts.conflicts, 1);
      assert.equal(r[1].name, 'Shop-made mug');
      assert.equal(r[1].regular, '9');
      assert.equal(r[2]['item:4'].product_id, other);
      assert.equal(r[2]['item:4'].sku, 'MUG-1');
      assert.equal(r[3], 0);
      const log = await php(`$log = ''; foreach ( glob( WC_LOG_DIR . 'pos-sync-*.log' ) as $f ) { $log .= file_get_contents( $f ); } return $log;`);
      assert.match(log, /POS item:4 has SKU MUG-1, which product #\d+ already has; that product is left alone/);

      const r2 = await php(`$s = get_option( 'pos_sync_settings', array() ); $s['link_by_sku'] = 'yes'; update_option( 'pos_sync_settings', $s );
        $r = $apply( $args['events'] ); return array( $r, $show( $args['id'] ), get_option( 'pos_sync_sku_linked' ), get_option( 'pos_sync_sku_conflicts' ) );`, { events: [event(mug)], id: other });
      assert.equal(r2[0].counts.linked, 1);
      assert.equal(r2[1].name, 'POS Mug');
      assert.equal(r2[1].regular, '12.50');
      assert.equal(r2[1].item, '4');
      assert.equal(r2[2]['item:4'].product_id, other);
      assert.equal(r2[3]['item:4'], undefined, 'no longer a conflict');
    });

    test('a product the stock flow linked is taken over when the item is published, not when it is not', async () => {
      const own = await php(`$p = new WC_Product_Simple(); $p->set_name( 'Hand-made listing' ); $p->set_sku( 'HAND-8' ); $p->set_regular_price( '5' ); $id = $p->save(); update_post_meta( $id, '_pos_sync_item_id', '8' ); return $id;`);
      const hidden = simple(8, { name: 'POS name', sku: 'HAND-8', visibility: 'hidden', hidden_reason: 'not_selected' });
      const r = await php(`$r = $apply( $args['events'] ); return array( $r, $show( $args['id'] ), get_post_meta( $args['id'], '_pos_sync_key', true ) );`, { events: [event(hidden)], id: own });
      assert.equal(r[0].counts.not_listed, 1);
      assert.deepEqual([r[1].name, r[1].status, r[2]], ['Hand-made listing', 'publish', ''], 'left as the merchant made it');
      const published = reseal(hidden, { visibility: 'publish', hidden_reason: null });
      const r2 = await php(`$r = $apply( $args['events'] ); return array( $r, $show( $args['id'] ), get_post_meta( $args['id'], '_pos_sync_key', true ) );`, { events: [event(published)], id: own });
      assert.equal(r2[0].counts.updated, 1);
      assert.deepEqual([r2[1].name, r2[1].status, r2[1].regular, r2[2]], ['POS name', 'publish', '19.00', 'item:8']);
    });

    test('stock goes through the ledger: pending online orders are subtracted', async () => {
      const r = await php(`
        global $wpdb; $id = $by_key( 'item:1' ); $now = current_time( 'mysql', true );
        $wpdb->insert( PosSync\\Store\\Schema::outbox(), array( 'reference_number' => 'web-pub-1', 'state' => 'pending', 'created_at' => $now, 'updated_at' => $now ) );
        $wpdb->insert( PosSync\\Store\\Schema::outbox_lines(), array( 'outbox_id' => $wpdb->insert_id, 'product_id' => $id, 'qty' => -2 ) ); // an order line (PROTOCOL.md: orders are negative)
        $r = $apply( $args['events'] ); $row = $wpdb->get_row( "SELECT to_qty, pos_base, pending FROM {$wpdb->prefix}pos_sync_stock_log WHERE product_id = {$id} ORDER BY id DESC LIMIT 1", ARRAY_A );
        return array( $r, $show( $id )['stock'], $row );`, { events: [event(reseal(teeWithImages, { base: 10, regular_price: '21.00', sale_price: null, weight: '0.3' }))] });
      assert.deepEqual(r[0].errors, []);
      assert.equal(r[1], 8, '10 − 2 pending');
      assert.deepEqual(r[2], { to_qty: '8', pos_base: '10', pending: '2' });
    });

    test('a failure mid-listing rolls everything back, cursor included; a missing image is logged and skipped', async () => {
      const before = await php(`return get_option( 'pos_sync_cursors' )['publish'];`);
      const broken = matrix(6);
      const r = await php(`add_action( 'woocommerce_new_product_variation', function ( $id ) { static $n = 0; if ( ++$n === 3 ) { throw new RuntimeException( 'disk full' ); } } );
        $r = $apply( $args['events'] ); global $wpdb;
        return array( $r, $by_key( 'matrix:6' ), (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->postmeta} WHERE meta_key = '_pos_sync_item_id' AND meta_value LIKE '60_'" ), get_option( 'pos_sync_cursors' )['publish'] );`, { events: [event(broken, { item: { ts: 'broken' } })] });
      assert.match(r[0].errors[0], /POS matrix:6: disk full/);
      assert.equal(r[1], 0, 'no parent left');
      assert.equal(r[2], 0, 'no variation left');
      assert.deepEqual(r[3], before, 'cursor not moved');

      const again = await php(`$r = $apply( $args['events'] ); return array( $r, $show( $by_key( 'matrix:6' ) ) );`, { events: [event(broken)] });
      assert.deepEqual(again[0].errors, []);
      assert.equal(Object.keys(again[1].variations).length, 4, 'the retry creates it whole');

      const noImage = simple(7, { images: [image(71, 'missing-file', 'Gone')] });
      const r3 = await php(`$r = $apply( $args['events'] ); return array( $r, $show( $by_key( 'item:7' ) ) );`, { events: [event(noImage)] });
      assert.deepEqual(r3[0].errors, []);
      assert.equal(r3[1].image, null);
      assert.equal(r3[1].status, 'publish');
      const log = await php(`$log = ''; foreach ( glob( WC_LOG_DIR . 'pos-sync-*.log' ) as $f ) { $log .= file_get_contents( $f ); } return $log;`);
      assert.match(log, /Image missing-file\.png of POS item:7 “Item 7” could not be downloaded \(the image host answered HTTP 404\)/);
      // The CDN has it again: the same listing (a replay, or the next change) attaches it.
      brokenImages.delete('missing-file');
      const r4 = await php(`$r = $apply( $args['events'] ); return array( $r, $show( $by_key( 'item:7' ) ) );`, { events: [event(noImage)] });
      assert.equal(r4[0].counts.updated, 1);
      assert.deepEqual(r4[1].image, { key: noImage.images[0].key, alt: 'Gone' });
    });

    test('progress keeps done/total, a rate and the time left; the settings tab shows it', async () => {
      const p = await php(`delete_option( 'pos_sync_publish_progress' );
        PosSync\\Apply\\Publisher::record_progress( array( 'flow' => 'publish', 'done' => 0, 'total' => 400 ) );
        $o = get_option( 'pos_sync_publish_progress' ); $o['started_at'] -= 10; update_option( 'pos_sync_publish_progress', $o );
        PosSync\\Apply\\Publisher::record_progress( array( 'flow' => 'publish', 'done' => 100, 'total' => 400 ) );
        return PosSync\\Apply\\Publisher::progress();`);
      assert.equal(p.done, 100);
      assert.equal(p.total, 400);
      assert.ok(p.rate > 8 && p.rate <= 10, String(p.rate));
      assert.ok(p.seconds_left >= 29 && p.seconds_left <= 40, String(p.seconds_left));
      const html = await (await site.adminFetch('/wp-admin/admin.php?page=wc-settings&tab=pos_sync')).text();
      assert.match(html, /100 of 400 items read; [\d.]+ items\/s; about \d+ (seconds?|mins?|minutes?) left\./);
      assert.match(html, /Linked by SKU:.*item:4 — SKU MUG-1/s);
      assert.match(html, /name="pos_sync_settings\[publish_rule\]"/);
      // A new pass reported by a run that started 20 s ago: its first page counts in the rate.
      const q = await php(`delete_option( 'pos_sync_publish_progress' );
        PosSync\\Apply\\Publisher::record_progress( array( 'flow' => 'publish', 'done' => 100, 'total' => 400 ), microtime( true ) - 20 );
        return PosSync\\Apply\\Publisher::progress();`);
      assert.equal(q.start_done, 0);
      assert.ok(q.rate > 4 && q.rate <= 5, String(q.rate));
      assert.ok(q.seconds_left >= 59 && q.seconds_left <= 76, String(q.seconds_left));
    });

    test('no PHP notice, warning or deprecation in the debug log', () => {
      const lines = site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal|Parse)/.test(l));
      assert.deepEqual(lines, []);
    });

    test('category counts: deferred to the end of a run; a run cut short has them counted by the next', async () => {
      const COUNTS = `$count = function () {
          wp_cache_flush(); $out = array();
          foreach ( get_terms( array( 'taxonomy' => 'product_cat', 'hide_empty' => false ) ) as $t ) {
            if ( in_array( $t->name, array( 'Counted', 'Leaf A', 'Leaf B' ), true ) ) { $out[ $t->name ] = array( (int) $t->count, (int) get_term_meta( $t->term_id, 'product_count_product_cat', true ) ); }
          }
          ksort( $out ); return $out; };
        // What WordPress and WooCommerce count from scratch.
        $truth = function () use ( $count ) {
          $ids = get_terms( array( 'taxonomy' => 'product_cat', 'hide_empty' => false, 'fields' => 'tt_ids' ) );
          wp_update_term_count_now( $ids, 'product_cat' ); wc_recount_all_terms(); return $count(); };`;
      const leafA = [1, 2, 3].map((i) => event(simple(8100 + i, { categories: [['Counted', 'Leaf A']] })));
      const r = await php(
        `${COUNTS}
        $p = new PosSync\\Apply\\Publisher( 'count-run' ); $p->begin();
        foreach ( $args as $e ) { $p->apply_product_event( $e ); }
        $during = $count(); $owed = get_option( 'pos_sync_terms_to_count' );
        $p->end(); $after = $count();
        return array( $during, $owed, $after, get_option( 'pos_sync_terms_to_count', 'none' ), $truth() );`,
        leafA,
      );
      const [during, owed, after, left, truth] = r;
      assert.deepEqual(during, { Counted: [0, 0], 'Leaf A': [0, 0] }, 'not counted per product');
      assert.equal(owed.length, 1, 'the leaf is owed (its ancestors are counted with it)');
      assert.deepEqual(after['Leaf A'], [3, 3]);
      assert.deepEqual(after, truth, 'the counts at the end are what a full recount gives');
      assert.equal(left, 'none');

      // A run cut short (the process ends without end()): the next run's begin() counts what it owed.
      const moved = reseal(leafA[0].product, { categories: [['Counted', 'Leaf B']] });
      const cut = await php(
        `${COUNTS} $p = new PosSync\\Apply\\Publisher( 'cut-run' ); $p->begin();
        $p->apply_product_event( $args ); return array( $count(), count( get_option( 'pos_sync_terms_to_count' ) ) );`,
        event(moved),
      );
      assert.deepEqual(cut[0]['Leaf A'], [3, 3], 'stale until counted');
      assert.equal(cut[1], 2, 'both leaves owed');
      const next = await php(`${COUNTS} $p = new PosSync\\Apply\\Publisher( 'next-run' ); $p->begin(); $c = $count(); $p->end(); return array( $c, get_option( 'pos_sync_terms_to_count', 'none' ), $truth() );`);
      assert.deepEqual(next[0]['Leaf A'], [2, 2]);
      assert.deepEqual(next[0]['Leaf B'], [1, 1]);
      assert.deepEqual(next[0], next[2], 'the owed counts are what a full recount gives');
      assert.equal(next[1], 'none');
    });

    test('publish settings are validated and become the job settings', async () => {
      const r = await php(`$errors = PosSync\\Store\\Settings::save_form( array( 'publish_enabled' => 'yes', 'publish_rule' => 'manual', 'publish_ids' => '12, matrix:3, x9', 'price_level' => 'online', 'fallback_price_level' => '  MSRP ', 'hidden_mode' => 'hidden', 'owned_fields' => array( 'images', 'bogus' ), 'link_by_sku' => 'no', 'budget_seconds' => '25', 'log_days' => '90', 'safety_buffer' => '0' ) );
        update_option( 'woocommerce_weight_unit', 'g' ); update_option( 'woocommerce_dimension_unit', 'cm' );
        return array( $errors, PosSync\\Apply\\Publisher::job_settings() );`);
      assert.equal(r[0].length, 2, JSON.stringify(r[0]));
      assert.match(r[0][0], /bogus.*left out/);
      assert.match(r[0][1], /x9/);
      assert.deepEqual(r[1], {
        publish_rule: { by: 'manual', item_ids: ['12'], matrix_ids: ['3'] },
        price_level: 'online',
        fallback_price_level: 'MSRP',
        units: { weight: 'g', dimension: 'cm' },
        owned_by_woo: ['images'],
        tax_classes: {},
      });
    });
  });
}
