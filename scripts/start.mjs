// npm start: the local demo shop. WordPress + WooCommerce + the built plugin in
// .site/ (MariaDB and php -S, detached), the demo POS (the Lightspeed emulator),
// the plugin connected to it and a first sync run. `npm stop` ends it all.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createSite, ensureWordPress, stopPid, REPO_ROOT } from './lib/site.mjs';

const SITE_DIR = path.join(REPO_ROOT, '.site');
const PIDS = path.join(SITE_DIR, 'pids.json');
const shopPort = Number(process.env.SHOP_PORT || 8080);
const posPort = Number(process.env.POS_PORT || 8787);
const log = (m) => console.log(`[start] ${m}`);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main() {
  if (fs.existsSync(PIDS)) {
    const pids = JSON.parse(fs.readFileSync(PIDS, 'utf8'));
    if (Object.values(pids).some((p) => typeof p === 'number' && alive(p))) {
      const info = JSON.parse(fs.readFileSync(path.join(SITE_DIR, 'site.json'), 'utf8'));
      console.log(`The shop is already running: ${info.url}/ (admin ${info.url}/wp-admin/, ${info.admin.user} / ${info.admin.password}). Stop it with: npm stop`);
      return;
    }
  }
  // POS_SYNC_PLUGIN: another build of the plugin (zip or folder) than dist/pos-sync.zip.
  const zip = process.env.POS_SYNC_PLUGIN || path.join(REPO_ROOT, 'dist', 'pos-sync.zip');
  if (!fs.existsSync(zip)) throw new Error(`${path.relative(REPO_ROOT, zip)} is missing: run \`npm run build\` first`);

  const found = await ensureWordPress({ download: true, log });
  if (found.missing) {
    throw new Error(`${found.missing}\nSet WORDPRESS_DIR and WOOCOMMERCE_DIR to unpacked WordPress (≥ 6.7) and WooCommerce (≥ 9.0) folders, or WORDPRESS_ZIP and WOOCOMMERCE_ZIP to their zips.`);
  }

  // The demo POS, detached so it outlives this command.
  fs.mkdirSync(path.join(SITE_DIR, 'logs'), { recursive: true });
  const posLog = fs.openSync(path.join(SITE_DIR, 'logs', 'pos-emulator.log'), 'w');
  const pos = spawn(process.execPath, [path.join(REPO_ROOT, 'js', 'emulator', 'cli.mjs')], {
    env: { ...process.env, POS_PORT: String(posPort), POS_SEED: 'demo' },
    detached: true,
    stdio: ['ignore', posLog, posLog],
  });
  pos.unref();
  const posUrl = `http://127.0.0.1:${posPort}`;
  let posUp = false;
  for (let i = 0; i < 100 && !posUp; i++) {
    await new Promise((r) => setTimeout(r, 100));
    posUp = await fetch(`${posUrl}/_emulator/clock`).then((r) => r.ok, () => false);
    if (!alive(pos.pid)) break;
  }
  if (!posUp) throw new Error(`the demo POS did not start on port ${posPort} (see .site/logs/pos-emulator.log; set POS_PORT for another port)`);
  log(`demo POS at ${posUrl}/API/V3`);

  let site;
  try {
    site = await createSite({ dir: SITE_DIR, port: shopPort, plugin: zip, detached: true, wpCron: true, adminPassword: process.env.SHOP_ADMIN_PASSWORD, log });
  } catch (e) {
    await stopPid(pos.pid);
    throw e;
  }
  fs.writeFileSync(PIDS, JSON.stringify({ emulator: pos.pid, php: site.pids.php, mariadb: site.pids.mariadb }, null, 2));
  // The demo POS serves its images from this machine; WordPress downloads only from
  // outside hosts (as a real POS CDN is). This demo shop, and only it, trusts the
  // demo POS's own host and port.
  fs.mkdirSync(path.join(site.wpDir, 'wp-content', 'mu-plugins'), { recursive: true });
  fs.writeFileSync(
    path.join(site.wpDir, 'wp-content', 'mu-plugins', 'pos-sync-demo-images.php'),
    `<?php
// Written by npm start: the demo POS's images come from 127.0.0.1:${posPort}.
add_filter( 'http_request_host_is_external', fn( $ext, $host, $url ) => $ext || ( '127.0.0.1' === $host && ${posPort} === (int) wp_parse_url( $url, PHP_URL_PORT ) ), 10, 3 );
add_filter( 'http_allowed_safe_ports', fn( $ports, $host ) => '127.0.0.1' === $host ? array_merge( $ports, array( ${posPort} ) ) : $ports, 10, 2 );
// POS Sync downloads images only from the POS's image host: here, the demo POS.
add_filter( 'pos_sync_image_hosts', fn( $hosts ) => array_merge( (array) $hosts, array( '127.0.0.1:${posPort}' ) ) );
`,
  );
  if (!site.pluginActivation?.active) throw new Error(`the plugin did not activate: ${JSON.stringify(site.pluginActivation)}`);

  // Products for the demo catalogue, unless the plugin publishes them itself (a later flow).
  const state = await (await fetch(`${posUrl}/_emulator/state`)).json();
  const hasPublish = await site.wpEval(`return class_exists( 'PosSync\\\\Apply\\\\Publisher' );`);
  if (!hasPublish) {
    const items = state.tables.Item.filter((i) => i.archived !== 'true' && i.publishToEcom === 'true').map((i) => ({
      sku: i.customSku || i.systemSku,
      name: i.description,
      price: ((i.Prices?.ItemPrice || []).find((p) => p.useType === 'Online') || (i.Prices?.ItemPrice || [])[0] || {}).amount || '0',
      matrix: i.itemMatrixID !== '0' ? (state.tables.ItemMatrix.find((m) => m.itemMatrixID === i.itemMatrixID) || {}).description || `Matrix ${i.itemMatrixID}` : null,
    }));
    const made = await site.wpEval(
      `$n = 0; $parents = array();
      foreach ( $args as $it ) {
        if ( wc_get_product_id_by_sku( $it['sku'] ) ) { continue; }
        if ( $it['matrix'] ) {
          if ( ! isset( $parents[ $it['matrix'] ] ) ) {
            $opts = array_values( array_map( fn( $x ) => $x['name'], array_filter( $args, fn( $x ) => $x['matrix'] === $it['matrix'] ) ) );
            $a = new WC_Product_Attribute(); $a->set_name( 'Variant' ); $a->set_options( $opts ); $a->set_variation( true );
            $p = new WC_Product_Variable(); $p->set_name( $it['matrix'] ); $p->set_attributes( array( $a ) ); $p->set_status( 'publish' );
            $parents[ $it['matrix'] ] = $p->save();
          }
          $v = new WC_Product_Variation(); $v->set_parent_id( $parents[ $it['matrix'] ] ); $v->set_attributes( array( 'variant' => $it['name'] ) );
          $v->set_sku( $it['sku'] ); $v->set_regular_price( $it['price'] ); $v->set_manage_stock( true ); $v->set_stock_quantity( 0 ); $v->save();
        } else {
          $p = new WC_Product_Simple(); $p->set_name( $it['name'] ); $p->set_sku( $it['sku'] ); $p->set_regular_price( $it['price'] );
          $p->set_manage_stock( true ); $p->set_stock_quantity( 0 ); $p->set_status( 'publish' ); $p->save();
        }
        $n++;
      }
      return $n;`,
      items,
    );
    log(`${made} WooCommerce products made for the demo POS SKUs (stock 0 until the first sync)`);
  }

  // Connect the plugin: the emulator's authorization-code step gives the first token pair.
  const grant = await (await fetch(`${posUrl}/_emulator/grant`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json();
  await site.wpEval(
    `$s = PosSync\\Store\\Settings::all();
    $s['api_base'] = $args['api_base']; $s['token_url'] = $args['token_url']; $s['account_id'] = $args['account_id'];
    $s['client_id'] = $args['client_id']; $s['client_secret'] = $args['client_secret'];
    // The demo shop takes its catalogue from the POS (publishing is opt-in in a real shop).
    if ( class_exists( 'PosSync\\Apply\\Publisher' ) ) { $s['publish_enabled'] = 'yes'; }
    update_option( PosSync\\Store\\Settings::OPTION, $s, false );
    PosSync\\Store\\Settings::save_tokens( $args['access_token'], $args['refresh_token'], (int) ( microtime( true ) * 1000 ) + 1000 * (int) $args['expires_in'] );
    return true;`,
    { ...grant, api_base: `${posUrl}/API/V3`, token_url: `${posUrl}/auth/oauth/token` },
  );
  // One whole tick, as WP-Cron runs it: stock, orders, reconcile, then publish.
  const runs = await site.wpEval(`PosSync\\Jobs\\Runner::tick(); return get_option( 'pos_sync_last_runs' );`);
  for (const [kind, run] of Object.entries(runs || {})) {
    if (run?.ok) log(`first ${kind}: ${JSON.stringify(run.summary)}`);
    else log(`first ${kind} failed: ${run?.error} (the shop runs anyway; see WooCommerce → Status → Logs, source pos-sync)`);
  }

  console.log(`
  Shop:      ${site.url}/
  Admin:     ${site.url}/wp-admin/   user ${site.admin.user}   password ${site.admin.password}
  Settings:  ${site.url}/wp-admin/admin.php?page=wc-settings&tab=pos_sync
  Demo POS:  ${posUrl}/API/V3   (controls: POST ${posUrl}/_emulator/stock {itemID, shopID, qoh})
  Sync:      every minute through WP-Cron while the shop gets visits
  Stop:      npm stop
`);
}

main().catch((e) => {
  console.error(`npm start failed: ${e.message}`);
  process.exit(1);
});
