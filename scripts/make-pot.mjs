#!/usr/bin/env node
// Writes php-plugin/languages/pos-sync.pot from the plugin's PHP sources (no WP-CLI
// needed): every __, _e, esc_html__, esc_html_e, esc_attr__, esc_attr_e, _x,
// esc_html_x, esc_attr_x, _n and _nx call with the text domain 'pos-sync' and literal
// strings, with its file:line references and the "translators:" comment before it,
// plus the plugin header's name and description.
//
//   node scripts/make-pot.mjs           write the file
//   node scripts/make-pot.mjs --check   exit 1 when the committed file is out of date
//
// The output has no creation date, so the same sources always give the same file.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PLUGIN_DIR = path.join(ROOT, 'php-plugin');
export const POT_FILE = path.join(PLUGIN_DIR, 'languages', 'pos-sync.pot');
const DOMAIN = 'pos-sync';

// Argument positions of each gettext function (0-based): text, plural, context, domain.
const FUNCTIONS = {
  __: { text: 0, domain: 1 },
  _e: { text: 0, domain: 1 },
  esc_html__: { text: 0, domain: 1 },
  esc_html_e: { text: 0, domain: 1 },
  esc_attr__: { text: 0, domain: 1 },
  esc_attr_e: { text: 0, domain: 1 },
  _x: { text: 0, context: 1, domain: 2 },
  esc_html_x: { text: 0, context: 1, domain: 2 },
  esc_attr_x: { text: 0, context: 1, domain: 2 },
  _n: { text: 0, plural: 1, domain: 3 },
  _nx: { text: 0, plural: 1, context: 3, domain: 4 },
};

// ---------------------------------------------------------------------------
// A PHP tokenizer just good enough for gettext calls: strings (decoded),
// identifiers, comments, punctuation, with line numbers.

