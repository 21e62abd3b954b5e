// Builds the Rust core to WebAssembly (size-optimised) for the sidecar, and
// the installable plugin zip dist/pos-sync.zip:
//   pos-sync/            the PHP plugin (php-plugin/)
//   pos-sync/sidecar/    sidecar.mjs + core/ (wasm-bindgen output)
// Usage: node scripts/build.mjs [--core-only] [--debug]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeZip } from './lib/zip.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const profile = args.has('--debug') ? 'debug' : 'release';

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) throw new Error(`build: could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`build: ${cmd} ${argv.join(' ')} exited ${r.status}`);
}

function buildCore() {
  const cargoArgs = ['build', '--target', 'wasm32-unknown-unknown', '--lib'];
  if (profile === 'release') cargoArgs.push('--release');
  run('cargo', cargoArgs);
  const wasm = join(root, 'target', 'wasm32-unknown-unknown', profile, 'pos_sync_core.wasm');
  // Built beside js/core and swapped in at the end, so a sidecar started
  // during a build still finds a whole core.
  const final = join(root, 'js', 'core');
  const out = join(root, 'js', `.core-build-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  run('wasm-bindgen', ['--target', 'nodejs', '--out-dir', out, wasm]);
  const bg = join(out, 'pos_sync_core_bg.wasm');
  const before = statSync(bg).size;
  // npm binaryen, not Debian's wasm-opt 108 (its output fails to load; REAL-STACK.md).
  const wasmOpt = join(root, 'node_modules', '.bin', 'wasm-opt');
  if (profile === 'release' && existsSync(wasmOpt)) {
    run(wasmOpt, ['-Oz', '--enable-bulk-memory', '--enable-nontrapping-float-to-int',
      '--enable-sign-ext', '--enable-mutable-globals', '--enable-reference-types',
      '--enable-multivalue', bg, '-o', bg]);
  }
  // wasm-bindgen's nodejs output is CommonJS; our package.json says "type":
  // "module", so the folder gets its own marker (shipped in the zip too).
  writeFileSync(join(out, 'package.json'), '{"type":"commonjs"}\n');
  const after = statSync(bg).size;
  rmSync(final, { recursive: true, force: true });
  renameSync(out, final);
  console.log(`build: core wasm ${(after / 1024).toFixed(1)} KiB` +
    (after !== before ? ` (wasm-opt -Oz from ${(before / 1024).toFixed(1)} KiB)` : ''));
}

function listFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

function buildZip() {
  const entries = [];
  for (const f of listFiles(join(root, 'php-plugin'))) {
    entries.push({ name: 'pos-sync/' + relative(join(root, 'php-plugin'), f), data: readFileSync(f) });
  }
  entries.push({ name: 'pos-sync/sidecar/sidecar.mjs', data: readFileSync(join(root, 'js', 'sidecar.mjs')) });
  const core = join(root, 'js', 'core');
  for (const f of listFiles(core)) {
    if (f.endsWith('.d.ts')) continue;
    entries.push({ name: 'pos-sync/sidecar/core/' + relative(core, f), data: readFileSync(f) });
  }
  mkdirSync(join(root, 'dist'), { recursive: true });
  const zip = makeZip(entries);
  writeFileSync(join(root, 'dist', 'pos-sync.zip'), zip);
  console.log(`build: dist/pos-sync.zip ${(zip.length / 1024).toFixed(1)} KiB, ${entries.length} files`);
}

try {
  buildCore();
  if (!args.has('--core-only')) buildZip();
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
