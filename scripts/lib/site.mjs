// A private WordPress + WooCommerce shop for tests, benchmarks and `npm start`:
// its own MariaDB on a unix socket, a copy of WordPress, `php -S` in front.
// WordPress and WooCommerce come from WORDPRESS_DIR / WOOCOMMERCE_DIR, from
// WORDPRESS_ZIP / WOOCOMMERCE_ZIP, or from the cache (downloaded once where a
// network allows). Nothing here uses a shell: every process gets an argument array.

import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import net from 'node:net';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE_DIR = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'pos-sync');
export const SKIP_MESSAGE =
  'SKIPPED (set WORDPRESS_DIR and WOOCOMMERCE_DIR to a WordPress ≥ 6.7 and a WooCommerce ≥ 9 folder, or run `npm start` once to fill the cache)';

const JSON_MARK = '@@POS_SYNC_SITE_JSON@@';

// ---------------------------------------------------------------- finding WordPress

function isWordPress(dir) {
  return !!dir && fs.existsSync(path.join(dir, 'wp-settings.php')) && fs.existsSync(path.join(dir, 'wp-includes', 'version.php'));
}
function isWooCommerce(dir) {
  return !!dir && fs.existsSync(path.join(dir, 'woocommerce.php'));
}

async function extractZip(zip, into) {
  // PHP's ZipArchive: PHP is needed anyway, `unzip` may not be installed.
  const code = '$z=new ZipArchive(); if($z->open($argv[1])!==true){fwrite(STDERR,"cannot open zip\\n");exit(1);} if(!$z->extractTo($argv[2])){fwrite(STDERR,"cannot extract\\n");exit(1);} $z->close();';
  await fsp.mkdir(into, { recursive: true });
  await run('php', ['-r', code, zip, into], { maxBuffer: 16 << 20 });
}

// A zip holds one top folder (wordpress/, woocommerce/); extract it once into the cache.
async function fromZip(zip, name, check) {
  if (!fs.existsSync(zip)) return { missing: `${name} zip ${zip} does not exist` };
  const stat = fs.statSync(zip);
  const key = crypto.createHash('sha1').update(`${path.resolve(zip)}:${stat.size}:${stat.mtimeMs}`).digest('hex').slice(0, 12);
  const into = path.join(CACHE_DIR, 'zips', `${name}-${key}`);
  if (!fs.existsSync(path.join(into, '.done'))) {
    await fsp.rm(into, { recursive: true, force: true });
    await extractZip(zip, into);
    await fsp.writeFile(path.join(into, '.done'), '');
  }
  for (const d of [into, ...fs.readdirSync(into).map((e) => path.join(into, e))]) if (check(d)) return { dir: d };
  return { missing: `${zip} does not contain ${name}` };
}

/** Where WordPress and WooCommerce are: `{wpDir, wooDir}` or `{missing: 'why'}`. */
export async function findWordPress({ env = process.env } = {}) {
  let wpDir = env.WORDPRESS_DIR;
  let wooDir = env.WOOCOMMERCE_DIR;
  if (wpDir && !isWordPress(wpDir)) return { missing: `WORDPRESS_DIR=${wpDir} is not a WordPress folder (no wp-settings.php)` };
  if (wooDir && !isWooCommerce(wooDir)) return { missing: `WOOCOMMERCE_DIR=${wooDir} is not a WooCommerce folder (no woocommerce.php)` };
  if (!wpDir && env.WORDPRESS_ZIP) {
    const r = await fromZip(env.WORDPRESS_ZIP, 'wordpress', isWordPress);
    if (r.missing) return r;
    wpDir = r.dir;
  }
  if (!wooDir && env.WOOCOMMERCE_ZIP) {
    const r = await fromZip(env.WOOCOMMERCE_ZIP, 'woocommerce', isWooCommerce);
    if (r.missing) return r;
    wooDir = r.dir;
  }
  wpDir ||= isWordPress(path.join(CACHE_DIR, 'wordpress')) ? path.join(CACHE_DIR, 'wordpress') : null;
  wooDir ||= isWooCommerce(path.join(CACHE_DIR, 'woocommerce')) ? path.join(CACHE_DIR, 'woocommerce') : null;
  if (!wpDir || !wooDir) {
    const what = [!wpDir && 'WordPress', !wooDir && 'WooCommerce'].filter(Boolean).join(' and ');
    return { missing: `${what} not found: set WORDPRESS_DIR and WOOCOMMERCE_DIR (folders) or WORDPRESS_ZIP and WOOCOMMERCE_ZIP, or let \`npm start\` download them into ${CACHE_DIR}` };
  }
  return { wpDir, wooDir };
}

