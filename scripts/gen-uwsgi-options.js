#!/usr/bin/env node
// Generates src/config/uwsgi-options.txt: every option of uWSGI 2.0.21 as
// Debian builds it (core + http + python3 plugins) with its arity, short
// letter and kind, taken from uWSGI's own option tables, and their help text
// in src/config/uwsgi-help.txt (read only by `--help` and the docs, never
// held by a running process). Run once by hand:
//   uwsgi --plugin python3 --plugin http --help > /tmp/uwsgi-help.txt
//   node scripts/gen-uwsgi-options.js UWSGI_SOURCE_DIR /tmp/uwsgi-help.txt
// The help output gives the names of the Debian build (which #ifdef'd
// options exist); the C tables give the arity (getopt no_argument,
// required_argument, optional_argument) and the setter (int or list).
const fs = require('fs');
const path = require('path');
const [src, helpFile] = process.argv.slice(2);
if (!src || !helpFile) throw new Error('usage: gen-uwsgi-options.js UWSGI_SOURCE_DIR HELP_OUTPUT');

function walk(d, out = []) {
  for (const f of fs.readdirSync(d)) {
    const p = path.join(d, f);
    if (fs.statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.c')) out.push(p);
  }
  return out;
}

// {"name", required_argument, 'x' | 0, "help", setter, ...}
const entry = /\{\s*"([^"]+)"\s*,\s*(no_argument|required_argument|optional_argument)\s*,\s*(?:'(.)'|0)\s*,\s*"(?:[^"\\]|\\.)*"\s*,\s*([A-Za-z0-9_]+)/g;
const rank = (f) => (f.startsWith('core/uwsgi.c') ? 0 : f.startsWith('plugins/http/') ? 1 : f.startsWith('plugins/python/') ? 2 : f.startsWith('core/') ? 3 : 4);
const found = new Map();
for (const file of walk(src)) {
  const rel = path.relative(src, file);
  const text = fs.readFileSync(file, 'utf8');
  for (const m of text.matchAll(entry)) {
    const prev = found.get(m[1]);
    if (!prev || rank(rel) < prev.rank) found.set(m[1], { rank: rank(rel), arity: m[2], setter: m[4] });
  }
}

const ARITY = { no_argument: 'f', required_argument: 'v', optional_argument: 'o' };
const kind = (setter) => (/^uwsgi_opt_set_(int|64bit|16bit|megabytes)$/.test(setter) ? 'i' : /^uwsgi_opt_add_/.test(setter) ? 'l' : 's');
const rows = [];
const help = [];
for (const line of fs.readFileSync(helpFile, 'utf8').split('\n')) {
  const m = /^    (?:-(.)\|)?--(\S+)\s+(.*)$/.exec(line);
  if (!m) continue;
  const f = found.get(m[2]);
  if (!f) throw new Error(`no option table entry for ${m[2]}`);
  const short = m[1] ?? '-';
  rows.push(`${m[2]} ${ARITY[f.arity]} ${short} ${f.arity === 'no_argument' ? 'f' : kind(f.setter)}`);
  help.push(`${m[2]}\t${m[3].trim()}\n`);
}

// One line per option: `name arity short kind`. arity is getopt's
// no_argument (f: flag), required_argument (v: value) or optional_argument
// (o: optional); short is the letter or -; kind is the uWSGI setter: an
// integer (i), a repeatable list (l), a string (s) or a flag (f). Read by
// src/config/uwsgi-table.ts on the first name liege does not declare.
fs.writeFileSync(path.join(__dirname, '..', 'src', 'config', 'uwsgi-options.txt'), `${rows.join('\n')}\n`);
fs.writeFileSync(path.join(__dirname, '..', 'src', 'config', 'uwsgi-help.txt'), help.join(''));
console.log(`${rows.length} options`);
