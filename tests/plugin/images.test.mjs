// Images are downloaded only from the POS's image host (filter pos_sync_image_hosts),
// through WordPress's safe HTTP, when the host says it is an image, the bytes are one,
// and it is at most pos_sync_image_max_bytes. A refused image is logged naming the
// product and the reason; the product is saved without it. Real WordPress + WooCommerce,
// `product` events fed to the Publisher as the core sends them.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createSite, wordPressOrSkip, REPO_ROOT } from '../../scripts/lib/site.mjs';
import { pngBytes } from '../../js/emulator/imageFiles.mjs';

const { skip } = await wordPressOrSkip();
const CAP = 2000; // bytes, set through pos_sync_image_max_bytes for this site

const png = pngBytes([200, 40, 40], 8);
// A real PNG padded past the cap (image readers ignore what follows IEND).
const bigPng = Buffer.concat([png, Buffer.alloc(CAP * 3)]);
const routes = {
  '/img/ok.png': ['image/png', png],
  '/img/html-type.png': ['text/html; charset=UTF-8', png],
  '/img/not-an-image.png': ['image/png', Buffer.from('<html><body><script>alert(1)</script></body></html>')],
  '/img/big.png': ['image/png', bigPng],
};
const serve = (req, res) => {
  const route = routes[req.url];
  if (!route) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': route[0], 'content-length': route[1].length }).end(route[1]);
};

const print = (v) => crypto.createHash('sha1').update(JSON.stringify(v ?? null)).digest('hex').slice(0, 16);
let n = 0;
// A simple listing with one image, sealed as the core seals it (fields that matter here).
function listing(url, file) {
  n++;
  const l = {
    key: `item:${700 + n}`,
    type: 'simple',
    item_id: String(700 + n),
    name: `Picture test ${n}`,
    description: '',
    short_description: '',
    sku: `PIC-${n}`,
    regular_price: '5.00',
    sale_price: null,
    weight: null,
    dimensions: null,
    categories: [],
    images: [{ key: `${900 + n}-${print(url).slice(0, 8)}`, image_id: String(900 + n), url, filename: file, alt: `Picture ${n}` }],
    visibility: 'publish',
    pos_timestamp: '2026-11-01T10:00:00+00:00',
    base: 1,
    owned_by_woo: [],
  };
  l.fingerprints = { name: print(l.name), sku: print(l.sku), images: print(l.images), stock: print(l.base) };
  l.fingerprint = print(l.fingerprints);
  return l;
}

const PUBLISH = `
$GLOBALS['pos_sync_test_log'] = array();
add_filter( 'woocommerce_logger_log_message', function ( $message, $level, $context ) { if ( 'pos-sync' === ( $context['source'] ?? '' ) ) { $GLOBALS['pos_sync_test_log'][] = $level . ': ' . $message; } return $message; }, 10, 3 );
$p = new PosSync\\Apply\\Publisher( 'test-images' ); $error = null;
try { $p->apply_product_event( array( 'v' => 1, 'type' => 'product', 'product' => $args, 'cursor' => null ) ); } catch ( Throwable $t ) { $error = $t->getMessage(); }
wp_cache_flush();
$id = (int) wc_get_product_id_by_sku( $args['sku'] );
$product = $id ? wc_get_product( $id ) : null;
return array( 'error' => $error, 'product' => $id, 'status' => $product ? $product->get_status() : null, 'image' => $product ? $product->get_image_id() : null,
  'downloaded' => $p->counts['images'], 'log' => $GLOBALS['pos_sync_test_log'] );
`;

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('POS images: only from the POS image host, only images, at most the cap', () => {
    let site;
    let posHost; // the POS's image host (allowed)
    let otherHost; // another host, reachable and "external" for WordPress, but not the POS's
    const servers = [];
    const publish = (url, file = 'picture.png') => site.wpEval(PUBLISH, listing(url, file));
    const refused = (r, reason) => {
      assert.equal(r.error, null);
      assert.ok(r.product, 'the product is saved');
      assert.equal(r.status, 'publish');
      assert.equal(Number(r.image), 0, `without the image: ${JSON.stringify(r.log)}`);
      assert.equal(r.downloaded, 0);
      const line = r.log.find((l) => l.startsWith('warning: Image '));
      assert.ok(line, `a warning is logged: ${JSON.stringify(r.log)}`);
      assert.match(line, new RegExp(`POS item:\\d+ “Picture test \\d+”`), 'it names the product');
      assert.match(line, reason);
    };

    before(async () => {
      const listen = async (name) => {
        const s = http.createServer(serve);
        await new Promise((r) => s.listen(0, '127.0.0.1', r));
        servers.push(s);
        return `http://${name}:${s.address().port}`;
      };
      posHost = await listen('127.0.0.1');
      otherHost = await listen('localhost');
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: false });
      const posPort = new URL(posHost).port;
      fs.writeFileSync(
        path.join(site.wpDir, 'wp-content', 'mu-plugins', 'pos-sync-test-images.php'),
        `<?php
// Both test hosts count as outside hosts for WordPress's safe HTTP; only one is the POS's.
add_filter( 'http_request_host_is_external', fn( $ext, $host ) => $ext || in_array( $host, array( '127.0.0.1', 'localhost' ), true ), 10, 2 );
add_filter( 'http_allowed_safe_ports', fn( $ports, $host, $url ) => array_merge( $ports, array( (int) wp_parse_url( $url, PHP_URL_PORT ) ) ), 10, 3 );
add_filter( 'pos_sync_image_hosts', fn( $hosts ) => array_merge( (array) $hosts, array( '127.0.0.1:${posPort}' ) ) );
add_filter( 'pos_sync_image_max_bytes', fn() => ${CAP} );
`,
      );
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
      for (const s of servers) s.close();
    });

    test('an image from the POS image host is downloaded', { timeout: 120_000 }, async () => {
      const r = await publish(`${posHost}/img/ok.png`);
      assert.equal(r.error, null);
      assert.equal(r.downloaded, 1, JSON.stringify(r.log));
      assert.ok(Number(r.image) > 0);
    });

    test('an image on another host is refused (logged, product saved without it)', { timeout: 120_000 }, async () => {
      refused(await publish(`${otherHost}/img/ok.png`), /host localhost is not the POS’s image host \(res\.cloudinary\.com, 127\.0\.0\.1:\d+/);
    });

    test('an answer whose Content-Type is not an image is refused, even when the bytes are a PNG', { timeout: 120_000 }, async () => {
      refused(await publish(`${posHost}/img/html-type.png`), /Content-Type is “text\/html”, not an image/);
    });

    test('an answer that says image/png but is HTML is refused', { timeout: 120_000 }, async () => {
      refused(await publish(`${posHost}/img/not-an-image.png`), /not an image/);
    });

    test('an image larger than pos_sync_image_max_bytes is refused', { timeout: 120_000 }, async () => {
      refused(await publish(`${posHost}/img/big.png`), /larger than 2,000 bytes/);
    });

    test('the cap is 10 MB and Lightspeed’s image CDN the only host without filters', { timeout: 60_000 }, async () => {
      const r = await site.wpEval(`remove_all_filters( 'pos_sync_image_max_bytes' ); remove_all_filters( 'pos_sync_image_hosts' ); return array( PosSync\\Apply\\ImageDownload::max_bytes(), PosSync\\Apply\\ImageDownload::hosts() );`);
      assert.deepEqual(r, [10 * 1024 * 1024, ['res.cloudinary.com']]);
    });

    test('no PHP notice in the debug log', () => {
      assert.deepEqual(site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