const DOWNLOADS = {
  wordpress: 'https://wordpress.org/latest.zip',
  woocommerce: 'https://downloads.wordpress.org/plugin/woocommerce.latest-stable.zip',
};

async function download(url, file, { connectTimeoutMs = 10_000, totalTimeoutMs = 300_000 } = {}) {
  const total = AbortSignal.timeout(totalTimeoutMs);
  const connect = new AbortController();
  const timer = setTimeout(() => connect.abort(new Error(`no answer from ${url} within ${connectTimeoutMs / 1000} s`)), connectTimeoutMs);
  try {
    const res = await fetch(url, { signal: AbortSignal.any([total, connect.signal]) });
    clearTimeout(timer);
    if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
    await fsp.writeFile(file, Buffer.from(await res.arrayBuffer()));
  } finally {
    clearTimeout(timer);
  }
}

/** findWordPress(), then (with download:true) fetch what is missing from wordpress.org into the cache. */
export async function ensureWordPress({ download: allowDownload = false, log = defaultLog, env = process.env } = {}) {
  const found = await findWordPress({ env });
  if (!found.missing || !allowDownload || env.WORDPRESS_DIR || env.WOOCOMMERCE_DIR) return found;
  await fsp.mkdir(CACHE_DIR, { recursive: true });
  for (const [name, url] of Object.entries(DOWNLOADS)) {
    const check = name === 'wordpress' ? isWordPress : isWooCommerce;
    if (check(path.join(CACHE_DIR, name))) continue;
    const zip = path.join(CACHE_DIR, `${name}.zip`);
    log(`downloading ${url}`);
    try {
      await download(url, zip);
      await fsp.rm(path.join(CACHE_DIR, name), { recursive: true, force: true });
      await extractZip(zip, CACHE_DIR);
      await fsp.rm(zip, { force: true });
    } catch (e) {
      const why = e.cause ? `${e.message}: ${e.cause.code || e.cause.message}` : e.message;
      return { missing: `could not download ${name} from ${url} (${why}); set WORDPRESS_DIR and WOOCOMMERCE_DIR to local copies` };
    }
  }
  return findWordPress({ env });
}

// ---------------------------------------------------------------- processes

function defaultLog(msg) {
  process.stderr.write(`[site] ${msg}\n`);
}

const children = new Set();
process.on('exit', () => {
  for (const pid of children) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
});

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Starts a long-lived process in its own process group, output to a log file.
function startDaemon(cmd, args, { logFile, env, cwd, detached = false }) {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  if (detached) child.unref();
  else children.add(child.pid);
  return child;
}

