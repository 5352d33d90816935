// Loading a config the way uWSGI does (core/uwsgi.c uwsgi_setup, init.c):
// UWSGI_*/LIEGE_* env, then argv in order (--ini/--include expanded in
// place), then bare config-file arguments; then the $(…), @(…), %(…) passes
// over every value; then `inherit` files, appended unexpanded. The result is
// the ordered list of (key, value, file:line) that resolve.ts checks.
// Bounded (LIMITS): include depth and count, bytes read, entries; include
// and inherit cycles are errors naming the chain of file:line.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configError, formatOrigin, LiegeError, type Origin } from '../errors';
import { checkOptionValue } from './checks';
import { expandAt, expandEnv, expandPlaceholders, type Valued } from './expand';
import { hasSection, linesBeforeSections, parseIni, sectionNames } from './ini';
import { parseArgv } from './argv';
import { evalLogic, forItems, type LogicState } from './logic';
import { fileMagic, globalMagic, substituteMagic, upperMagic, type MagicTable, type StartInfo } from './magic';
import { findOption, type OptionDef } from './options';
import { isPlainPath, readSource, TooLarge } from './sources';
import { log } from '../log';

/** The bounds of one load (README "Config"). */
export const LIMITS = {
  depth: 16, // nested includes
  includes: 1024, // config files read in all (an include fan-out stops here)
  bytes: 16 * 1024 * 1024, // everything read: files, @(…), for-readline, exec://
  entries: 1_000_000, // options after logic blocks
};

/** Env vars uWSGI reserves for itself (utils.c): never read as options. */
// liege's own variables (a master sets some for its re-exec: read as config
// keys, a reload looked them up in uWSGI's option table)
const RESERVED_ENV = new Set([
  'RELOADS', 'VASSALS_DIR', 'EMPEROR_FD', 'EMPEROR_FD_CONFIG', 'EMPEROR_PROXY', 'BROODLORD_NUM', 'JAIL_PID', 'ORIGINAL_PROC_NAME', 'NS_CHILD', 'SOCKET_FDS', 'GENERATION', 'WORKER', 'VASSAL', 'RECORD_CODE_CACHE', 'LOGGER',
  'CONTROL_FDS', 'CARRIED_COMMANDS', 'GUARD_PID', 'DAEMONIZED', 'PRIVSEP_FD', 'FALLBACK_CHAIN', 'LOAD_PARTS', 'TRACE_BUNDLES',
]);
const DEFAULT_SECTIONS = ['uwsgi', 'liege'];

// PM2's verbs, typed out of habit as `liege start app.js`
const PM2_VERBS = new Set(['start', 'stop', 'restart', 'reload', 'delete', 'list', 'ls', 'status', 'logs', 'monit', 'run']);
const CLI: Origin = { file: 'command line', line: 0 };

export interface LoadInput {
  argv: string[];
  env: NodeJS.ProcessEnv;
  start: StartInfo;
  reloads: number;
}

export interface Loaded {
  entries: Valued[];
  /** Keys that are placeholders, not options: set-placeholder keys, any
   * key some %(…) refers to, UWSGI_* env names that are not options. */
  placeholders: Set<string>;
  /** Lines inside false if-* blocks (or empty for-* loops): checked, not applied. */
  dormant: Valued[];
}

/** One open include: the file (and section) and the line that included it. */
interface Frame {
  key: string; // resolved path + section
  shown: string;
  origin: Origin;
}

class Loader {
  readonly entries: Valued[] = [];
  readonly dormant: Valued[] = [];
  readonly placeholders = new Set<string>();
  private readonly first = new Map<string, Valued>();
  private logic?: LogicState & { origin: Origin };
  private lastFile?: string;
  private upper: MagicTable = {};
  private readonly global: MagicTable;
  private readonly stack: Frame[] = [];
  private includes = 0;
  private bytes = 0;
  /** inherited file → the `inherit` line that asked for it */
  private readonly inherited = new Map<string, Origin>();

  constructor(private readonly input: LoadInput) {
    this.global = globalMagic(input.start);
  }

  firstValue = (key: string): string | undefined => this.first.get(key)?.value;

  private push(e: Valued): void {
    if (this.entries.length >= LIMITS.entries) throw configError('LIEGE_ERR_CONFIG_READ', `more than ${LIMITS.entries} options`, e.origin, `${e.key} = ${e.value}`, 'a smaller config (a for-* block too large?)');
    this.entries.push(e);
    if (!this.first.has(e.key)) this.first.set(e.key, e);
  }

