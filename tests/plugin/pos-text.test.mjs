// Every POS text is cleaned at one border (PosText) as WooCommerce cleans its own input,
// before it becomes WooCommerce data: a simple and a matrix listing whose every text
// field carries markup and script are published through the Publisher, and what
// WooCommerce stores (SKUs, attributes, categories, image alt and file names,
// descriptions, title), the POS items table and a stock-flow link by SKU are checked.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createSite, wordPressOrSkip, REPO_ROOT } from '../../scripts/lib/site.mjs';
import { pngBytes } from '../../js/emulator/imageFiles.mjs';

const { skip } = await wordPressOrSkip();

const T = 'zq9xss'; // marks every payload
const img = `<img src=x onerror=alert('${T}')>`;
const scr = `<script>alert('${T}')</script>`;
const svg = `"><svg onload=alert('${T}')>`;
const dirty = (word) => `${word}${img}${svg}`;
const print = (v) => crypto.createHash('sha1').update(JSON.stringify(v ?? null)).digest('hex').slice(0, 16);

let base = '';
const image = (id, alt) => ({ key: `${id}-${print(alt).slice(0, 8)}`, image_id: String(id), url: `${base}/img/${id}.png`, filename: `pic${svg}${id}.png`, alt: dirty(alt) });
const seal = (l) => {
  l.fingerprints = { all: print(l) };
  l.fingerprint = print(l.fingerprints);
  for (const v of l.variations ?? []) {
    v.fingerprints = { all: print(v) };
    v.fingerprint = print(v.fingerprints);
  }
  return l;
};
const common = {
  description: `<p>Good <strong>cotton</strong>.</p>${scr}${img}<p onclick="alert('${T}')">Wash cold.</p>`,
  short_description: `<em>Soft</em>${svg}`,
  regular_price: '19.00',
  sale_price: null,
  weight: null,
  dimensions: null,
  categories: [[dirty('Apparel'), dirty('Tees')]],
  visibility: 'publish',
  pos_timestamp: '2026-11-01T10:00:00+00:00',
  owned_by_woo: [],
};
const simple = () =>
  seal({ ...common, key: 'item:41', type: 'simple', item_id: '41', name: dirty('Plain Tee'), sku: `TEE${img}-41`, images: [image(41, 'Front')], base: 3 });
const matrix = () =>
  seal({
    ...common,
    key: 'matrix:42',
    type: 'variable',
    matrix_id: '42',
    name: dirty('Crew'),
    sku: '',
    images: [],
    attributes: [{ name: `Size${svg}`, options: [`S${img}`, 'M'] }],
    variations: ['S', 'M'].map((size, i) => ({
      item_id: String(4200 + i),
      sku: `CREW-${size}${img}`,
      attributes: { [`Size${svg}`]: size === 'S' ? `S${img}` : 'M' },
      regular_price: '24.00',
      sale_price: null,
      weight: null,
      dimensions: null,
      image: image(4200 + i, `Crew ${size}`),
      base: 2,
      enabled: true,
      pos_timestamp: '2026-11-01T10:00:00+00:00',
    })),
  });

