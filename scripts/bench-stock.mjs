// npm run bench:stock — applies N (default 10 000) stock changes to N real WooCommerce
// products through the plugin's runner (a stand-in sidecar emitting `stock` events of
// 100 levels, as the core does), then the same changes from the same start through
// WooCommerce's REST batch endpoint (100 a request), compares both end states and prints
//   ratio=… ours_per_s=… rest_per_s=… same_end_state=true|false
// Usage: node scripts/bench-stock.mjs [--products N]
import fs from 'node:fs';
import path from 'node:path';
import { createSite, findWordPress, REPO_ROOT } from './lib/site.mjs';

const argi = process.argv.indexOf('--products');
const N = argi > 0 ? Number(process.argv[argi + 1]) : 10_000;
const START = 10;
// Targets: mostly positive moves, every 50th product sold out (a stock status change).
const target = (i) => (i % 50 === 0 ? 0 : 11 + (i % 37));
const log = (m) => console.log(`[bench] ${m}`);

const found = await findWordPress();
if (found.missing) {
  console.error(`bench:stock needs WordPress and WooCommerce: ${found.missing}`);
  process.exit(1);
}
const site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: (m) => log(m) });
try {
  // N products, linked to POS items and last synced at START, made with SQL (WooCommerce's
  // own path would take ~40 ms each) in the shape WooCommerce gives them.
  let t = Date.now();
  const made = await site.wpEval(
    `global $wpdb;
    $n = (int) $args['n']; $start = (int) $args['start'];
    $simple = (int) get_term_by( 'slug', 'simple', 'product_type' )->term_taxonomy_id;
    $now = current_time( 'mysql' ); $gmt = current_time( 'mysql', true );
    $first = (int) $wpdb->get_var( "SELECT COALESCE(MAX(ID), 0) + 1 FROM {$wpdb->posts}" );
    for ( $b = 0; $b < $n; $b += 1000 ) {
      $posts = $meta = $terms = $lookup = array();
      for ( $i = $b; $i < min( $n, $b + 1000 ); $i++ ) {
        $id = $first + $i;
        $posts[] = $wpdb->prepare( '(%d, 1, %s, %s, %s, %s, %s, %s, %s, %s, %s)', $id, $now, $gmt, 'Bench product ' . $i, 'publish', 'bench-product-' . $i, $now, $gmt, 'product', '' );
        foreach ( array( '_sku' => 'BENCH-' . $i, '_regular_price' => '10', '_price' => '10', '_manage_stock' => 'yes', '_stock' => $start, '_stock_status' => 'instock', '_backorders' => 'no', '_tax_status' => 'taxable', '_virtual' => 'no', '_downloadable' => 'no', '_pos_sync_item_id' => (string) ( 100000 + $i ), '_pos_sync_last_stock' => (string) $start ) as $k => $v ) {
          $meta[] = $wpdb->prepare( '(%d, %s, %s)', $id, $k, $v );
        }
        $terms[]  = $wpdb->prepare( '(%d, %d)', $id, $simple );
        $lookup[] = $wpdb->prepare( "(%d, %s, 0, 0, 10, 10, 0, %d, 'instock', 0, 0, 0, 'taxable', '')", $id, 'BENCH-' . $i, $start );
      }
      $wpdb->query( "INSERT INTO {$wpdb->posts} (ID, post_author, post_date, post_date_gmt, post_title, post_status, post_name, post_modified, post_modified_gmt, post_type, post_content) VALUES " . implode( ',', $posts ) );
      $wpdb->query( "INSERT INTO {$wpdb->postmeta} (post_id, meta_key, meta_value) VALUES " . implode( ',', $meta ) );
      $wpdb->query( "INSERT INTO {$wpdb->term_relationships} (object_id, term_taxonomy_id) VALUES " . implode( ',', $terms ) );
      $wpdb->query( "INSERT INTO {$wpdb->wc_product_meta_lookup} (product_id, sku, \`virtual\`, downloadable, min_price, max_price, onsale, stock_quantity, stock_status, rating_count, average_rating, total_sales, tax_status, tax_class) VALUES " . implode( ',', $lookup ) );
    }
    wp_update_term_count_now( array( $simple ), 'product_type' );
    return array( 'first' => $first, 'count' => (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->posts} WHERE post_type = 'product'" ) );`,
    { n: N, start: START },
  );
  const ids = Array.from({ length: N }, (_, i) => made.first + i);
  log(`${made.count} products ready (${((Date.now() - t) / 1000).toFixed(1)} s)`);

  // Snapshot of what a shopper and WooCommerce see: stock, status, lookup row, out-of-stock term.
  const snapshot = () =>
    site.wpEval(`global $wpdb;
      $oos = (int) get_term_by( 'slug', 'outofstock', 'product_visibility' )->term_taxonomy_id;
      return $wpdb->get_results( "SELECT p.ID, s.meta_value + 0 AS stock, st.meta_value AS status, l.stock_quantity + 0 AS lookup_stock, l.stock_status AS lookup_status, (tr.object_id IS NOT NULL) AS oos_term
        FROM {$wpdb->posts} p JOIN {$wpdb->postmeta} s ON s.post_id = p.ID AND s.meta_key = '_stock' JOIN {$wpdb->postmeta} st ON st.post_id = p.ID AND st.meta_key = '_stock_status'
        JOIN {$wpdb->wc_product_meta_lookup} l ON l.product_id = p.ID LEFT JOIN {$wpdb->term_relationships} tr ON tr.object_id = p.ID AND tr.term_taxonomy_id = $oos
        WHERE p.post_type = 'product' AND p.post_title LIKE 'Bench product %' ORDER BY p.ID", ARRAY_N );`);
  const reset = () =>
    site.wpEval(`global $wpdb; $oos = (int) get_term_by( 'slug', 'outofstock', 'product_visibility' )->term_taxonomy_id;
      $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->postmeta} SET meta_value = %d WHERE meta_key IN ('_stock', '_pos_sync_last_stock') AND post_id IN (SELECT ID FROM {$wpdb->posts} WHERE post_title LIKE 'Bench product %%')", $args ) );
      $wpdb->query( "UPDATE {$wpdb->postmeta} SET meta_value = 'instock' WHERE meta_key = '_stock_status' AND post_id IN (SELECT ID FROM {$wpdb->posts} WHERE post_title LIKE 'Bench product %')" );
      $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->wc_product_meta_lookup} SET stock_quantity = %d, stock_status = 'instock' WHERE sku LIKE 'BENCH-%%'", $args ) );
      $wpdb->query( "DELETE FROM {$wpdb->term_relationships} WHERE term_taxonomy_id = $oos" );
      wc_delete_product_transients(); return true;`, START);

  // Ours: the runner and a stand-in sidecar that streams the events.
  const sidecar = path.join(site.dir, 'bench-sidecar.mjs');
  fs.writeFileSync(
    sidecar,
    `import fs from 'node:fs';
const N = ${N}, first = ${made.first};
const target = ${target.toString()};
process.stdin.once('data', () => {
  const out = [JSON.stringify({ v: 1, type: 'hello', core: 'bench', kind: 'sync' })];
  for (let b = 0; b < N; b += 100) {
    const levels = [];
    for (let i = b; i < Math.min(N, b + 100); i++) levels.push({ item_id: String(100000 + i), sku: 'BENCH-' + i, shop_qoh: { 1: target(i) }, qoh: target(i), base: target(i) });
    out.push(JSON.stringify({ v: 1, type: 'stock', levels, cursor: { ts: '2026-01-01T00:00:00+00:00', ids: [String(100000 + b)] } }));
  }
  out.push(JSON.stringify({ v: 1, type: 'result', ok: true, kind: 'sync', summary: { levels: N } }));
  process.stdout.write(out.join('\\n') + '\\n', () => process.exit(0));
});
`,
  );
  await site.wpEval(`update_option( 'pos_sync_site_test_sidecar', $args ); $s = PosSync\\Store\\Settings::all(); $s['budget_seconds'] = 300; update_option( 'pos_sync_settings', $s ); return true;`, sidecar);
  t = Date.now();
  const run = await site.wpEval(`return PosSync\\Jobs\\Runner::run( 'sync' );`);
  const oursS = (Date.now() - t) / 1000;
  if (!run.ok) throw new Error(`our run failed: ${run.error}`);
  log(`ours: ${N} products in ${oursS.toFixed(1)} s (${JSON.stringify(run.summary.applied)})`);
  const oursEnd = await snapshot();

  // WooCommerce REST batch, 100 a request, from the same start.
  await reset();
  t = Date.now();
  for (let b = 0; b < N; b += 100) {
    await site.rest('POST', '/wc/v3/products/batch', { update: ids.slice(b, b + 100).map((id, k) => ({ id, stock_quantity: target(b + k) })) });
  }
  const restS = (Date.now() - t) / 1000;
  log(`REST batch: ${N} products in ${restS.toFixed(1)} s`);
  const restEnd = await snapshot();

  const same = JSON.stringify(oursEnd) === JSON.stringify(restEnd) && oursEnd.length === N;
  if (!same) {
    const diff = oursEnd.findIndex((r, i) => JSON.stringify(r) !== JSON.stringify(restEnd[i]));
    log(`first difference at row ${diff}: ours ${JSON.stringify(oursEnd[diff])} rest ${JSON.stringify(restEnd[diff])}`);
  }
  console.log(`ratio=${(restS / oursS).toFixed(2)} ours_per_s=${(N / oursS).toFixed(0)} rest_per_s=${(N / restS).toFixed(0)} same_end_state=${same}`);
} finally {
  await site.stop({ remove: true });
}