  /** add_exported_option: route through an open logic block first. */
  add(key: string, value: string, origin: Origin, raw = false): void {
    const def = findOption(key);
    if (this.logic && def?.special !== 'logic-end') {
      if (def?.special === 'logic') {
        throw configError('LIEGE_ERR_LOGIC', `nested logic block inside \`${this.logic.kind}\` (opened at ${formatOrigin(this.logic.origin)})`, origin, `${key} = ${value}`, 'an end/endif/endfor first');
      }
      const values = evalLogic(this.logic, value, this.firstValue, this.input.env, this.input.reloads);
      if (values.length === 0) this.dormant.push({ key, value, origin, raw });
      for (const v of values) this.apply(key, v, origin, raw);
      return;
    }
    this.apply(key, value, origin, raw);
  }

  private apply(key: string, value: string, origin: Origin, raw: boolean): void {
    const def = findOption(key);
    switch (def?.special) {
      case 'logic':
        this.open(def, key, value, origin);
        return;
      case 'logic-end':
        if (!this.logic) throw configError('LIEGE_ERR_LOGIC', `\`${key}\` without an open for-*/if-* block`, origin, origin.arg ?? key, 'a for-* or if-* option before it');
        this.logic = undefined;
        return;
      case 'include':
        this.include(value, origin);
        return;
      case 'set':
      case 'set-placeholder': {
        const eq = value.indexOf('=');
        if (eq <= 0) throw configError('LIEGE_ERR_BAD_VALUE', `\`${key}\` needs KEY=VALUE`, origin, origin.arg ?? value, 'KEY=VALUE');
        const k = value.slice(0, eq);
        if (def.special === 'set-placeholder') {
          if (findOption(k)) throw configError('LIEGE_ERR_BAD_VALUE', `\`${key}\` cannot set the option \`${k}\` (use set)`, origin, origin.arg ?? value, 'a placeholder name that is not an option');
          this.placeholders.add(k);
        }
        this.push({ key: k, value: value.slice(eq + 1), origin, raw });
        return;
      }
      default:
        this.push({ key, value, origin, raw });
    }
  }

  // a for-* or if-* block opens: its value is checked, for-* items computed once
  private open(def: OptionDef, key: string, value: string, origin: Origin): void {
    const expected = checkOptionValue(def, value);
    if (expected) throw configError('LIEGE_ERR_LOGIC', `bad value for \`${def.name}\``, origin, origin.arg ?? `${key} = ${value}`, expected);
    const items = def.name.startsWith('for') ? forItems(def.name, value, (file) => this.read(file, origin, `${key} = ${value}`, 'a readable file')) : undefined;
    this.logic = { kind: def.name, data: value, origin, items };
  }

  /** A bounded read of a config source: errors name the line that asked. */
  read(spec: string, origin: Origin, text: string, expected: string, what = spec): string {
    let out: string;
    try {
      out = readSource(spec, LIMITS.bytes - this.bytes);
    } catch (e) {
      if (e instanceof TooLarge) throw configError('LIEGE_ERR_CONFIG_READ', `config sources larger than ${LIMITS.bytes} bytes in all (reading ${spec})`, origin, origin.arg ?? text, 'smaller files (not a device or an endless command)');
      const err = e as NodeJS.ErrnoException;
      throw new LiegeError('LIEGE_ERR_CONFIG_READ', `unable to read ${what}: ${err.code ?? err.message}${asDropped(err.code)}`, { origin, text: origin.arg ?? text, expected, cause: e });
    }
    this.bytes += Buffer.byteLength(out);
    return out;
  }

  /** ini/include/config = FILE[:SECTION] or :SECTION (of the last file read). */
  include(spec: string, origin: Origin, raw = false, top = false): void {
    let file = spec;
    let section: string | undefined;
    const colon = spec.lastIndexOf(':');
    if (colon >= 0 && !spec.slice(colon + 1).includes('/')) {
      file = spec.slice(0, colon);
      section = spec.slice(colon + 1);
    }
    if (file === '') {
      if (!this.lastFile) throw configError('LIEGE_ERR_CONFIG_READ', 'no config file was read before', origin, origin.arg ?? spec, 'a file before `:section`');
      file = this.lastFile;
    }
    if (isPlainPath(file) && /\.(xml|ya?ml|json|[cm]?js|[cm]?ts)$/.test(file)) {
      // `liege app.js`, as `node app.js` or `pm2 start app.js`: say how an app is served
      const app = /\.[cm]?[jt]s$/.test(file) ? `; a Node app is served with node-app: \`liege --master -p 2 --http-socket :8080 --node-app ${file}\`` : '';
      throw configError('LIEGE_ERR_CONFIG_READ', 'liege reads INI configs only', origin, origin.arg ?? spec, `a .ini file${app}`);
    }
    // uWSGI reads a relative include from the start directory, not from the including file's
    if (origin.line > 0 && isPlainPath(file) && !path.isAbsolute(file) && !fs.existsSync(file) && fs.existsSync(path.join(path.dirname(origin.file), file))) {
      throw configError('LIEGE_ERR_CONFIG_READ', `no ${file} in the start directory (${this.input.start.cwd}): a relative include is read from there, as under uWSGI, not beside ${origin.file}`, origin, spec, `\`%d${file}\` (%d: the directory of this config file)`);
    }
    if (origin.line === 0 && PM2_VERBS.has(file) && !fs.existsSync(file)) {
      throw configError('LIEGE_ERR_CONFIG_READ', `\`${file}\` is no liege command and no config file`, origin, origin.arg ?? spec, 'a config (`liege app.ini`: liege runs in the foreground, `daemonize = FILE` detaches); a running master is steered with `liege --reload|--stop|--chain-reload PIDFILE`, its fifo or signals');
    }
    this.readIni(file, section, origin, raw, top);
  }

