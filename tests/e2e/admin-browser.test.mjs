// End to end in a real browser: Debian's Chromium driven by playwright-core logs into
// the real shop (WordPress + WooCommerce + the plugin + the Node sidecar + the Lightspeed
// emulator), connects the plugin to the emulator through the settings page, tests the
// connection (which reads the POS's shops, registers … for the pick-lists), picks the shop
// whose stock is summed from the list, saves, runs "Sync now" (the web stock is that
// shop's), edits a product's stock in wp-admin, finds it in the stock
// differences report with the "edited in WooCommerce" reason and presses "Fix".
// Screenshots of the settings, status and report pages go to <site dir>/screenshots
// (kept after the run; their paths are printed).
//
// The plugin is dist/pos-sync.zip (for the sidecar and the core) with the repository's
// php-plugin/ copied over it, so the PHP under test is the working tree's;
// POS_SYNC_PLUGIN=<zip> tests that build as it is.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createSite, REPO_ROOT } from '../../scripts/lib/site.mjs';
import { browserStackOrSkip, ZIP, EMULATOR, CHROMIUM } from './browser.mjs';

const skip = await browserStackOrSkip();

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  const { startEmulator } = await import(EMULATOR);
  const { chromium } = await import('playwright-core');

  describe('e2e in a browser: settings → Test connection → pick a shop → Sync now → hand edit → report → Fix', () => {
    let site;
    let pos;
    let grant;
    let browser;
    let page;
    let shots;
    let productId;
    const shot = async (name) => {
      const file = path.join(shots, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(`# screenshot: ${file}`);
      return file;
    };
    const control = async (name, body, method = 'POST') => {
      const res = await fetch(`${pos.url}/_emulator/${name}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = await res.json();
      assert.ok(res.ok, `${name}: ${JSON.stringify(json)}`);
      return json;
    };
    const stockOf = (id) => site.wpEval(`wp_cache_flush(); return wc_get_product( $args )->get_stock_quantity();`, id);

    before(async () => {
      pos = await startEmulator({ port: 0, seed: 'demo' });
      site = await createSite({ plugin: ZIP, log: false });
      if (!process.env.POS_SYNC_PLUGIN) fs.cpSync(path.join(REPO_ROOT, 'php-plugin'), path.join(site.wpDir, 'wp-content', 'plugins', 'pos-sync'), { recursive: true });
      productId = await site.wpEval(`$p = new WC_Product_Simple(); $p->set_name( 'Demo white tee' ); $p->set_sku( 'TEE-WHT' ); $p->set_regular_price( '10' ); $p->set_manage_stock( true ); $p->set_stock_quantity( 0 ); return $p->save();`);
      grant = await control('grant', {});
      shots = path.join(site.dir, 'screenshots');
      fs.mkdirSync(shots, { recursive: true });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      });
      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.setDefaultTimeout(60_000);
    });
    after(async () => {
      await browser?.close();
      await site?.stop({ remove: false });
      await pos?.close();
      // The screenshots stay; the rest of the site goes unless POS_SYNC_KEEP_SITE.
      if (site && !process.env.POS_SYNC_KEEP_SITE) {
        for (const entry of fs.readdirSync(site.dir)) if (entry !== 'screenshots') fs.rmSync(path.join(site.dir, entry), { recursive: true, force: true });
      }
    });

    test('logs in and connects the plugin to the emulator through the settings page; Test connection succeeds', async () => {
      await page.goto(`${site.url}/wp-login.php`);
      await page.fill('#user_login', site.admin.user);
      await page.fill('#user_pass', site.admin.password);
      await Promise.all([page.waitForURL(/wp-admin/), page.click('#wp-submit')]);

      await page.goto(`${site.url}/wp-admin/admin.php?page=wc-settings&tab=pos_sync`);
      const field = (k) => `[name="pos_sync_settings[${k}]"]`;
      await page.fill(field('api_base'), pos.apiBase);
      await page.fill(field('token_url'), pos.tokenUrl);
      await page.fill(field('account_id'), String(grant.account_id));
      await page.fill(field('client_id'), grant.client_id);
      await page.fill(field('client_secret'), grant.client_secret);
      await page.fill(field('refresh_token'), grant.refresh_token);
      await page.fill(field('budget_seconds'), '20');
      await Promise.all([page.waitForLoadState('load'), page.waitForNavigation(), page.click('button[name="save"]')]);
      assert.match(await page.content(), /Your settings have been saved/);
      const html = await page.content();
      assert.ok(!html.includes(grant.client_secret) && !html.includes(grant.refresh_token), 'no secret in the settings page');

      await Promise.all([page.waitForNavigation(), page.click('#pos-sync-test-connection')]);
      assert.match(await page.textContent('#pos-sync-test-result'), /Connected to the Lightspeed account “POS Sync Demo Store” \(ID 1\)\. Lists read from the POS at .*: 2 shops, 2 registers, 3 employees, 8 payment types, 2 tax classes\./);
    });

    test('picks the shop to sum from the list read from the POS and saves it', async () => {
      // The shops-to-sum field is now a multi-select of the POS's shops (WooCommerce's enhanced select).
      const shops = page.locator('select[name="pos_sync_settings[shop_ids][]"]');
      assert.deepEqual(await shops.evaluate((s) => [...s.options].map((o) => o.textContent)), ['Main Street (ID 1)', 'Harbour (ID 2)']);
      await page.locator('tr', { has: shops }).locator('.select2-selection').click();
      await page.locator('.select2-results__option', { hasText: 'Harbour (ID 2)' }).click();
      assert.deepEqual(await shops.evaluate((s) => [...s.selectedOptions].map((o) => o.value)), ['2']);
      await shot('settings');
      await Promise.all([page.waitForNavigation(), page.click('button[name="save"]')]);
      assert.match(await page.content(), /Your settings have been saved/);
      assert.doesNotMatch(await page.content(), /class="error inline"|id="message" class="error/);
      assert.deepEqual(await page.locator('select[name="pos_sync_settings[shop_ids][]"]').evaluate((s) => [...s.selectedOptions].map((o) => o.value)), ['2']);
      assert.equal(await site.wpEval(`return PosSync\\Store\\Settings::get( 'shop_ids' );`), '2');
    });

    test('"Sync now" on the status page brings the POS stock', async () => {
      await page.goto(`${site.url}/wp-admin/admin.php?page=pos-sync`);
      await Promise.all([page.waitForNavigation(), page.click('#pos-sync-sync-now')]);
      // A POST form; the sync runs in the background (WP-Cron, run here from the CLI).
      assert.match(await page.textContent('#pos-sync-flash'), /Sync now: queued; it runs in the background/);
      assert.match(await page.textContent('#pos-sync-background tr[data-task="sync"]'), /queued/);
      await site.runCron({ hooks: ['pos_sync_background'] });
      await page.reload();
      assert.match(await page.textContent('#pos-sync-background tr[data-task="sync"]'), /done .*Sync done: \d+ stock figures written/);
      assert.match(await page.textContent('#pos-sync-flows tr[data-flow="sync"]'), /OK/);
      const state = await control('state', undefined, 'GET');
      const item = state.tables.Item.find((i) => i.customSku === 'TEE-WHT').itemID;
      // Only the shop picked in the settings (Harbour, shop 2) is summed.
      const harbour = Number(state.tables.ItemShop.find((r) => r.itemID === item && r.shopID === '2').qoh);
      const total = state.tables.ItemShop.filter((r) => r.itemID === item && r.shopID !== '0').reduce((s, r) => s + Number(r.qoh), 0);
      assert.ok(harbour !== total, 'the demo stocks the tee in both shops');
      assert.equal(await stockOf(productId), Math.max(0, harbour));
      await shot('status');
    });

    test('a stock edited in wp-admin is in the report as "edited in WooCommerce"; Fix puts the POS figure back', async () => {
      const before = await stockOf(productId);
      const typed = before + 17;
      await page.goto(`${site.url}/wp-admin/post.php?post=${productId}&action=edit`);
      assert.match(await page.textContent('#pos-sync-managed'), /POS item \d+/);
      await page.click('.inventory_options a');
      await page.fill('#_stock', String(typed));
      await Promise.all([page.waitForNavigation(), page.click('#publish')]);
      assert.equal(await stockOf(productId), typed);

      await page.goto(`${site.url}/wp-admin/admin.php?page=pos-sync&tab=report`);
      const row = page.locator(`tr.pos-sync-report-row[data-product="${productId}"]`);
      assert.match(await row.textContent(), new RegExp(`Edited in WooCommerce at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d by ${site.admin.user} \\(wp-admin\\): stock set to ${typed}`));
      assert.equal((await row.locator('td.web').textContent()).trim(), String(typed));
      assert.equal((await row.locator('td.expected').textContent()).trim(), String(before));
      await shot('report');

      await Promise.all([page.waitForNavigation(), row.locator('.pos-sync-fix').click()]);
      assert.match(await page.textContent('#pos-sync-flash'), /Sync now: queued; it runs in the background/);
      await site.runCron({ hooks: ['pos_sync_background'] });
      await page.reload();
      assert.equal(await page.locator(`tr.pos-sync-report-row[data-product="${productId}"]`).count(), 0, 'the row is gone');
      assert.equal(await stockOf(productId), before);
      await shot('report-fixed');
    });

    test('Products → POS items: under “These POS items” the hoodie is ticked, published at the next run and shown on the web', async () => {
      await page.goto(`${site.url}/wp-admin/admin.php?page=wc-settings&tab=pos_sync`);
      const field = (k) => `[name="pos_sync_settings[${k}]"]`;
      await page.selectOption(field('publish_enabled'), 'yes');
      await page.selectOption(field('publish_rule'), 'manual');
      // The POS's "Reduced rate" tax class (read with the lists) → WooCommerce's Reduced rate.
      await page.selectOption(field('tax_class_map][3'), 'reduced-rate');
      await Promise.all([page.waitForNavigation(), page.click('button[name="save"]')]);
      assert.match(await page.content(), /No POS item is chosen yet: pick them in Products → POS items/);
      assert.deepEqual(await site.wpEval(`return PosSync\\Store\\Settings::get( 'tax_class_map' );`), { 3: 'reduced-rate' });
      const publish = () => site.wpEval(`$r = PosSync\\Jobs\\Runner::run( 'publish' ); return array( $r['ok'], $r['error'], $r['summary']['published'] ?? null );`);
      let run = await publish();
      assert.equal(run[0], true, run[1]);
      assert.equal(run[2].created, 0, 'nothing chosen yet');

      await page.goto(`${site.url}/wp-admin/edit.php?post_type=product&page=pos-sync-items`);
      const row = page.locator('#the-list tr', { hasText: 'Logo Hoodie' });
      assert.match(await row.textContent(), /Not on the web: not chosen by the publish rule/);
      // The white tee is the shop's own product (linked by SKU for its stock), not a listing.
      assert.match(await page.locator('#the-list tr', { hasText: 'Classic Tee - White' }).textContent(), /Your own product with this SKU: it gets the POS stock/);
      await row.locator('input[name="pos_key[]"]').check();
      await page.selectOption('#bulk-action-selector-top', 'pos_sync_pick');
      await Promise.all([page.waitForNavigation(), page.click('#doaction')]);
      assert.match(await page.textContent('#pos-sync-items-notice'), /1 item will be published at the next run\./);
      run = await publish();
      assert.equal(run[0], true, run[1]);
      assert.equal(run[2].created, 1);
      await page.reload();
      assert.match(await page.locator('#the-list tr', { hasText: 'Logo Hoodie' }).textContent(), /On the web/);
      await shot('pos-items');
      const hoodie = await site.wpEval(`wp_cache_flush(); $p = wc_get_product( wc_get_product_id_by_sku( 'HOOD-LOGO' ) ); return array( $p->get_status(), $p->get_tax_status(), $p->get_tax_class() );`);
      assert.deepEqual(hoodie, ['publish', 'taxable', '']);
    });

    test('no PHP notice in the debug log', () => {
      assert.deepEqual(site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
