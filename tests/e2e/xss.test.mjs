// The XSS browser sweep (issue 12): every POS text that reaches WordPress carries markup
// and script — item and matrix titles, long and short e-commerce descriptions, custom
// SKUs, attribute names and values, category names, image file names and descriptions
// (alt texts), the names of shops, registers, employees, payment types and tax classes
// (the settings' lists) and an error the POS answers for a sale (a 400 whose message
// echoes markup: the outbox, the order box, the status page, the log). The real stack
// (WordPress + WooCommerce + the plugin + the sidecar + the emulator) publishes, syncs
// and takes an order; then Chromium visits every page those texts reach, as a visitor
// and as the admin, and no script of the POS may run: `window.__xss` stays unset, no
// dialog opens, no element carries an event handler or a `javascript:` URL from the
// POS, and the words stay readable (a description keeps its <b>).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { browserStackOrSkip, browserSite, controlOf, saveSettings, launchChromium, logIn, EMULATOR } from './browser.mjs';

const skip = await browserStackOrSkip();

const RUN = 'window.__xss=1';
// Every way a POS string could turn into script: an element, an event handler, a
// tag-breaking quote, a javascript: link, an attribute-breaking quote with autofocus.
const MARKUP = [`<script>${RUN}</script>`, `<img src=x onerror="${RUN}">`, `"><svg onload="${RUN}">`, `<a href="javascript:${RUN}">js link</a>`, `' " autofocus onfocus="${RUN}" x="`].join('');
const hostile = (text) => `${text}${MARKUP}`;

// The demo catalogue (js/emulator/seed.mjs) with markup in every text the POS sends.
function makeHostile(state, renumberCategories) {
  const t = state.tables;
  for (const item of t.items.list) {
    item.description = hostile(item.description);
    if (item.customSku) item.customSku = hostile(item.customSku);
    if (item.ecommerce) {
      item.ecommerce.longDescription = `<p><b>Bold ${item.itemID}</b> words.</p>${MARKUP}${item.ecommerce.longDescription}`;
      item.ecommerce.shortDescription = `<b>Short ${item.itemID}</b>${MARKUP}`;
    }
    if (item.attributes) item.attributes.attribute1 = hostile(item.attributes.attribute1);
  }
  for (const m of t.itemMatrices.list) {
    m.description = hostile(m.description);
    if (m.ecommerce) m.ecommerce.longDescription = `<p><b>Bold matrix</b> words.</p>${MARKUP}`;
  }
  for (const set of t.itemAttributeSets.list) set.attributeName1 = hostile(set.attributeName1);
  for (const c of t.categories.list) c.name = hostile(c.name);
  renumberCategories(state);
  for (const image of t.images.list) {
    image.description = hostile(image.description);
    image.filename = image.filename.replace(/(\.\w+)$/, `${MARKUP}$1`);
  }
  for (const s of t.shops.list) s.name = hostile(s.name);
  for (const r of t.registers.list) r.name = hostile(r.name);
  for (const e of t.employees.list) e.firstName = hostile(e.firstName);
  for (const p of t.paymentTypes.list) p.name = hostile(p.name);
  for (const c of t.taxClasses.list) c.name = hostile(c.name);
}

// Which of the texts the page does not show, in its text or in a form field's value
// (titles and SKUs on edit screens). Run in the page.
function notShown(texts) {
  const all = document.body.textContent + [...document.querySelectorAll('input, textarea')].map((f) => f.value).join('\n');
  return texts.filter((t) => !all.includes(t));
}

function allShown(texts) {
  const all = document.body.textContent + [...document.querySelectorAll('input, textarea')].map((f) => f.value).join('\n');
  return texts.every((t) => all.includes(t));
}

