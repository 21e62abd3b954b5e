// Shared set-up of the e2e order tests: a real WordPress + WooCommerce (HPOS) shop with
// the plugin zip, the Lightspeed emulator (demo catalogue), the shop connected to it
// through the settings form, and the helpers the tests read both sides with.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createSite, wordPressOrSkip, REPO_ROOT } from '../../scripts/lib/site.mjs';

export const ZIP = process.env.POS_SYNC_PLUGIN || path.join(REPO_ROOT, 'dist', 'pos-sync.zip');
export const EMULATOR = path.join(REPO_ROOT, 'js', 'emulator', 'server.mjs');
export const SIDECAR = path.join(REPO_ROOT, 'js', 'sidecar.mjs');
export const SETTINGS_PAGE = '/wp-admin/admin.php?page=wc-settings&tab=pos_sync';

/** The reason to skip (no WordPress, or no build), or null; POS_SYNC_REQUIRE_WP=1 makes either an error. */
export async function e2eSkip() {
  let { skip } = await wordPressOrSkip();
  if (!skip) {
    const missing = [ZIP, EMULATOR, SIDECAR].filter((f) => !fs.existsSync(f)).map((f) => path.relative(REPO_ROOT, f));
    if (missing.length) {
      if (process.env.POS_SYNC_REQUIRE_WP === '1') throw new Error(`POS_SYNC_REQUIRE_WP=1 but ${missing.join(', ')} missing (run \`npm run build\`)`);
      skip = `SKIPPED (${missing.join(', ')} missing: run \`npm run build\`)`;
    }
  }
  return skip;
}

/** The settings every order test starts from (the emulator's demo shop, register 1, employee 3, payment type 7). */
export const ORDER_SETTINGS = {
  shop_ids: '',
  safety_buffer: '0',
  budget_seconds: '20',
  reconcile_every: 'off',
  pos_shop_id: '1',
  register_id: '1',
  employee_id: '3',
  payment_types: 'default=7',
  refund_item_id: '',
  shipping_item_id: '',
  reference_prefix: 'WEB-',
};

/**
 * Starts the emulator and a shop, makes the products (`setup` PHP returning `{sku: product id}`),
 * connects the shop with `settings` and runs one tick (links by SKU, brings the POS stock).
 * `muPlugins` are written before anything runs: `{file name: PHP source}`.
 */
export async function startShop({ setup, settings = {}, muPlugins = {} }) {
  const { startEmulator } = await import(EMULATOR);
  const pos = await startEmulator({ port: 0, seed: 'demo' });
  const site = await createSite({ plugin: ZIP, log: false });
  for (const [name, source] of Object.entries(muPlugins)) fs.writeFileSync(path.join(site.wpDir, 'wp-content', 'mu-plugins', name), source);
  const shop = helpers(site, pos);
  shop.ids = await site.wpEval(setup);
  shop.grant = await shop.control('grant', {});
  const { grant } = shop;
  await shop.saveSettings({ api_base: pos.apiBase, token_url: pos.tokenUrl, account_id: grant.account_id, client_id: grant.client_id, client_secret: grant.client_secret, refresh_token: grant.refresh_token, ...ORDER_SETTINGS, ...settings });
  await shop.tick();
  return shop;
}

function helpers(site, pos) {
  const control = async (name, body, method = 'POST') => {
    const res = await fetch(`${pos.url}/_emulator/${name}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await res.json();
    assert.ok(res.ok, `${name}: ${JSON.stringify(json)}`);
    return json;
  };
  const shop = {
    site,
    pos,
    control,
    state: () => control('state', undefined, 'GET'),
    /** Σ qoh of an item over the real shops (shop 0 is the computed total). */
    posStock: (st, itemID) => st.tables.ItemShop.filter((r) => r.itemID === itemID && r.shopID !== '0').reduce((s, r) => s + Number(r.qoh), 0),
    itemBySku: (st, sku) => st.tables.Item.find((i) => i.customSku === sku).itemID,
    salesWith: (st, ref) => st.tables.Sale.filter((s) => s.referenceNumber === ref),
    linesOf: (st, saleID) => st.tables.SaleLine.filter((l) => l.saleID === saleID),
    webStock: (id) => site.wpEval(`wp_cache_flush(); return wc_get_product( $args )->get_stock_quantity();`, id),
    outboxRow: (ref) => site.wpEval(`return PosSync\\Jobs\\Outbox::row_by_reference( $args );`, ref),
    /** Every outbox row of an order, oldest first. */
    rowsOf: (orderId) => site.wpEval(`return PosSync\\Jobs\\Outbox::rows_of_order( (int) $args );`, orderId),
    /** One WP-Cron tick (sync, then post_orders when due); the sync must have gone well. */
    async tick() {
      await site.wpEval(`wp_clear_scheduled_hook( 'pos_sync_tick' ); wp_schedule_event( time() - 1, 'pos_sync_minute', 'pos_sync_tick' ); return true;`);
      await site.runCron();
      const runs = await site.wpEval(`return get_option( 'pos_sync_last_runs' );`);
      assert.equal(runs.sync.ok, true, runs.sync.error);
      return runs;
    },
    /** The settings form, as the merchant saves it. */
    async saveSettings(fields) {
      const html = await (await site.adminFetch(SETTINGS_PAGE)).text();
      const nonce = html.match(/name="_wpnonce" value="([^"]+)"/)[1];
      const body = new URLSearchParams({ _wpnonce: nonce, _wp_http_referer: SETTINGS_PAGE, save: 'Save changes' });
      for (const [k, v] of Object.entries(fields)) body.set(`pos_sync_settings[${k}]`, v);
      return (await site.adminFetch(SETTINGS_PAGE, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })).text();
    },
    /** An order over the REST API; `lines` are [sku, qty] (CREW-* are variations of ids.CREW). */
    order(email, lines, extra = {}) {
      const ids = shop.ids;
      return site.rest('POST', '/wc/v3/orders', {
        status: 'processing',
        set_paid: true,
        payment_method: 'bacs',
        payment_method_title: 'Bank transfer',
        billing: { email, first_name: 'Grace', last_name: 'Hopper', phone: '555-0142', address_1: '1 Compiler Road', city: 'Arlington', state: 'VA', postcode: '22201', country: 'US' },
        line_items: lines.map(([sku, quantity]) => ({ [sku.startsWith('CREW') ? 'variation_id' : 'product_id']: ids[sku], ...(sku.startsWith('CREW') ? { product_id: ids.CREW } : {}), quantity })),
        ...extra,
      });
    },
    /** The order's edit screen (HPOS) as the admin sees it. */
    orderScreen: async (orderId) => (await site.adminFetch(`/wp-admin/admin.php?page=wc-orders&action=edit&id=${orderId}`)).text(),
    async stop() {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
      await pos?.close();
    },
  };
  return shop;
}