function decodeSingle(body) {
  return body.replace(/\\([\\'])/g, '$1');
}

function decodeDouble(body) {
  // A "$var" inside makes the string non-literal: not extractable.
  if (/(^|[^\\])\$[A-Za-z_{]/.test(body)) return null;
  const map = { n: '\n', t: '\t', r: '\r', v: '\v', e: '\x1b', f: '\f', '\\': '\\', $: '$', '"': '"' };
  return body.replace(/\\(u\{[0-9A-Fa-f]+\}|x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|.)/g, (m, c) => {
    if (c in map) return map[c];
    if (c[0] === 'u') return String.fromCodePoint(parseInt(c.slice(2, -1), 16));
    if (c[0] === 'x') return String.fromCharCode(parseInt(c.slice(1), 16));
    if (/^[0-7]/.test(c)) return String.fromCharCode(parseInt(c, 8));
    return m;
  });
}

export function tokenize(src) {
  const tokens = [];
  let i = 0;
  let line = 1;
  // Only PHP code counts: skip to the first "<?php".
  const open = src.indexOf('<?php');
  if (open < 0) return tokens;
  line += (src.slice(0, open).match(/\n/g) || []).length;
  i = open + 5;
  const n = src.length;
  const advance = (to) => {
    line += (src.slice(i, to).match(/\n/g) || []).length;
    i = to;
  };
  while (i < n) {
    const c = src[i];
    if (c === '\n' || c === ' ' || c === '\t' || c === '\r') {
      advance(i + 1);
    } else if (src.startsWith('?>', i)) {
      // Inline HTML until the next "<?php" (or "<?=").
      const next = src.slice(i).search(/<\?(php|=)/);
      advance(next < 0 ? n : i + next + (src.startsWith('<?=', i + next) ? 3 : 5));
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      tokens.push({ type: 'comment', value: src.slice(i + 2, stop - 2), line, endLine: line + (src.slice(i, stop).match(/\n/g) || []).length });
      advance(stop);
    } else if ((c === '/' && src[i + 1] === '/') || c === '#') {
      let end = src.indexOf('\n', i);
      if (end < 0) end = n;
      tokens.push({ type: 'comment', value: src.slice(i + (c === '#' ? 1 : 2), end), line, endLine: line });
      advance(end);
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < n && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      const body = src.slice(i + 1, j);
      tokens.push({ type: 'string', value: c === "'" ? decodeSingle(body) : decodeDouble(body), line });
      advance(j + 1);
    } else if (/[A-Za-z_\\]/.test(c)) {
      const m = /^[A-Za-z_\\][A-Za-z0-9_\\]*/.exec(src.slice(i, i + 200));
      tokens.push({ type: 'ident', value: m[0], line });
      advance(i + m[0].length);
    } else if (src.startsWith('->', i) || src.startsWith('::', i) || src.startsWith('?->', i)) {
      const len = src[i] === '?' ? 3 : 2;
      tokens.push({ type: 'punct', value: '->', line });
      advance(i + len);
    } else {
      tokens.push({ type: 'punct', value: c, line });
      advance(i + 1);
    }
  }
  return tokens;
}

// ---------------------------------------------------------------------------
// Calls

// The arguments of the call whose "(" is at tokens[open]: each a literal string
// (adjacent literals joined with ".") or null.
function callArgs(tokens, open) {
  const args = [];
  let depth = 0;
  let current = [];
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.type === 'comment') continue;
    if (t.type === 'punct' && '([{'.includes(t.value)) {
      depth++;
      if (depth === 1) continue;
    } else if (t.type === 'punct' && ')]}'.includes(t.value)) {
      depth--;
      if (depth === 0) {
        if (current.length) args.push(current);
        return { args: args.map(literal), end: k };
      }
    } else if (depth === 1 && t.type === 'punct' && t.value === ',') {
      args.push(current);
      current = [];
      continue;
    }
    current.push(t);
  }
  return { args: args.map(literal), end: tokens.length };
}

function literal(parts) {
  let out = '';
  for (let k = 0; k < parts.length; k++) {
    const t = parts[k];
    if (k % 2 === 0) {
      if (t.type !== 'string' || t.value === null) return null;
      out += t.value;
    } else if (!(t.type === 'punct' && t.value === '.')) {
      return null;
    }
  }
  return parts.length % 2 === 1 ? out : null;
}

export function extract(src, file) {
  const tokens = tokenize(src);
  const found = [];
  let translators = null;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.type === 'comment') {
      const text = t.value.replace(/^\s*\*?\s*/, '').trim();
      if (/^translators:/i.test(text)) translators = { text: t.value.split('\n').map((l) => l.replace(/^\s*\*\s?/, '').trim()).filter(Boolean).join(' ').trim(), line: t.endLine };
      continue;
    }
    if (t.type === 'punct' && t.value === ';') translators = null;
    if (t.type !== 'ident' || !(t.value.replace(/^\\/, '') in FUNCTIONS)) continue;
    const prev = tokens.slice(0, k).reverse().find((p) => p.type !== 'comment');
    if (prev && ((prev.type === 'punct' && prev.value === '->') || (prev.type === 'ident' && /^(function|fn)$/i.test(prev.value)))) continue;
    const next = tokens[k + 1];
    if (!next || next.type !== 'punct' || next.value !== '(') continue;
    const spec = FUNCTIONS[t.value.replace(/^\\/, '')];
    const { args } = callArgs(tokens, k + 1);
    if (args[spec.domain] !== DOMAIN) continue;
    const text = args[spec.text];
    if (text === null || text === undefined || text === '') continue;
    const entry = { msgid: text, ref: `${file}:${t.line}` };
    if (spec.plural !== undefined) {
      if (typeof args[spec.plural] !== 'string') continue;
      entry.plural = args[spec.plural];
    }
    if (spec.context !== undefined) {
      if (typeof args[spec.context] !== 'string') continue;
      entry.context = args[spec.context];
    }
    if (translators && translators.line >= t.line - 2) entry.comment = translators.text;
    translators = null;
    found.push(entry);
  }
  return found;
}

// ---------------------------------------------------------------------------
// The .pot

function phpFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...phpFiles(full));
    else if (entry.name.endsWith('.php')) out.push(full);
  }
  return out;
}

const quote = (s) =>
  '"' +
  s
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\t/g, '\\t')
    .replace(/\r/g, '\\r')
    .replace(/\n/g, '\\n') +
  '"';

function header(src, name) {
  const m = new RegExp(`^[ \\t/*#@]*${name}:(.*)$`, 'mi').exec(src);
  return m ? m[1].trim() : '';
}

export function makePot(pluginDir = PLUGIN_DIR) {
  const main = fs.readFileSync(path.join(pluginDir, 'pos-sync.php'), 'utf8');
  const entries = new Map();
  const add = (e) => {
    const key = `${e.context ?? ''}\u0004${e.msgid}\u0000${e.plural ?? ''}`;
    const have = entries.get(key) ?? { ...e, refs: [], comments: [] };
    if (e.ref) have.refs.push(e.ref);
    if (e.comment && !have.comments.includes(e.comment)) have.comments.push(e.comment);
    entries.set(key, have);
  };
  const name = header(main, 'Plugin Name');
  const description = header(main, 'Description');
  if (name) add({ msgid: name, comment: 'Plugin Name of the plugin' });
  if (description) add({ msgid: description, comment: 'Description of the plugin' });
  for (const file of phpFiles(pluginDir)) {
    const rel = path.relative(pluginDir, file).split(path.sep).join('/');
    for (const e of extract(fs.readFileSync(file, 'utf8'), rel)) add(e);
  }
  const version = header(main, 'Version');
  let out = `# Copyright (C) POS Sync
# This file is distributed under the GPL-2.0-or-later license.
# Generated by scripts/make-pot.mjs from the plugin's sources; do not edit.
msgid ""
msgstr ""
"Project-Id-Version: ${name} ${version}\\n"
"Report-Msgid-Bugs-To: \\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"Language-Team: \\n"
"Plural-Forms: nplurals=INTEGER; plural=EXPRESSION;\\n"
"X-Domain: ${DOMAIN}\\n"
`;
  for (const e of entries.values()) {
    out += '\n';
    for (const c of e.comments) out += `#. ${c}\n`;
    if (e.refs.length) out += `#: ${e.refs.join(' ')}\n`;
    if (/%(\d+\$)?[sdfFuxXoceEgG]/.test(e.msgid)) out += '#, php-format\n';
    if (e.context !== undefined) out += `msgctxt ${quote(e.context)}\n`;
    out += `msgid ${quote(e.msgid)}\n`;
    if (e.plural !== undefined) out += `msgid_plural ${quote(e.plural)}\nmsgstr[0] ""\nmsgstr[1] ""\n`;
    else out += 'msgstr ""\n';
  }
  return out;
}

// The strings of a .pot without where they are: entries with their `#:` lines
// dropped, sorted. Moving code around changes references, not what translators
// translate, so the plugin tier compares this (and `--check` the exact file).
export function potStrings(pot) {
  return pot
    .split(/\n\n+/)
    .map((block) =>
      block
        .split('\n')
        .filter((l) => !l.startsWith('#:'))
        .join('\n')
        .trim(),
    )
    .filter(Boolean)
    .sort();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const pot = makePot();
  const count = (pot.match(/^msgid "/gm) || []).length - 1;
  if (process.argv.includes('--check')) {
    const have = fs.existsSync(POT_FILE) ? fs.readFileSync(POT_FILE, 'utf8') : '';
    if (have !== pot) {
      console.error(`${path.relative(ROOT, POT_FILE)} is out of date: run \`node scripts/make-pot.mjs\``);
      process.exit(1);
    }
    console.log(`make-pot: ${path.relative(ROOT, POT_FILE)} is up to date (${count} strings)`);
  } else {
    fs.mkdirSync(path.dirname(POT_FILE), { recursive: true });
    fs.writeFileSync(POT_FILE, pot);
    console.log(`make-pot: ${path.relative(ROOT, POT_FILE)} written (${count} strings)`);
  }
}