/** Stops a process group we started: SIGTERM, then SIGKILL after a grace period. */
export async function stopPid(pid, graceMs = 10_000) {
  if (!pid || !alive(pid)) return;
  const kill = (sig) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {}
    }
  };
  kill('SIGTERM');
  const until = Date.now() + graceMs;
  while (alive(pid) && Date.now() < until) await sleep(50);
  if (alive(pid)) kill('SIGKILL');
  children.delete(pid);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(what, check, timeoutMs) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    await sleep(100);
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000} s${last ? `: ${last.message}` : ''}`);
}

function socketAnswers(sock) {
  return new Promise((resolve) => {
    const c = net.connect(sock);
    c.once('data', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
    setTimeout(() => {
      c.destroy();
      resolve(false);
    }, 1000);
  });
}

// ---------------------------------------------------------------- PHP helpers written into the site

// Loads WordPress from the CLI, runs the code in argv[2] with $args = json argv[3],
// prints the JSON of its return value after a marker (WordPress may print before it).
const EVAL_PHP = `<?php
$wp_dir = $argv[1];
$code   = $argv[2];
$args   = json_decode( $argv[3] ?? 'null', true );
$_SERVER['HTTP_HOST']   = getenv( 'POS_SYNC_SITE_HOST' ) ?: 'localhost';
$_SERVER['SERVER_NAME'] = 'localhost';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['REQUEST_URI'] = '/';
if ( getenv( 'POS_SYNC_SITE_INSTALLING' ) ) { define( 'WP_INSTALLING', true ); }
require $wp_dir . '/wp-load.php';
$pos_sync_site_run = function ( $args ) use ( $code ) { return eval( $code ); };
try {
	$value = $pos_sync_site_run( $args );
	echo "\\n${JSON_MARK}" . json_encode( array( 'ok' => true, 'value' => $value ), JSON_PARTIAL_OUTPUT_ON_ERROR );
} catch ( Throwable $e ) {
	echo "\\n${JSON_MARK}" . json_encode( array( 'ok' => false, 'error' => get_class( $e ) . ': ' . $e->getMessage() . ' at ' . $e->getFile() . ':' . $e->getLine() ) );
}
`;

// Runs due WP-Cron events from the CLI, as wp-cron.php does (reschedule, unschedule,
// then run), printing a marker before each. Some WooCommerce callbacks exit; the
// caller then starts another process for the events left (see REAL-STACK.md).
const CRON_PHP = `<?php
$wp_dir = $argv[1];
$only   = json_decode( $argv[2], true );
$_SERVER['HTTP_HOST'] = getenv( 'POS_SYNC_SITE_HOST' ) ?: 'localhost';
define( 'DOING_CRON', true );
require $wp_dir . '/wp-load.php';
$jobs = array();
foreach ( wp_get_ready_cron_jobs() as $ts => $hooks ) {
	foreach ( $hooks as $hook => $events ) {
		foreach ( $events as $key => $event ) {
			$id = $ts . '|' . $hook . '|' . $key;
			if ( null === $only || in_array( $id, $only['ids'] ?? array(), true ) || ( isset( $only['hooks'] ) && in_array( $hook, $only['hooks'], true ) && ! isset( $only['ids'] ) ) ) {
				$jobs[] = array( $id, $ts, $hook, $event );
			}
		}
	}
}
echo "\\n@@JOBS " . json_encode( array_column( $jobs, 0 ) ) . "\\n";
foreach ( $jobs as list( $id, $ts, $hook, $event ) ) {
	echo "\\n@@START " . $id . "\\n";
	if ( $event['schedule'] ) {
		wp_reschedule_event( $ts, $event['schedule'], $hook, $event['args'] );
	}
	wp_unschedule_event( $ts, $hook, $event['args'] );
	do_action_ref_array( $hook, $event['args'] );
	echo "\\n@@DONE " . $id . "\\n";
}
echo "\\n@@END\\n";
`;

const ROUTER_PHP = `<?php
// Router for php -S: real files are served as they are, everything else goes to WordPress.
$path = urldecode( parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH ) );
$file = $_SERVER['DOCUMENT_ROOT'] . $path;
if ( '/' !== $path && ( is_file( $file ) || is_file( rtrim( $file, '/' ) . '/index.php' ) ) ) {
	return false;
}
$_SERVER['SCRIPT_NAME']     = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $_SERVER['DOCUMENT_ROOT'] . '/index.php';
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
`;

// Site-only must-use plugin: mail goes nowhere (no MTA here), and requests to the
// outside world (update checks, marketplace) get a quiet 503 instead of a warning.
const MU_PLUGIN_PHP = `<?php
/**
 * Plugin Name: Test site helpers (generated by the POS Sync site harness)
 */