const SHOW = `
wp_cache_flush();
$out = array();
foreach ( array( 'item:41', 'matrix:42' ) as $key ) {
  global $wpdb;
  $id = (int) $wpdb->get_var( $wpdb->prepare( "SELECT post_id FROM {$wpdb->postmeta} WHERE meta_key = '_pos_sync_key' AND meta_value = %s", $key ) );
  $p = wc_get_product( $id );
  $ids = array_values( array_filter( array_merge( array( $p->get_image_id() ), $p->get_gallery_image_ids() ) ) );
  $texts = array( 'name' => $p->get_name(), 'sku' => $p->get_sku(), 'description' => $p->get_description(), 'short' => $p->get_short_description() );
  foreach ( $p->get_category_ids() as $c ) { $t = get_term( $c, 'product_cat' ); while ( $t && ! is_wp_error( $t ) ) { $texts[] = $t->name; $t = $t->parent ? get_term( $t->parent, 'product_cat' ) : null; } }
  foreach ( $p->get_attributes() as $a ) { $texts[] = $a->get_name(); $texts[] = wc_attribute_label( $a->get_name() ); foreach ( $a->is_taxonomy() ? wc_get_product_terms( $id, $a->get_name(), array( 'fields' => 'names' ) ) : $a->get_options() as $o ) { $texts[] = $o; } }
  foreach ( $p->get_children() as $cid ) { $v = wc_get_product( $cid ); $texts[] = $v->get_sku(); foreach ( $v->get_attributes() as $k => $o ) { $texts[] = $k; $texts[] = $o; } if ( $v->get_image_id() ) { $ids[] = $v->get_image_id(); } }
  foreach ( $ids as $aid ) { $texts[] = get_post_meta( $aid, '_wp_attachment_image_alt', true ); $texts[] = basename( (string) get_attached_file( $aid ) ); $texts[] = get_the_title( $aid ); }
  $out[ $key ] = array( 'id' => $id, 'texts' => $texts, 'images' => count( $ids ), 'variations' => count( $p->get_children() ) );
}
$out['catalogue'] = $wpdb->get_results( "SELECT name, sku FROM " . PosSync\\Store\\Schema::catalogue() . " ORDER BY pos_key", ARRAY_A );
return $out;
`;

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('POS text is cleaned at one border', () => {
    let site;
    let images;
    before(async () => {
      images = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(pngBytes([10, 120, 200], 8)));
      await new Promise((r) => images.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${images.address().port}`;
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: false });
      fs.writeFileSync(
        path.join(site.wpDir, 'wp-content', 'mu-plugins', 'pos-sync-test-cdn.php'),
        `<?php
add_filter( 'http_request_host_is_external', fn( $ext, $host ) => $ext || '127.0.0.1' === $host, 10, 2 );
add_filter( 'http_allowed_safe_ports', fn( $ports, $host, $url ) => array_merge( $ports, array( (int) wp_parse_url( $url, PHP_URL_PORT ) ) ), 10, 3 );
add_filter( 'pos_sync_image_hosts', fn( $hosts ) => array_merge( (array) $hosts, array( '127.0.0.1' ) ) );
`,
      );
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
      images?.close();
    });

    test('markup and script in every text field reach WooCommerce as WooCommerce would clean them', { timeout: 180_000 }, async () => {
      const r = await site.wpEval(
        `$p = new PosSync\\Apply\\Publisher( 'test-text' ); $errors = array();
         foreach ( $args as $l ) { try { $p->apply_product_event( array( 'v' => 1, 'type' => 'product', 'product' => $l, 'cursor' => null ) ); } catch ( Throwable $t ) { $errors[] = $t->getMessage(); } }
         return $errors;`,
        [simple(), matrix()],
      );
      assert.deepEqual(r, []);
      const shown = await site.wpEval(SHOW);
      const tee = shown['item:41'];
      const crew = shown['matrix:42'];
      assert.equal(tee.images, 1, 'the image is downloaded');
      assert.equal(crew.images, 2);
      assert.equal(crew.variations, 2, 'both variations, told apart by their cleaned attribute values');
      for (const [what, texts] of [['simple', tee.texts], ['matrix', crew.texts], ['POS items table', shown.catalogue.flatMap((row) => [row.name, row.sku])]]) {
        for (const [field, text] of Object.entries(texts)) {
          // Descriptions keep the HTML wp_kses_post allows (an <img> without its onerror).
          const markup = field === 'description' || field === 'short' ? /<(script|svg)|\son\w+\s*=/i : /<(script|img|svg)|\son\w+\s*=/i;
          assert.doesNotMatch(String(text), markup, `${what} ${field}: ${JSON.stringify(text)}`);
        }
      }
      // What a merchant typed stays: the words, and the HTML a description may have.
      assert.equal(tee.texts.sku, 'TEE-41');
      assert.ok(tee.texts.name.startsWith('Plain Tee'), tee.texts.name);
      assert.match(tee.texts.description, /<p>Good <strong>cotton<\/strong>\.<\/p>/);
      assert.match(tee.texts.description, /Wash cold/);
      assert.ok(Object.values(crew.texts).includes('CREW-S') && Object.values(crew.texts).includes('CREW-M'), JSON.stringify(crew.texts));
      assert.ok(Object.values(tee.texts).some((t) => String(t).startsWith('Apparel')), JSON.stringify(tee.texts));
    });

    test('a stock level with the same POS SKU links the product the publish flow made (cleaned alike)', { timeout: 60_000 }, async () => {
      const linked = await site.wpEval(
        `$id = wc_get_product_id_by_sku( 'TEE-41' ); delete_post_meta( $id, '_pos_sync_item_id' );
         $a = new PosSync\\Apply\\StockApplier( 'test-text' ); $links = array();
         $a->apply_levels( array( array( 'item_id' => '41', 'sku' => $args, 'base' => 7, 'read_from_ms' => 0, 'read_until_ms' => 0 ) ), $links );
         wp_cache_flush(); return array( get_post_meta( $id, '_pos_sync_item_id', true ), wc_get_product( $id )->get_stock_quantity() );`,
        `TEE${img}-41`,
      );
      assert.deepEqual(linked, ['41', 7]);
    });

    test('no PHP notice in the debug log', () => {
      assert.deepEqual(site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
