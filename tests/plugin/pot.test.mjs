// i18n without WordPress: the committed php-plugin/languages/pos-sync.pot is what
// scripts/make-pot.mjs makes from the sources today, the extractor reads what WordPress
// reads, and the plugin loads its one text domain from languages/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makePot, extract, potStrings, POT_FILE, PLUGIN_DIR } from '../../scripts/make-pot.mjs';

test('the committed .pot holds every string of the PHP sources, and no other (run `node scripts/make-pot.mjs`)', () => {
  assert.ok(fs.existsSync(POT_FILE), 'php-plugin/languages/pos-sync.pot is missing');
  // Strings, plurals, contexts and translators comments; file:line references may lag
  // behind code that only moved (`node scripts/make-pot.mjs --check` compares exactly).
  const committed = potStrings(fs.readFileSync(POT_FILE, 'utf8'));
  const fresh = potStrings(makePot());
  const missing = fresh.filter((e) => !committed.includes(e));
  const stale = committed.filter((e) => !fresh.includes(e));
  assert.deepEqual({ missing, stale }, { missing: [], stale: [] }, 'pos-sync.pot is out of date: run `node scripts/make-pot.mjs`');
  assert.ok(fresh.some((e) => e.includes('msgid "Refresh lists from the POS"')));
});

test('the extractor: every gettext function, plural and context, translators comments, only our domain', () => {
  const src = `<?php
echo esc_html__( 'One', 'pos-sync' ) . esc_attr__( "Two \\"quoted\\"", 'pos-sync' );
_e( 'Three', 'pos-sync' ); esc_html_e( 'Four', 'pos-sync' ); esc_attr_e( 'Fi' . 've', 'pos-sync' );
$x = sprintf(
	/* translators: %s: what */
	__( 'Six %s', 'pos-sync' ),
	$what
);
$y = _n( '%d item', '%d items', $n, 'pos-sync' ) . _x( 'Post', 'verb', 'pos-sync' );
__( 'Not ours', 'woocommerce' ); __( $dynamic, 'pos-sync' ); __( "Has $var", 'pos-sync' );
$obj->__( 'A method', 'pos-sync' );
?>
<p><?php esc_html_e( 'In HTML', 'pos-sync' ); ?></p>
`;
  const got = extract(src, 'x.php');
  assert.deepEqual(
    got.map((e) => [e.msgid, e.ref, e.plural, e.context, e.comment].filter((v) => v !== undefined)),
    [
      ['One', 'x.php:2'],
      ['Two "quoted"', 'x.php:2'],
      ['Three', 'x.php:3'],
      ['Four', 'x.php:3'],
      ['Five', 'x.php:3'],
      ['Six %s', 'x.php:6', 'translators: %s: what'],
      ['%d item', 'x.php:9', '%d items'],
      ['Post', 'x.php:9', 'verb'],
      ['In HTML', 'x.php:13'],
    ],
  );
});

test('the plugin has one text domain, declared in its header and loaded from languages/', () => {
  const main = fs.readFileSync(path.join(PLUGIN_DIR, 'pos-sync.php'), 'utf8');
  assert.match(main, /Text Domain:\s+pos-sync/);
  assert.match(main, /Domain Path:\s+\/languages/);
  assert.match(main, /load_plugin_textdomain\(\s*'pos-sync',\s*false,\s*dirname\( plugin_basename\( PLUGIN_FILE \) \) \. '\/languages'\s*\)/);
  // Every translated string of the plugin uses that domain.
  const files = [];
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith('.php') && files.push(path.join(d, e.name))));
  walk(PLUGIN_DIR);
  for (const f of files) {
    const src = fs.readFileSync(f, 'utf8');
    for (const m of src.matchAll(/\b(?:__|_e|esc_html__|esc_html_e|esc_attr__|esc_attr_e|_x|_n)\((?:[^()]|\([^()]*\))*?,\s*'([a-z-]+)'\s*\)/g)) {
      assert.ok(['pos-sync', 'woocommerce'].includes(m[1]), `${path.relative(PLUGIN_DIR, f)}: text domain '${m[1]}'`);
    }
  }
});
