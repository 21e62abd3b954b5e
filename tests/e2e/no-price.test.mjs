// End to end, issue 11: a POS item without a price above 0 is not purchasable on the
// web. Real WordPress + WooCommerce (HPOS) + the plugin zip + the Node sidecar + the
// Lightspeed emulator's demo catalogue; the POS is changed through its own API, as a
// merchant's back office would (a price set to "0", an item created without one).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSite } from '../../scripts/lib/site.mjs';
import { e2eSkip, ZIP, EMULATOR } from './shop.mjs';

const skip = await e2eSkip();

// What WooCommerce says of a product and its variations: can it be bought?
const SHOW_PHP = `
wp_cache_flush();
$one = function ( $p ) {
  return array( 'id' => $p->get_id(), 'sku' => $p->get_sku(), 'status' => $p->get_status(), 'regular' => $p->get_regular_price(), 'price' => $p->get_price(),
    'purchasable' => $p->is_purchasable(), 'item' => get_post_meta( $p->get_id(), '_pos_sync_item_id', true ) );
};
$all = array();
foreach ( wc_get_products( array( 'limit' => -1, 'status' => array( 'publish', 'draft', 'private', 'pending' ) ) ) as $p ) {
  $row = $one( $p );
  if ( $p->is_type( 'variable' ) ) {
    $row['variations'] = array_map( fn( $id ) => $one( wc_get_product( $id ) ), $p->get_children() );
  }
  $all[] = $row;
}
return $all;
`;

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  const { startEmulator } = await import(EMULATOR);

  describe('e2e no price: a POS item without a price above 0 cannot be bought on the web', { timeout: 600_000 }, () => {
    let site;
    let pos;
    let catalogue;
    let connection; // Posted with every save, as the tab's form does (secrets only once: they rotate).
    const control = async (name, body, method = 'POST') => {
      const res = await fetch(`${pos.url}/_emulator/${name}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = await res.json();
      assert.ok(res.ok, `${name}: ${JSON.stringify(json)}`);
      return json;
    };
    const posApi = async (method, p, body) => {
      const g = await control('grant', {});
      const res = await fetch(`${pos.apiBase}/Account/1/${p}`, { method, headers: { authorization: `Bearer ${g.access_token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      return JSON.parse(text);
    };
    const setDefault = async (itemId, amount) => {
      await control('clock', { advance_s: 2 });
      await posApi('PUT', `Item/${itemId}.json`, { Prices: { ItemPrice: [{ useType: 'Default', amount }] } });
    };
    const products = () => site.wpEval(SHOW_PHP);
    const bySku = (all, sku) => all.find((p) => p.sku === sku);
    const tick = async () => {
      await site.wpEval(`wp_clear_scheduled_hook( 'pos_sync_tick' ); wp_schedule_event( time() - 1, 'pos_sync_minute', 'pos_sync_tick' ); return true;`);
      assert.ok((await site.runCron({ hooks: ['pos_sync_tick'] })).includes('pos_sync_tick'));
      const runs = await site.wpEval(`return get_option( 'pos_sync_last_runs' );`);
      assert.equal(runs.sync.ok, true, runs.sync.error);
      assert.equal(runs.publish?.ok, true, runs.publish?.error);
      return runs.publish;
    };
    const settingsPage = '/wp-admin/admin.php?page=wc-settings&tab=pos_sync';
    const publishFields = { publish_enabled: 'yes', publish_rule: 'ecom_flag', publish_ids: '', price_level: 'default', hidden_mode: 'draft', link_by_sku: 'no' };
    const saveSettings = async (fields) => {
      const html = await (await site.adminFetch(settingsPage)).text();
      const nonce = html.match(/name="_wpnonce" value="([^"]+)"/)[1];
      const body = new URLSearchParams({ _wpnonce: nonce, _wp_http_referer: settingsPage, save: 'Save changes' });
      for (const [k, v] of Object.entries(fields)) body.set(`pos_sync_settings[${k}]`, v);
      return (await site.adminFetch(settingsPage, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })).text();
    };
    const itemsPage = async (search) => (await site.adminFetch(`/wp-admin/edit.php?post_type=product&page=pos-sync-items&s=${encodeURIComponent(search)}`)).text();

    before(async () => {
      pos = await startEmulator({ port: 0, seed: 'demo' });
      site = await createSite({ plugin: ZIP, log: false });
      const grant = await control('grant', {});
      connection = {
        api_base: pos.apiBase,
        token_url: pos.tokenUrl,
        account_id: grant.account_id,
        client_id: grant.client_id,
        shop_ids: '',
        safety_buffer: '0',
        budget_seconds: '30',
      };
      const html = await saveSettings({ ...connection, client_secret: grant.client_secret, refresh_token: grant.refresh_token, ...publishFields });
      assert.doesNotMatch(html, /class="error/);
      await tick();
      catalogue = await products();
      const tee = bySku(catalogue, 'TEE-WHT');
      assert.equal(tee.regular, '19.00');
      assert.equal(tee.purchasable, true, 'priced in the POS: on sale (so the checks below mean something)');
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
      await pos?.close();
    });

    test('a price set to 0 in the POS hides the simple product and disables the variant; the siblings stay on sale; the reason has words', async () => {
      const tee = bySku(catalogue, 'TEE-WHT');
      const crew = catalogue.find((p) => p.variations);
      const blackM = bySku(crew.variations, 'CREW-M-BLK');
      await setDefault(tee.item, '0');
      await setDefault(blackM.item, '0');
      await tick();
      const all = await products();
      const t = bySku(all, 'TEE-WHT');
      assert.equal(t.purchasable, false, 'the 0-price tee cannot be bought');
      assert.equal(t.status, 'draft', 'hidden as the “Items no longer published” setting says');
      assert.equal(t.price, '', 'no 0.00 price on the web');
      const c = all.find((p) => p.id === crew.id);
      assert.equal(c.status, 'publish', 'the matrix stays on sale');
      for (const v of c.variations) {
        if (v.sku === 'CREW-M-BLK') {
          assert.equal(v.purchasable, false, 'the 0-price variant cannot be bought');
          assert.equal(v.status, 'private');
          assert.equal(v.price, '');
        } else {
          assert.equal(v.purchasable, true, `${v.sku} stays on sale`);
          assert.equal(v.price, '24.00');
        }
      }
      // Products → POS items, the product screen, the stock differences report.
      assert.match(await itemsPage('Classic Tee'), /Hidden on the web: no price in the POS/);
      const screen = await (await site.adminFetch(`/wp-admin/post.php?post=${tee.id}&action=edit`)).text();
      assert.match(screen, /class="pos-sync-no-price"><strong>No price in the POS: not for sale on the web/);
      const crewScreen = await (await site.adminFetch(`/wp-admin/post.php?post=${crew.id}&action=edit`)).text();
      assert.equal((crewScreen.match(/pos-sync-no-price/g) || []).length, 1, 'one variation without a price, named on the matrix screen');
    });

    test('an item created in the POS without a price is not created on the web, and says why', async () => {
      await control('clock', { advance_s: 2 });
      await posApi('POST', 'Item.json', { description: 'Unpriced Scarf', customSku: 'SCARF-01', publishToEcom: true });
      await tick();
      assert.equal(bySku(await products(), 'SCARF-01'), undefined, 'no product to buy');
      assert.match(await itemsPage('Unpriced Scarf'), /Not on the web: no price in the POS/);
    });

    test('the fallback price level sells at that level; a bad level name is refused', async () => {
      let html = await saveSettings({ ...connection, ...publishFields, fallback_price_level: '<b>MSRP</b>;drop' });
      assert.match(html, /is not the name of a POS price level/);
      assert.equal(await site.wpEval(`return PosSync\\Store\\Settings::get( 'fallback_price_level' );`), '', 'the previous value is kept');
      html = await saveSettings({ ...connection, ...publishFields, fallback_price_level: 'MSRP' });
      assert.doesNotMatch(html, /class="error/);
      assert.match(html, /name="pos_sync_settings\[fallback_price_level\]"[^>]*value="MSRP"/);
      const run = await tick(); // A new setting: the pass plans every listing again.
      assert.ok(run.summary.published.updated >= 2, JSON.stringify(run.summary.published));
      const all = await products();
      const t = bySku(all, 'TEE-WHT');
      assert.deepEqual([t.status, t.regular, t.purchasable], ['publish', '22.00', true], 'the tee at its MSRP');
      const v = bySku(all.find((p) => p.variations).variations, 'CREW-M-BLK');
      assert.deepEqual([v.status, v.regular, v.purchasable], ['publish', '28.00', true], 'the variant at its MSRP');
    });

    test('without a fallback, a price back in the POS publishes the product again at the next run', async () => {
      await saveSettings({ ...connection, ...publishFields, fallback_price_level: '' });
      await tick();
      assert.equal(bySku(await products(), 'TEE-WHT').purchasable, false, 'hidden again without the fallback');
      const tee = bySku(catalogue, 'TEE-WHT');
      await setDefault(tee.item, '19.00');
      await tick();
      const t = bySku(await products(), 'TEE-WHT');
      assert.deepEqual([t.status, t.regular, t.purchasable], ['publish', '19.00', true]);
      assert.match(await itemsPage('Classic Tee'), /Classic Tee - White<\/a><\/strong>.*On the web/s);
    });

    test('no PHP notice, warning or deprecation in the debug log', () => {
      const lines = site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal|Parse)/.test(l));
      assert.deepEqual(lines, []);
    });
  });
}
