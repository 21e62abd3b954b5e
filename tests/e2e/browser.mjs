// What the browser tests share: the checks that the stack is there (WordPress, the
// plugin zip, the emulator, Debian's Chromium, playwright-core), a site with the working
// tree's PHP copied over the zip, the emulator's control API, the settings form posted
// as the admin, a Chromium and the wp-admin login.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createSite, wordPressOrSkip, REPO_ROOT } from '../../scripts/lib/site.mjs';

import { ZIP, EMULATOR } from './shop.mjs';

export { ZIP, EMULATOR };
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PLAYWRIGHT = path.join(REPO_ROOT, 'node_modules', 'playwright-core');

/** Why the browser tier cannot run here (a skip message), or null; POS_SYNC_REQUIRE_WP=1 makes it an error. */
export async function browserStackOrSkip() {
  const { skip } = await wordPressOrSkip();
  if (skip) return skip;
  const missing = [ZIP, EMULATOR, CHROMIUM, PLAYWRIGHT].filter((f) => !fs.existsSync(f)).map((f) => path.relative(REPO_ROOT, f) || f);
  if (!missing.length) return null;
  if (process.env.POS_SYNC_REQUIRE_WP === '1') throw new Error(`POS_SYNC_REQUIRE_WP=1 but ${missing.join(', ')} missing (run \`npm run build\`, install chromium)`);
  return `SKIPPED (${missing.join(', ')} missing: run \`npm run build\` and install Debian's chromium)`;
}

/** A site with the plugin zip (sidecar and core) and, unless POS_SYNC_PLUGIN, the working tree's php-plugin/ over it. */
export async function browserSite() {
  const site = await createSite({ plugin: ZIP, log: false });
  if (!process.env.POS_SYNC_PLUGIN) fs.cpSync(path.join(REPO_ROOT, 'php-plugin'), path.join(site.wpDir, 'wp-content', 'plugins', 'pos-sync'), { recursive: true });
  return site;
}

/** The emulator's `/_emulator/<name>` control call; asserts it answered 2xx. */
export function controlOf(pos) {
  return async (name, body, method = 'POST') => {
    const res = await fetch(`${pos.url}/_emulator/${name}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await res.json();
    assert.ok(res.ok, `${name}: ${JSON.stringify(json)}`);
    return json;
  };
}

export const SETTINGS_PAGE = '/wp-admin/admin.php?page=wc-settings&tab=pos_sync';

/** Posts the settings tab as the admin would (with the page's nonce); answers the page shown after. */
export async function saveSettings(site, fields) {
  const html = await (await site.adminFetch(SETTINGS_PAGE)).text();
  const nonce = html.match(/name="_wpnonce" value="([^"]+)"/)[1];
  const body = new URLSearchParams({ _wpnonce: nonce, _wp_http_referer: SETTINGS_PAGE, save: 'Save changes' });
  for (const [k, v] of Object.entries(fields)) body.set(`pos_sync_settings[${k}]`, v);
  return (await site.adminFetch(SETTINGS_PAGE, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })).text();
}

/** Debian's Chromium, headless. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Logs the page into wp-admin through the login form. */
export async function logIn(page, site) {
  await page.goto(`${site.url}/wp-login.php`);
  await page.fill('#user_login', site.admin.user);
  await page.fill('#user_pass', site.admin.password);
  await Promise.all([page.waitForURL(/wp-admin/), page.click('#wp-submit')]);
}