add_filter( 'pre_wp_mail', '__return_true' );
add_filter(
	'pre_http_request',
	function ( $pre, $args, $url ) {
		$host = wp_parse_url( $url, PHP_URL_HOST );
		if ( in_array( $host, array( '127.0.0.1', 'localhost' ), true ) ) {
			return $pre;
		}
		return array( 'headers' => array(), 'body' => '', 'response' => array( 'code' => 503, 'message' => 'Offline test site' ), 'cookies' => array(), 'filename' => null );
	},
	10,
	3
);
// Tests may point the plugin at a stand-in sidecar and shorten the timeout margin.
add_filter( 'pos_sync_sidecar_path', fn( $p ) => get_option( 'pos_sync_site_test_sidecar' ) ?: $p );
add_filter( 'pos_sync_timeout_margin_s', fn( $s ) => (int) ( get_option( 'pos_sync_site_test_margin' ) ?: $s ) );
`;

const INSTALL_PHP = `
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
$r = wp_install( $args['title'], $args['user'], $args['email'], true, '', wp_slash( $args['password'] ) );
update_option( 'permalink_structure', '/%postname%/' );
update_option( 'timezone_string', 'UTC' );
return array( 'user_id' => $r['user_id'] );
`;

const ACTIVATE_PHP = `
require_once ABSPATH . 'wp-admin/includes/plugin.php';
wp_set_current_user( 1 );
$r = activate_plugin( $args['plugin'] );
if ( is_wp_error( $r ) ) { return array( 'error' => $r->get_error_message(), 'codes' => $r->get_error_codes() ); }
return array( 'active' => is_plugin_active( $args['plugin'] ) );
`;

const CONFIGURE_WOO_PHP = `
wp_set_current_user( 1 );
update_option( 'woocommerce_onboarding_profile', array( 'skipped' => true, 'completed' => true ) );
update_option( 'woocommerce_task_list_hidden', 'yes' );
update_option( 'woocommerce_task_list_complete', 'yes' );
update_option( 'woocommerce_show_marketplace_suggestions', 'no' );
update_option( 'woocommerce_allow_tracking', 'no' );
update_option( 'woocommerce_coming_soon', 'no' );
update_option( 'woocommerce_store_address', '1 Test Street' );
update_option( 'woocommerce_store_city', 'Springfield' );
update_option( 'woocommerce_default_country', 'US:CA' );
update_option( 'woocommerce_store_postcode', '90001' );
update_option( 'woocommerce_currency', 'USD' );
update_option( 'woocommerce_manage_stock', 'yes' );
delete_transient( '_wc_activation_redirect' );
$hpos = null;
if ( $args['hpos'] ) {
	$sync = wc_get_container()->get( Automattic\\WooCommerce\\Internal\\DataStores\\Orders\\DataSynchronizer::class );
	if ( ! $sync->check_orders_table_exists() ) { $sync->create_database_tables(); }
	update_option( 'woocommerce_custom_orders_table_data_sync_enabled', 'no' );
	$features = wc_get_container()->get( Automattic\\WooCommerce\\Internal\\Features\\FeaturesController::class );
	$features->change_feature_enable( 'custom_order_tables', true );
	$hpos = Automattic\\WooCommerce\\Utilities\\OrderUtil::custom_orders_table_usage_is_enabled();
}
list( $password ) = WP_Application_Passwords::create_new_application_password( 1, array( 'name' => 'pos-sync-site' ) );
return array( 'hpos' => $hpos, 'app_password' => $password );
`;

const AUTH_COOKIES_PHP = `
$exp = time() + DAY_IN_SECONDS;
$token = WP_Session_Tokens::get_instance( 1 )->create( $exp );
return array(
	AUTH_COOKIE      => wp_generate_auth_cookie( 1, $exp, 'auth', $token ),
	LOGGED_IN_COOKIE => wp_generate_auth_cookie( 1, $exp, 'logged_in', $token ),
);
`;

// ---------------------------------------------------------------- the site

function wpConfig({ socket, url, extra, wpCron }) {
  const salt = () => crypto.randomBytes(32).toString('base64');
  const keys = ['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'];
  return `<?php
