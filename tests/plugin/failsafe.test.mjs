// Fail safe on any host, on real WordPress + WooCommerce with the stand-in sidecar: a
// tick in a PHP started with `-d disable_functions=proc_open` records a failed run with
// a sentence saying what the host must allow (no fatal), shown as an admin notice and in
// WooCommerce → Status; Test connection served by such a PHP shows the same sentence (no
// white screen); the Node.js binary must print Node ≥ 20 for --version, when saved and
// before each run. Actions are POST forms: a GET with a valid nonce changes nothing; Sync
// now, Full reconcile, Fix all and the dry run are queued in the background.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createSite, wordPressOrSkip, freePort, stopPid, REPO_ROOT } from '../../scripts/lib/site.mjs';
import { press, loginAs } from './forms.mjs';

const run = promisify(execFile);
const { skip } = await wordPressOrSkip();
const SETTINGS = '/wp-admin/admin.php?page=wc-settings&tab=pos_sync';
const HOST_SENTENCE = /PHP on this server does not allow proc_open \(disable_functions\), so POS Sync cannot start its Node\.js sidecar and nothing is synchronised\. Ask your host to allow proc_open, proc_get_status, proc_terminate, proc_close for this site, with Node\.js 20 or later installed\./;

if (skip) {
  test(skip, { skip: true }, () => {});
} else {
  describe('fail safe: proc_open, Node.js, actions as POST, background work', { timeout: 300_000 }, () => {
    let site;
    const fakeDir = () => path.join(site.dir, 'fake');
    const fake = (cfg) => fs.writeFileSync(path.join(fakeDir(), 'fake-sidecar.json'), JSON.stringify(cfg));
    const jobs = (kind) => {
      const f = path.join(fakeDir(), 'fake-sidecar.seen.json');
      return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')).byKind[kind] || [] : [];
    };
    // A WordPress CLI process of a PHP that disables proc_open, as many shared hosts do.
    const restrictedEval = async (code) => {
      let out;
      try {
        out = await run('php', ['-d', 'disable_functions=proc_open', path.join(site.dir, 'tools', 'eval.php'), site.wpDir, code, 'null'], { env: site.env, timeout: 60_000 });
        out.code = 0;
      } catch (e) {
        out = e;
      }
      return out;
    };
    const lastRun = () => site.wpEval(`wp_cache_flush(); return get_option( 'pos_sync_last_run' );`);
    const fakeNode = (name, version) => {
      const f = path.join(site.dir, name);
      fs.writeFileSync(f, `#!/bin/sh\necho ${version}\n`);
      fs.chmodSync(f, 0o755);
      return f;
    };

    before(async () => {
      site = await createSite({ plugin: path.join(REPO_ROOT, 'php-plugin'), log: false });
      fs.mkdirSync(fakeDir());
      fs.copyFileSync(path.join(REPO_ROOT, 'tests', 'plugin', 'fake-sidecar.mjs'), path.join(fakeDir(), 'sidecar.mjs'));
      fake({ mode: 'ok' });
      await site.wpEval(`update_option( 'pos_sync_site_test_sidecar', $args );
        update_option( 'pos_sync_settings', array( 'api_base' => 'http://127.0.0.1:9/API/V3', 'account_id' => '1', 'client_id' => 'fake', 'client_secret' => 'cs-Fail-1', 'reconcile_every' => 'off' ) );
        PosSync\\Store\\Settings::save_tokens( null, 'rt-Fail-1', 0 ); return true;`, path.join(fakeDir(), 'sidecar.mjs'));
    });
    after(async () => {
      await site?.stop({ remove: !process.env.POS_SYNC_KEEP_SITE });
    });

    test('a tick with proc_open disabled records a failed run with a sentence for the host, and raises no fatal', async () => {
      const out = await restrictedEval(`do_action( 'pos_sync_tick' ); return 'tick done';`);
      const text = `${out.stdout}\n${out.stderr}`;
      assert.doesNotMatch(text, /Fatal error|Uncaught/);
      assert.match(String(out.stdout), /"value":"tick done"/);
      assert.equal(out.code, 0);
      const r = await lastRun();
      assert.equal(r.ok, false);
      assert.match(r.error, HOST_SENTENCE);
      assert.equal(jobs('sync').length, 0, 'no sidecar was started');
      // Shown as the admin notice and in WooCommerce → Status.
      const dash = await (await site.adminFetch('/wp-admin/')).text();
      assert.match(dash, /POS Sync:.*the last sync .* failed: PHP on this server does not allow proc_open/s);
      const status = await (await site.adminFetch('/wp-admin/admin.php?page=wc-status')).text();
      assert.match(status, /id="pos-sync-system-status".*Last sync:.*failed: PHP on this server does not allow proc_open/s);
    });

    test('Test connection served by a PHP without proc_open shows the same sentence, no white screen', async () => {
      const port = await freePort();
      const server = spawn('php', ['-d', 'disable_functions=proc_open', '-S', `127.0.0.1:${port}`, '-t', site.wpDir, path.join(site.dir, 'tools', 'router.php')], { cwd: site.wpDir, env: site.env, detached: true, stdio: 'ignore' });
      try {
        const until = Date.now() + 20_000;
        for (;;) {
          try {
            if ((await fetch(`http://127.0.0.1:${port}/wp-login.php`, { redirect: 'manual' })).status < 500) break;
          } catch {}
          if (Date.now() > until) throw new Error('restricted PHP server not ready');
          await new Promise((r) => setTimeout(r, 100));
        }
        const html = await (await site.adminFetch(SETTINGS)).text();
        const res = await press((url, init) => site.adminFetch(url.replace(site.url, `http://127.0.0.1:${port}`), init), html, /id="pos-sync-test-connection"/);
        assert.equal(res.status, 302, `HTTP ${res.status}`);
        const after = await (await site.adminFetch(res.headers.get('location').replace(`127.0.0.1:${port}`, new URL(site.url).host))).text();
        assert.match(after, /id="pos-sync-test-result" class="notice notice-error inline"><p>Connection failed: PHP on this server does not allow proc_open/);
        // The same PHP shows the notice on every admin page.
        const dash = await (await site.adminFetch(`http://127.0.0.1:${port}/wp-admin/`)).text();
        assert.match(dash, /id="pos-sync-host-notice".*PHP on this server does not allow proc_open/s);
      } finally {
        await stopPid(server.pid, 3_000);
      }
    });

    test('the Node.js binary must print Node 20 or later for --version: checked when saved (the previous one kept) and before each run', async () => {
      const old = fakeNode('node18', 'v18.19.0');
      const other = fakeNode('notnode', 'hello');
      const save = (node_path) => site.wpEval(`wp_set_current_user( 1 ); $e = PosSync\\Store\\Settings::save_form( $args ); return array( $e, PosSync\\Store\\Settings::get( 'node_path' ) );`, { api_base: 'http://127.0.0.1:9/API/V3', account_id: '1', client_id: 'fake', node_path });
      let [errors, saved] = await save(old);
      assert.ok(errors.some((e) => e.includes(`Node.js binary ${old} is v18.19.0; POS Sync needs Node.js 20 or later. The previous Node.js binary is kept.`)), JSON.stringify(errors));
      assert.equal(saved, '');
      [errors, saved] = await save(other);
      assert.ok(errors.some((e) => e.includes(`${other} is not Node.js: run with --version it printed “hello”`)), JSON.stringify(errors));
      assert.equal(saved, '');
      [errors, saved] = await save(process.execPath);
      assert.deepEqual(errors, []);
      assert.equal(saved, process.execPath);
      // Stored before this check existed (or replaced on disk since): the run fails and says why.
      await site.wpEval(`$s = get_option( 'pos_sync_settings' ); $s['node_path'] = $args; update_option( 'pos_sync_settings', $s ); return true;`, old);
      const before = jobs('sync').length;
      const r = await site.wpEval(`return PosSync\\Jobs\\Runner::run( 'sync' );`);
      assert.equal(r.ok, false);
      assert.match(r.error, /is v18\.19\.0; POS Sync needs Node\.js 20 or later\. Install Node\.js 20 or later or set its path/);
      assert.equal(jobs('sync').length, before);
      await site.wpEval(`$s = get_option( 'pos_sync_settings' ); $s['node_path'] = ''; update_option( 'pos_sync_settings', $s ); return true;`);
    });

    test('GET on every action URL, even with a valid nonce, changes nothing and starts nothing', async () => {
      const nonces = ['pos_sync_sync_now', 'pos_sync_full_reconcile', 'pos_sync_report_fix_all', 'pos_sync_report_fix_801', 'pos_sync_dry_run', 'pos_sync_test_connection', 'pos_sync_reconcile_now', 'pos_sync_outbox_action', 'pos_sync_site_is_live', 'pos_sync_refresh_lookups'];
      const admin = await loginAs(site, 'admin', 'administrator', nonces);
      const urls = {
        pos_sync_sync_now: 'pos_sync_sync_now',
        pos_sync_full_reconcile: 'pos_sync_full_reconcile',
        pos_sync_report_fix: 'pos_sync_report_fix_all',
        'pos_sync_report_fix&item_id=801': 'pos_sync_report_fix_801',
        pos_sync_dry_run: 'pos_sync_dry_run',
        pos_sync_test_connection: 'pos_sync_test_connection',
        pos_sync_reconcile_now: 'pos_sync_reconcile_now',
        'pos_sync_outbox_action&pos_sync_row=retry:1': 'pos_sync_outbox_action',
        pos_sync_site_is_live: 'pos_sync_site_is_live',
        pos_sync_refresh_lookups: 'pos_sync_refresh_lookups',
      };
      const state = () => site.wpEval(`wp_cache_flush(); return array( PosSync\\Store\\Ledger::recheck_item_ids(), get_option( 'pos_sync_reconcile' ), get_option( 'pos_sync_background' ), get_option( 'pos_sync_lookups' ), wp_next_scheduled( 'pos_sync_background', array( 'sync' ) ) );`);
      const was = await state();
      const seen = JSON.stringify(['sync', 'reconcile', 'test_connection', 'lookups'].map((k) => jobs(k).length));
      for (const [a, n] of Object.entries(urls)) {
        const res = await admin.fetch(`/wp-admin/admin-post.php?action=${a}&_wpnonce=${admin.nonces[n]}`);
        assert.equal(res.status, 405, `GET ${a}: HTTP ${res.status}`);
      }
      assert.deepEqual(await state(), was, 'nothing changed');
      assert.equal(JSON.stringify(['sync', 'reconcile', 'test_connection', 'lookups'].map((k) => jobs(k).length)), seen, 'no run was started');
    });

    test('Sync now, Full reconcile, Fix all and the dry run are queued and return at once; the status page shows queued, then done', async () => {
      const status = async () => (await site.adminFetch('/wp-admin/admin.php?page=pos-sync')).text();
      const before = jobs('sync').length;
      let res = await press(site.adminFetch, await status(), /id="pos-sync-sync-now"/);
      assert.equal(res.status, 302);
      assert.equal(jobs('sync').length, before, 'the request ran no sync');
      let html = await (await site.adminFetch(res.headers.get('location'))).text();
      assert.match(html, /id="pos-sync-flash" class="notice notice-success"><p>Sync now: queued; it runs in the background/);
      assert.match(html, /data-task="sync" data-state="queued"><th>Sync now<\/th><td><strong>queued<\/strong>/);
      // Pressed again while queued: not queued twice.
      res = await press(site.adminFetch, html, /id="pos-sync-sync-now"/);
      assert.match(await (await site.adminFetch(res.headers.get('location'))).text(), /Sync now: already queued or running/);
      for (const [tab, re] of [['', /id="pos-sync-full-reconcile"/], ['&tab=report', /id="pos-sync-fix-all"/], ['&tab=report', /id="pos-sync-dry-run"/]]) {
        res = await press(site.adminFetch, await (await site.adminFetch(`/wp-admin/admin.php?page=pos-sync${tab}`)).text(), re);
        assert.equal(res.status, 302);
      }
      assert.equal(jobs('sync').length, before);
      assert.equal(jobs('reconcile').length, 0);
      assert.match(await (await site.adminFetch('/wp-admin/admin.php?page=pos-sync&tab=report')).text(), /id="pos-sync-dry-run-state"><em>The dry run is queued/);
      const ran = await site.runCron({ hooks: ['pos_sync_background'] });
      assert.equal(ran.filter((h) => h === 'pos_sync_background').length, 4, JSON.stringify(ran));
      assert.ok(jobs('sync').length >= before + 2, 'the sync and the fix ran in the background');
      assert.equal(jobs('reconcile').length, 1);
      html = await status();
      for (const task of ['sync', 'reconcile', 'fix_all', 'dry_run']) assert.match(html, new RegExp(`data-task="${task}" data-state="done">`), task);
      assert.match(html, /Sync done: 0 stock figures written/);
      assert.match(await (await site.adminFetch('/wp-admin/admin.php?page=pos-sync&tab=report')).text(), /<h2>Dry run<\/h2><p>Worked out at /);
    });

    test('the product boxes check edit_product on that product themselves', async () => {
      const id = await site.wpEval(`$p = new WC_Product_Simple(); $p->set_name( 'Boxed' ); $id = $p->save(); update_post_meta( $id, '_pos_sync_item_id', '901' ); return $id;`);
      const box = (user) =>
        site.wpEval(`wp_set_current_user( $args['user'] ); $post = get_post( $args['id'] ); ob_start(); PosSync\\Admin\\ProductScreen::render( $post ); PosSync\\Admin\\Notices::notes_box( $post ); return ob_get_clean();`, { id, user });
      assert.match(await box(1), /POS item 901/);
      const customer = await loginAs(site, 'shopper', 'customer');
      assert.equal(await box(customer.uid), '', 'nothing for a user who cannot edit the product');
    });

    test('no PHP notice in the debug log', () => {
      assert.deepEqual(site.debugLog().split('\n').filter((l) => /PHP (Notice|Warning|Deprecated|Fatal)/.test(l)), []);
    });
  });
}