  private enter(file: string, section: string | undefined, origin: Origin): void {
    const key = `${isPlainPath(file) ? path.resolve(file) : file}\0${section ?? ''}`;
    const frame: Frame = { key, shown: section ? `${file}:${section}` : file, origin };
    const chain = () => [...this.stack, frame].map((f) => step(f.origin)).join(' → ') + ` → ${frame.shown}`;
    if (this.stack.some((f) => f.key === key)) throw configError('LIEGE_ERR_CONFIG_READ', `config include cycle: ${chain()}`, origin, origin.arg ?? frame.shown, 'includes that do not loop');
    if (this.stack.length >= LIMITS.depth) throw configError('LIEGE_ERR_CONFIG_READ', `config includes nest deeper than ${LIMITS.depth}: ${chain()}`, origin, origin.arg ?? frame.shown, `at most ${LIMITS.depth} nested includes`);
    if (++this.includes > LIMITS.includes) throw configError('LIEGE_ERR_CONFIG_READ', `more than ${LIMITS.includes} config files read (an include fan-out?)`, origin, origin.arg ?? frame.shown, `at most ${LIMITS.includes} includes in all`);
    this.stack.push(frame);
  }

  private readIni(file: string, section: string | undefined, origin: Origin, raw: boolean, top: boolean): void {
    this.enter(file, section, origin);
    // a byte order mark (Windows editors write one) hid the first [uwsgi] line, and with it the whole file
    let text = this.read(file, origin, file, 'a readable INI file', `config ${file}`).replace(/^\uFEFF/, '');
    const shown = this.shownPath(file);
    checkText(text, shown);
    const magic = fileMagic(file, section);
    if (top && Object.keys(this.upper).length === 0) this.upper = upperMagic(magic);
    text = substituteMagic(text, layered(magic, this.upper, this.global));
    if (isPlainPath(file)) this.lastFile = file;
    const sections = section ? [section] : DEFAULT_SECTIONS;
    if (!hasSection(text, sections)) {
      const before = linesBeforeSections(text);
      const others = sectionNames(text);
      const what = before ? `: its ${before} line${before > 1 ? 's' : ''} before any section header ${before > 1 ? 'are' : 'is'} not read (put \`[${sections[0]}]\` at the top)`
        : others.length ? `: it has ${others.map((n) => `[${n}]`).join(', ')} (\`--ini ${shown}:${others[0]}\` reads one)` : '';
      log('config').warn({ file, section: sections.join('|') }, `section not found in config file${what}`);
    }
    for (const l of parseIni(text, shown, sections)) this.add(l.key, l.value, l.origin, raw);
    this.stack.pop();
  }

  private shownPath(file: string): string {
    if (!isPlainPath(file)) return file;
    const rel = path.relative(this.input.start.cwd, path.resolve(file)) || file;
    return rel.startsWith('..') ? path.resolve(file) : rel;
  }

  /** UWSGI_FOO / LIEGE_FOO: an option, else the placeholder %(foo) (uWSGI too). */
  readEnv(): void {
    for (const [name, value] of Object.entries(this.input.env)) {
      const m = /^(UWSGI|LIEGE)_(.+)$/.exec(name);
      if (!m || value === undefined || RESERVED_ENV.has(m[2]!) || /^(VASSAL|BUNDLE|CONFIG|CTL)_/.test(m[2]!)) continue; // BUNDLE_/CONFIG_/CTL_: what bundles pass to apps and hooks
      const key = m[2]!.toLowerCase().replace(/_/g, '-');
      const origin: Origin = { file: `environment ${name}`, line: 0, arg: `${name}=${value}` };
      if (!findOption(key)) this.placeholders.add(key);
      this.add(key, value, origin);
    }
  }