// Generated by the POS Sync site harness for a local test shop.
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'root' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', ${JSON.stringify('localhost:' + socket)} );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
${keys.map((k) => `define( '${k}', '${salt()}' );`).join('\n')}
$table_prefix = 'wp_';
define( 'WP_HOME', ${JSON.stringify(url)} );
define( 'WP_SITEURL', ${JSON.stringify(url)} );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_LOG', true );
define( 'WP_DEBUG_DISPLAY', false );
@ini_set( 'display_errors', '0' );
${wpCron ? '' : "define( 'DISABLE_WP_CRON', true );"}
define( 'WP_ENVIRONMENT_TYPE', 'local' );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'FS_METHOD', 'direct' );
${extra || ''}
if ( ! defined( 'ABSPATH' ) ) { define( 'ABSPATH', __DIR__ . '/' ); }
require_once ABSPATH . 'wp-settings.php';
`;
}

/** Copies WooCommerce into the site, fixing the one file whose name's case its class map disagrees with. */
async function copyWooCommerce(wooDir, dest) {
  await run('cp', ['-a', wooDir, dest]);
  const wrong = path.join(dest, 'src', 'Caching', 'WpCacheEngine.php');
  const right = path.join(dest, 'src', 'Caching', 'WPCacheEngine.php');
  if (fs.existsSync(wrong) && !fs.existsSync(right)) await fsp.rename(wrong, right);
}

/**
 * Creates and starts a shop. Options:
 *  dir       folder for everything (database, WordPress copy, logs); created; its socket path must stay short
 *  port      for php -S (default: a free one)
 *  withWoo   install and activate WooCommerce (default true)
 *  hpos      switch HPOS on (default true)
 *  plugin    zip (folder pos-sync/) or plugin folder to install and activate, or null (default dist/pos-sync.zip)
 *  activate  activate the plugin (default true)
 *  env       extra environment for the PHP server and CLI processes
 *  detached  leave the servers running after this process exits (npm start)
 *  wpCron    let page loads trigger WP-Cron (default false: DISABLE_WP_CRON, tests call runCron())
 *  log       function(msg) or false
 */
export async function createSite(opts = {}) {
  const ctx = { pids: {}, dir: null };
  try {
    return await buildSite(opts, ctx);
  } catch (e) {
    // Leave nothing running (or, for a temporary folder, lying) behind a failed install.
    await stopPid(ctx.pids.php, 2_000);
    await stopPid(ctx.pids.mariadb, 10_000);
    if (ctx.dir && !opts.dir && !process.env.POS_SYNC_KEEP_SITE) await fsp.rm(ctx.dir, { recursive: true, force: true });
    throw e;
  }
}

async function buildSite(opts, ctx) {
  const { pids } = ctx;
  const started = Date.now();
  const log = opts.log === false ? () => {} : opts.log || defaultLog;
  const step = (msg) => log(`${msg} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  const found = opts.wpDir ? { wpDir: opts.wpDir, wooDir: opts.wooDir } : await findWordPress();
  if (found.missing) throw new Error(found.missing);
  const plugin = opts.plugin === undefined ? path.join(REPO_ROOT, 'dist', 'pos-sync.zip') : opts.plugin;
  if (plugin && !fs.existsSync(plugin)) throw new Error(`plugin ${plugin} not found (run \`npm run build\`)`);
  const dir = path.resolve(opts.dir || (await fsp.mkdtemp(path.join(os.tmpdir(), 'pos-sync-site-'))));
  ctx.dir = dir;
  const withWoo = opts.withWoo !== false;
  const hpos = opts.hpos !== false;
  const port = opts.port || (await freePort());
  const url = `http://127.0.0.1:${port}`;
  if (!(await portFree(port))) throw new Error(`port ${port} is in use (choose another one)`);
  const socket = path.join(dir, 'mysqld.sock');
  if (socket.length > 100) throw new Error(`site folder path too long for a unix socket: ${dir}`);
  const wp = path.join(dir, 'wp');
  const logs = path.join(dir, 'logs');
  const tools = path.join(dir, 'tools');
  await fsp.mkdir(dir, { recursive: true });
  for (const d of [wp, path.join(dir, 'db')]) {
    if (fs.existsSync(d)) await fsp.rm(d, { recursive: true, force: true });
  }
  await fsp.mkdir(logs, { recursive: true });
  await fsp.mkdir(tools, { recursive: true });

  const admin = { user: 'admin', password: opts.adminPassword || `pos-${crypto.randomBytes(6).toString('hex')}` };
  const phpEnv = { ...process.env, ...(opts.env || {}), POS_SYNC_SITE_HOST: `127.0.0.1:${port}` };
  const site = {
    dir,
    wpDir: wp,
    url,
    port,
    admin,
    pids,
    socket,
    env: phpEnv,
  };

  // 1. MariaDB, private to this folder.
  const mariadbInstallLog = path.join(logs, 'mariadb-install.log');
  await run(
    'mariadb-install-db',
    ['--no-defaults', `--datadir=${path.join(dir, 'db')}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve'],
    { maxBuffer: 16 << 20 },
  ).catch(async (e) => {
    await fsp.writeFile(mariadbInstallLog, `${e.stdout}\n${e.stderr}`);
    throw new Error(`mariadb-install-db failed (see ${mariadbInstallLog}): ${e.message}`);
  });
  const db = startDaemon(
    'mariadbd',
    [
      '--no-defaults',
      `--datadir=${path.join(dir, 'db')}`,
      `--socket=${socket}`,
      '--skip-networking',
      '--user=root',
      `--pid-file=${path.join(dir, 'mysqld.pid')}`,
      `--log-error=${path.join(logs, 'mariadb.log')}`,
      '--innodb-buffer-pool-size=128M',
      '--innodb-flush-log-at-trx-commit=2',
      '--skip-log-bin',
    ],
    { logFile: path.join(logs, 'mariadb.out'), detached: opts.detached },
  );
  site.pids.mariadb = db.pid;
  await waitFor('MariaDB', () => fs.existsSync(socket) && socketAnswers(socket), 30_000);
  await run('mariadb', ['--no-defaults', `--socket=${socket}`, '-uroot', '-e', 'CREATE DATABASE IF NOT EXISTS wordpress CHARACTER SET utf8mb4']);
  step('MariaDB ready');

  // 2. WordPress files.
  await run('cp', ['-a', found.wpDir, wp]);
  await fsp.writeFile(path.join(wp, 'wp-config.php'), wpConfig({ socket, url, extra: opts.wpConfigExtra, wpCron: opts.wpCron }));
  await fsp.mkdir(path.join(wp, 'wp-content', 'mu-plugins'), { recursive: true });
  await fsp.writeFile(path.join(wp, 'wp-content', 'mu-plugins', 'pos-sync-test-site.php'), MU_PLUGIN_PHP);
  await fsp.writeFile(path.join(tools, 'eval.php'), EVAL_PHP);
  await fsp.writeFile(path.join(tools, 'cron.php'), CRON_PHP);
  await fsp.writeFile(path.join(tools, 'router.php'), ROUTER_PHP);
  if (withWoo) await copyWooCommerce(found.wooDir, path.join(wp, 'wp-content', 'plugins', 'woocommerce'));
  step('WordPress files copied');

  // 3. Install, then activate in fresh processes (as a real admin would, one request each).
  await wpEvalIn(site, INSTALL_PHP, { title: 'POS Sync Test Shop', user: admin.user, password: admin.password, email: 'admin@example.com' }, { POS_SYNC_SITE_INSTALLING: '1' });
  step('WordPress installed');
  if (withWoo) {
    const r = await wpEvalIn(site, ACTIVATE_PHP, { plugin: 'woocommerce/woocommerce.php' });
    if (!r.active) throw new Error(`WooCommerce did not activate: ${JSON.stringify(r)}`);
    const c = await wpEvalIn(site, CONFIGURE_WOO_PHP, { hpos });
    if (hpos && !c.hpos) throw new Error('HPOS could not be switched on');
    site.appPassword = c.app_password;
    step(`WooCommerce active${hpos ? ', HPOS on' : ''}`);
  } else {
    site.appPassword = (await wpEvalIn(site, `list( $p ) = WP_Application_Passwords::create_new_application_password( 1, array( 'name' => 'pos-sync-site' ) ); return $p;`));
  }

  // WordPress's and WooCommerce's own setup notices are kept aside, so the log
  // starts clean for the plugin under test.
  const debugFile = path.join(wp, 'wp-content', 'debug.log');
  if (fs.existsSync(debugFile)) {
    await fsp.copyFile(debugFile, path.join(logs, 'setup-debug.log'));
    await fsp.truncate(debugFile, 0);
  }

  // 4. The plugin.
  if (plugin) {
    await installPluginInto(site, plugin);
    if (opts.activate !== false) {
      const r = await wpEvalIn(site, ACTIVATE_PHP, { plugin: 'pos-sync/pos-sync.php' });
      site.pluginActivation = r;
      step(r.active ? 'POS Sync active' : `POS Sync not active: ${r.error || 'unknown'}`);
    }
  }

  // 5. The web server.
  const server = startDaemon('php', ['-S', `127.0.0.1:${port}`, '-t', wp, path.join(tools, 'router.php')], {
    cwd: wp,
    env: { ...phpEnv, PHP_CLI_SERVER_WORKERS: '4' },
    logFile: path.join(logs, 'php-server.log'),
    detached: opts.detached,
  });
  site.pids.php = server.pid;
  await waitFor('PHP server', async () => (await fetch(`${url}/wp-login.php`, { redirect: 'manual' })).status < 500, 20_000);
  step(`serving ${url}`);
  site.installSeconds = (Date.now() - started) / 1000;
  await fsp.writeFile(path.join(dir, 'site.json'), JSON.stringify({ url, port, admin, pids: site.pids, socket, appPassword: site.appPassword }, null, 2));
  return attach(site);
}

async function installPluginInto(site, plugin) {
  const dest = path.join(site.wpDir, 'wp-content', 'plugins');
  if (plugin.endsWith('.zip')) {
    if (!fs.existsSync(plugin)) throw new Error(`plugin zip ${plugin} not found (run \`npm run build\`)`);
    await fsp.rm(path.join(dest, 'pos-sync'), { recursive: true, force: true });
    await extractZip(plugin, dest);
  } else {
    await run('cp', ['-a', plugin, path.join(dest, 'pos-sync')]);
  }
}