// Whatever of the POS's markup is live in the page (run in the page).
function liveMarkup() {
  const found = [];
  if (window.__xss !== undefined) found.push(`window.__xss = ${window.__xss}`);
  const all = [document, ...[...document.querySelectorAll('iframe')].map((f) => f.contentDocument).filter(Boolean)];
  for (const doc of all) {
    for (const el of doc.querySelectorAll('*')) {
      if (el.tagName === 'SCRIPT' && el.textContent.includes('__xss')) {
        // JSON data carrying the text as a string is not script; the payload itself is.
        if (/(^|[;>\s])window\.__xss=1/.test(el.textContent.trim()) && !/^[\[{"]/.test(el.textContent.trim())) found.push(`<script>${el.textContent.slice(0, 80)}`);
      }
      for (const a of el.attributes) {
        if (!a.value.includes('__xss')) continue;
        if (/^on/i.test(a.name)) found.push(`<${el.tagName.toLowerCase()} ${a.name}="${a.value.slice(0, 60)}">`);
        if (/^(href|src|action|formaction|xlink:href)$/i.test(a.name) && /^\s*javascript:/i.test(a.value)) found.push(`<${el.tagName.toLowerCase()} ${a.name}="${a.value.slice(0, 60)}">`);
      }
    }
  }
  return found;
}

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  const { startEmulator } = await import(EMULATOR);
  const { renumberCategories } = await import('../../js/emulator/categories.mjs');

  describe('XSS sweep: markup in every POS text never runs in a browser', { timeout: 900_000 }, () => {
    let site;
    let pos;
    let control;
    let browser;
    const ids = {};
    let order;
    const dialogs = [];

    const tick = async () => {
      await site.wpEval(`wp_clear_scheduled_hook( 'pos_sync_tick' ); wp_schedule_event( time() - 1, 'pos_sync_minute', 'pos_sync_tick' ); return true;`);
      await site.runCron({ hooks: ['pos_sync_tick'] });
      return site.wpEval(`return get_option( 'pos_sync_last_runs' );`);
    };
    const newPage = async (context) => {
      const page = await context.newPage();
      page.setDefaultTimeout(60_000);
      page.on('dialog', (d) => {
        dialogs.push(`${page.url()}: ${d.type()} ${d.message()}`);
        d.dismiss().catch(() => {});
      });
      return page;
    };
    // Visits a page, waits until each text in `see` is in it, and asserts nothing of the POS runs.
    const sweep = async (page, url, { see = [], then = null, cleaned = true } = {}) => {
      if (url) await page.goto(url.startsWith('http') ? url : `${site.url}${url}`, { waitUntil: 'load' });
      if (then) await then(page);
      await page.waitForFunction(allShown, see, { timeout: 60_000 }).catch(async () => assert.fail(`${page.url()}: ${JSON.stringify(await page.evaluate(notShown, see))} not shown`));
      const where = page.url();
      assert.deepEqual(await page.evaluate(liveMarkup), [], `${where}: POS markup is live`);
      assert.deepEqual(dialogs, [], `${where}: a dialog opened`);
      // Catalogue texts are cleaned, not only escaped: no tag of the POS shows as text either.
      if (cleaned) assert.doesNotMatch(await page.evaluate(() => document.body.innerText), /<(script|img|svg)\b|onerror=|onload=/i, `${where}: a raw tag shows`);
      return page;
    };

    before(async () => {
      pos = await startEmulator({ port: 0, seed: 'demo' });
      makeHostile(pos.state, renumberCategories);
      control = controlOf(pos);
      site = await browserSite();
      fs.writeFileSync(
        path.join(site.wpDir, 'wp-content', 'mu-plugins', 'pos-sync-test-cdn.php'),
        `<?php
// The POS image CDN is an outside host in a real shop; the emulator's is on 127.0.0.1.
add_filter( 'http_request_host_is_external', fn( $ext, $host ) => $ext || '127.0.0.1' === $host, 10, 2 );
add_filter( 'http_allowed_safe_ports', fn( $ports, $host, $url ) => '127.0.0.1' === $host ? array_merge( $ports, array( (int) wp_parse_url( $url, PHP_URL_PORT ) ) ) : $ports, 10, 3 );
add_filter( 'pos_sync_image_hosts', fn( $hosts ) => array_merge( (array) $hosts, array( '127.0.0.1' ) ) );
`,
      );
      const grant = await control('grant', {});
      const html = await saveSettings(site, {
        api_base: pos.apiBase,
        token_url: pos.tokenUrl,
        account_id: grant.account_id,
        client_id: grant.client_id,
        client_secret: grant.client_secret,
        refresh_token: grant.refresh_token,
        budget_seconds: '30',
        reconcile_every: 'off',
        publish_enabled: 'yes',
        publish_rule: 'ecom_flag',
        hidden_mode: 'draft',
        link_by_sku: 'no',
        pos_shop_id: '1',
        register_id: '1',
        employee_id: '3',
        payment_types: 'default=7',
        reference_prefix: 'WEB-',
        'tax_class_map][3': 'reduced-rate',
      });
      assert.doesNotMatch(html, /class="error/);
      const lookups = await site.wpEval(`return PosSync\\Jobs\\Runner::run( 'lookups' );`);
      assert.equal(lookups.ok, true, lookups.error);
      const runs = await tick();
      assert.equal(runs.sync.ok, true, runs.sync.error);
      assert.equal(runs.publish?.ok, true, runs.publish?.error);
      Object.assign(
        ids,
        await site.wpEval(`global $wpdb; wp_cache_flush(); $out = array();
          foreach ( array( 'tee' => 'item:1', 'crew' => 'matrix:1' ) as $k => $key ) {
            $id = (int) $wpdb->get_var( $wpdb->prepare( "SELECT post_id FROM {$wpdb->postmeta} WHERE meta_key = '_pos_sync_key' AND meta_value = %s", $key ) );
            $out[ $k ] = $id; $out[ $k . '_url' ] = get_permalink( $id );
          }
          $out['crew_variation'] = wc_get_product( $out['crew'] )->get_children()[0];
          $out['cart'] = wc_get_cart_url(); $out['checkout'] = wc_get_checkout_url(); $out['shop'] = get_permalink( wc_get_page_id( 'shop' ) );
          return $out;`),
      );
      assert.ok(ids.tee && ids.crew && ids.crew_variation, JSON.stringify(ids));

      // The POS refuses the order's sale with a 400 that echoes markup.
      await control('faults', { method: 'POST', path: 'Sale\\.json$', count: 100, status: 400, body: { httpCode: '400', httpMessage: 'Bad Request', message: hostile('Sale rejected: item'), errorClass: 'ValidationException' } });
      order = await site.rest('POST', '/wc/v3/orders', {
        status: 'processing',
        set_paid: true,
        payment_method: 'bacs',
        payment_method_title: 'Bank transfer',
        billing: { email: 'grace@example.com', first_name: 'Grace', last_name: 'Hopper', address_1: '1 Compiler Road', city: 'Arlington', state: 'VA', postcode: '22201', country: 'US' },
        line_items: [
          { product_id: ids.tee, quantity: 1 },
          { product_id: ids.crew, variation_id: ids.crew_variation, quantity: 1 },
        ],
      });
      const after = await tick();
      assert.equal(after.sync.ok, true, after.sync.error);
      const row = await site.wpEval(`return PosSync\\Jobs\\Outbox::row_by_reference( $args );`, `WEB-${order.number}`);
      assert.notEqual(row.state, 'posted');
      assert.match(String(row.last_error), /Sale rejected/, 'the POS error is recorded');
      // A stock typed in WooCommerce after the last sync: the product is in the stock differences report.
      await site.wpEval(`wc_update_product_stock( $args, 998 ); return true;`, ids.tee);

      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
      await pos?.close();
    });

    test('a visitor: shop page, simple and variable product pages (a variation chosen), cart and checkout', async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
      const page = await newPage(context);
      await sweep(page, ids.shop, { see: ['Classic Tee', 'Crew Tee'] });
      await sweep(page, ids.tee_url, { see: ['Classic Tee', 'Bold 1', 'Short 1', 'TEE-WHT'] });
      // The description keeps the merchant's <b>, loses the script.
      assert.ok(await page.locator('b', { hasText: 'Bold 1' }).count(), 'the description keeps its <b>');
      await sweep(page, ids.crew_url, {
        see: ['Crew Tee', 'Bold matrix'],
        then: async (p) => {
          // Choosing a variation renders WooCommerce's variation template (SKU, image, description).
          for (const select of await p.locator('form.variations_form select').all()) {
            const value = await select.evaluate((s) => [...s.options].find((o) => o.value)?.value);
            await select.selectOption(value);
          }
          await p.locator('.single_variation_wrap .woocommerce-variation-add-to-cart-enabled').waitFor();
        },
      });
      await sweep(page, ids.tee_url, { then: (p) => Promise.all([p.waitForNavigation(), p.click('button[name="add-to-cart"]')]) });
      await sweep(page, ids.cart, { see: ['Classic Tee'] });
      await sweep(page, ids.checkout, { see: ['Classic Tee'] });
      await context.close();
    });

    test('the admin: products list, simple and variable edit screens (variations loaded), POS items', async () => {
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const page = await newPage(context);
      await logIn(page, site);
      await sweep(page, '/wp-admin/edit.php?post_type=product', { see: ['Classic Tee', 'Crew Tee', 'TEE-WHT'] });
      await sweep(page, `/wp-admin/post.php?post=${ids.tee}&action=edit`, { see: ['Classic Tee', 'TEE-WHT'] });
      await sweep(page, `/wp-admin/post.php?post=${ids.crew}&action=edit`, {
        see: ['Crew Tee'],
        then: async (p) => {
          await p.click('.variations_options a');
          await p.locator('.woocommerce_variation').first().waitFor();
        },
      });
      await sweep(page, '/wp-admin/edit.php?post_type=product&page=pos-sync-items', { see: ['Classic Tee', 'Crew Tee', 'TEE-WHT'] });
      await sweep(page, '/wp-admin/upload.php?mode=list', { see: ['classic-tee'] });
      await sweep(page, '/wp-admin/edit-tags.php?taxonomy=product_cat&post_type=product', { see: ['Apparel', 'T-Shirts'] });
      await context.close();
    });

    test('the admin: settings tab (the POS lists), status page, stock differences report, order screen, WooCommerce status and the log', async () => {
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const page = await newPage(context);
      await logIn(page, site);
      // The tab lists the parked order with the POS's answer, shown as text.
      await sweep(page, '/wp-admin/admin.php?page=wc-settings&tab=pos_sync', { see: ['Main Street', 'Harbour', 'Register 1', 'Alex', 'Reduced rate', 'Sale rejected'], cleaned: false });
      // The lists read from the POS are cleaned: no tag left in any option.
      const options = await page.locator('select[name^="pos_sync_settings"] option').allTextContents();
      assert.ok(options.some((o) => o.startsWith('Main Street')), JSON.stringify(options));
      assert.deepEqual(options.filter((o) => /<|onerror|onload/i.test(o)), []);
      await sweep(page, '/wp-admin/admin.php?page=pos-sync', { see: [`WEB-${order.number}`, 'Sale rejected'], cleaned: false });
      await sweep(page, '/wp-admin/admin.php?page=pos-sync&tab=report', { see: ['Classic Tee'] });
      await sweep(page, `/wp-admin/admin.php?page=wc-orders&action=edit&id=${order.id}`, { see: ['Classic Tee', 'Sale rejected'], cleaned: false });
      await sweep(page, '/wp-admin/admin.php?page=wc-status', { see: ['POS Sync'], cleaned: false });
      await sweep(page, '/wp-admin/admin.php?page=wc-status&tab=logs&source=pos-sync', { cleaned: false });
      const file = await page.locator('a[href*="view=single_file"]').first().getAttribute('href');
      await sweep(page, file, { see: ['Sale rejected'], cleaned: false });
      await context.close();
    });

    test('no PHP notice in the debug log', () => {
      assert.deepEqual(site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