  /** argv in order; returns the bare arguments (config files). */
  readArgv(argv: string[]): string[] {
    const { options, bare } = parseArgv(argv);
    for (const o of options) {
      const origin: Origin = { ...CLI, arg: o.typed };
      if (o.def.special === 'include') this.include(o.value, origin, false, true);
      else this.add(o.name, o.value, origin);
    }
    return bare;
  }

  /** The $(…), @(…), %(…) passes, then inherit. */
  finish(): void {
    if (this.logic) throw configError('LIEGE_ERR_LOGIC', `\`${this.logic.kind}\` block is never closed`, this.logic.origin, this.logic.origin.arg ?? `${this.logic.kind} = ${this.logic.data}`, 'an end/endif/endfor');
    for (const e of [...this.entries, ...this.dormant]) {
      if (!e.value.includes('%(')) continue;
      for (const m of e.value.matchAll(/%\(([^)]*)\)/g)) for (const t of m[1]!.split(' ')) if (t) this.placeholders.add(t);
    }
    const live = this.entries.filter((e) => !e.raw);
    for (const e of live) e.value = expandEnv(e.value, this.input.env);
    for (const e of live) e.value = expandAt(e.value, (spec) => this.read(spec, e.origin, `@(${spec})`, 'a readable file or exec:// command', `@(${spec})`));
    for (const e of live) e.value = expandPlaceholders(e.value, this.firstValue);
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (findOption(e.key)?.special === 'inherit') this.inherit(e);
    }
  }

  // uWSGI would read an inherit loop forever: each file is inherited once
  private inherit(e: Valued): void {
    const target = isPlainPath(e.value) ? path.resolve(e.value) : e.value;
    const from = isPlainPath(e.origin.file) ? path.resolve(this.input.start.cwd, e.origin.file) : e.origin.file;
    if (target === from || this.inherited.has(target)) {
      const chain: string[] = [formatOrigin(e.origin)];
      for (let o = this.inherited.get(from); o && chain.length < LIMITS.depth; o = this.inherited.get(path.resolve(this.input.start.cwd, o.file))) chain.unshift(formatOrigin(o));
      throw configError('LIEGE_ERR_CONFIG_READ', `\`inherit\` loop: ${chain.join(' → ')} → ${e.value}`, e.origin, shownValueOf(e), 'a template that does not inherit itself');
    }
    this.inherited.set(target, e.origin);
    this.include(e.value, e.origin, true);
  }
}

// one step of an include chain: file:line, or the argument as typed
const step = (o: Origin) => (o.arg ? `${o.file} (${o.arg})` : formatOrigin(o));

const shownValueOf = (e: Valued) => e.origin.arg ?? `${e.key} = ${e.value}`;

/** NUL bytes and bare CRs (old Mac line endings would fold the file into one line). */
function checkText(text: string, file: string): void {
  const bad = /\0|\r(?!\n)/.exec(text);
  if (!bad) return;
  const line = text.slice(0, bad.index).split('\n').length;
  const what = bad[0] === '\0' ? 'a NUL byte' : 'a carriage return that does not end a CRLF line';
  throw configError('LIEGE_ERR_CONFIG_READ', `${what} in the config`, { file, line }, JSON.stringify(text.slice(text.lastIndexOf('\n', bad.index) + 1, bad.index + 1).slice(-60)), 'a text file with LF or CRLF line endings');
}

/** Every config source in uWSGI's order → the expanded, ordered entries. */
export function loadConfig(input: LoadInput): Loaded {
  const l = new Loader(input);
  l.readEnv();
  const bare = l.readArgv(input.argv);
  for (const f of bare) l.include(f, { ...CLI, arg: f }, false, true);
  l.finish();
  return { entries: l.entries, placeholders: l.placeholders, dormant: l.dormant };
}

/** Look-ups through several magic tables without evaluating lazy getters. */
function layered(...tables: MagicTable[]): MagicTable {
  return new Proxy({}, { get: (_t, k: string) => tables.find((t) => k in t)?.[k] });
}

// A reload re-reads the config as the user the master dropped to (uid/gid):
// a file only root reads (mode 600) fails then, not at the first start
function asDropped(code: string | undefined): string {
  const uid = process.getuid?.();
  if (code !== 'EACCES' || uid === undefined || uid === 0) return '';
  return ` (read as uid ${uid}, the user the master runs as since the privilege drop: make it readable by that user, e.g. mode 640 with its group)`;
}