async function wpEvalIn(site, code, args = null, extraEnv = {}) {
  let out;
  try {
    out = await run('php', [path.join(site.dir, 'tools', 'eval.php'), site.wpDir, code, JSON.stringify(args)], {
      env: { ...site.env, ...extraEnv },
      maxBuffer: 256 << 20,
    });
  } catch (e) {
    out = e;
  }
  const stdout = String(out.stdout || '');
  const at = stdout.lastIndexOf(JSON_MARK);
  if (at < 0) throw new Error(`wpEval failed (no result): ${String(out.stderr || '').slice(-2000)} ${stdout.slice(-2000)}`);
  const r = JSON.parse(stdout.slice(at + JSON_MARK.length));
  if (!r.ok) throw new Error(`wpEval: ${r.error}`);
  return r.value;
}

// Re-opens a site created earlier (its servers may be running or not).
export async function openSite(dir) {
  const info = JSON.parse(await fsp.readFile(path.join(dir, 'site.json'), 'utf8'));
  return attach({ ...info, dir, wpDir: path.join(dir, 'wp'), env: { ...process.env, POS_SYNC_SITE_HOST: `127.0.0.1:${info.port}` } });
}

function attach(site) {
  let cookies = null;
  const api = {
    ...site,
    /** Runs PHP inside WordPress (CLI); the code `return`s a JSON-able value; `$args` holds args. */
    wpEval: (code, args = null) => wpEvalIn(site, code, args),
    /** Runs due WP-Cron events from the CLI, one process at a time; `hooks` limits to those hooks. */
    async runCron({ hooks = null } = {}) {
      let only = hooks ? { hooks } : null;
      const ran = [];
      for (let round = 0; round < 50; round++) {
        let out;
        try {
          out = await run('php', [path.join(site.dir, 'tools', 'cron.php'), site.wpDir, JSON.stringify(only)], { env: site.env, maxBuffer: 64 << 20 });
        } catch (e) {
          out = e;
        }
        const stdout = String(out.stdout || '');
        const jobs = JSON.parse((stdout.match(/@@JOBS (.*)/) || [null, '[]'])[1]);
        const started = [...stdout.matchAll(/@@START (.*)/g)].map((m) => m[1]);
        ran.push(...started);
        if (stdout.includes('@@END')) break;
        const left = jobs.filter((j) => !started.includes(j));
        if (!left.length) break;
        only = { ids: left };
      }
      return ran.map((id) => id.split('|')[1]);
    },
    /** WooCommerce/WordPress REST with the admin's application password. Throws on HTTP ≥ 400. */
    async rest(method, p, body) {
      const r = await api.restRaw(method, p, body);
      if (r.status >= 400) {
        const err = new Error(`${method} ${p}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
        err.status = r.status;
        err.body = r.body;
        throw err;
      }
      return r.body;
    },
    async restRaw(method, p, body) {
      const res = await fetch(`${site.url}/wp-json${p.startsWith('/') ? p : '/' + p}`, {
        method,
        headers: {
          authorization: 'Basic ' + Buffer.from(`${site.admin.user}:${site.appPassword}`).toString('base64'),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      let parsed = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: res.status, body: parsed, headers: res.headers };
    },
    /** fetch() as the logged-in admin (cookies made in PHP, no login form). */
    async adminFetch(p, init = {}) {
      cookies ||= await wpEvalIn(site, AUTH_COOKIES_PHP);
      const cookie = Object.entries(cookies)
        .map(([k, v]) => `${k}=${v}`)
        .join('; ');
      return fetch(p.startsWith('http') ? p : `${site.url}${p.startsWith('/') ? p : '/' + p}`, {
        redirect: 'manual',
        ...init,
        headers: { cookie, ...(init.headers || {}) },
      });
    },
    debugLog() {
      const f = path.join(site.wpDir, 'wp-content', 'debug.log');
      return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
    },
    clearDebugLog() {
      const f = path.join(site.wpDir, 'wp-content', 'debug.log');
      if (fs.existsSync(f)) fs.truncateSync(f, 0);
    },
    installPlugin: (plugin) => installPluginInto(site, plugin),
    async stop({ remove = false } = {}) {
      await stopPid(site.pids.php, 5_000);
      await stopPid(site.pids.mariadb, 20_000);
      if (remove) await fsp.rm(site.dir, { recursive: true, force: true });
    },
  };
  return api;
}

// ---------------------------------------------------------------- test helpers

/** For node:test files: the site-less reason to skip, or null; with POS_SYNC_REQUIRE_WP=1 missing WordPress is an error. */
export async function wordPressOrSkip() {
  const found = await findWordPress();
  if (!found.missing) return { found, skip: null };
  if (process.env.POS_SYNC_REQUIRE_WP === '1') throw new Error(`POS_SYNC_REQUIRE_WP=1 but ${found.missing}`);
  return { found, skip: SKIP_MESSAGE };
}
