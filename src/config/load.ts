// Loading a config the way uWSGI does (core/uwsgi.c uwsgi_setup, init.c):
// UWSGI_*/LIEGE_* env, then argv in order (--ini/--include expanded in
// place), then bare config-file arguments; then the $(…), @(…), %(…) passes
// over every value; then `inherit` files, appended unexpanded. The result is
// the ordered list of (key, value, file:line) that resolve.ts checks.
import * as path from 'node:path';
import { configError, LiegeError, type Origin } from '../errors';
import { log } from '../log';
import { expandAt, expandEnv, expandPlaceholders, type Valued } from './expand';
import { parseIni, hasSection } from './ini';
import { evalLogic, type LogicState } from './logic';
import { fileMagic, globalMagic, substituteMagic, upperMagic, type MagicTable, type StartInfo } from './magic';
import { findOption, findShort, suggestOption } from './options';
import { isPlainPath, readSource } from './sources';

/** Env vars uWSGI reserves for itself (utils.c): never read as options. */
const RESERVED_ENV = new Set(['RELOADS', 'VASSALS_DIR', 'EMPEROR_FD', 'EMPEROR_FD_CONFIG', 'EMPEROR_PROXY', 'BROODLORD_NUM', 'JAIL_PID', 'ORIGINAL_PROC_NAME', 'NS_CHILD', 'SOCKET_FDS', 'GENERATION', 'WORKER', 'VASSAL', 'RECORD_CODE_CACHE', 'LOGGER']);
const DEFAULT_SECTIONS = ['uwsgi', 'liege'];
const CLI: Origin = { file: 'command line', line: 0 };

export interface LoadInput {
  argv: string[];
  env: NodeJS.ProcessEnv;
  start: StartInfo;
  reloads: number;
}

export interface Loaded {
  entries: Valued[];
  /** Keys that are placeholders, not options: set-placeholder keys and any
   * key some %(…) refers to. */
  placeholders: Set<string>;
}

class Loader {
  readonly entries: Valued[] = [];
  readonly placeholders = new Set<string>();
  private logic?: LogicState & { origin: Origin };
  private lastFile?: string;
  private upper: MagicTable = {};
  private readonly global: MagicTable;
  private depth = 0;

  constructor(private readonly input: LoadInput) {
    this.global = globalMagic(input.start);
  }

  firstValue = (key: string): string | undefined => this.entries.find((e) => e.key === key)?.value;

  /** add_exported_option: route through an open logic block first. */
  add(key: string, value: string, origin: Origin, raw = false): void {
    const def = findOption(key);
    if (this.logic && def?.special !== 'logic-end') {
      if (def?.special === 'logic') {
        throw configError('LIEGE_ERR_LOGIC', `nested logic block inside \`${this.logic.kind}\` (opened at ${this.logic.origin.file}:${this.logic.origin.line})`, origin, `${key} = ${value}`, 'an end/endif/endfor first');
      }
      for (const v of evalLogic(this.logic, value, this.firstValue, this.input.env, this.input.reloads)) this.apply(key, v, origin, raw);
      return;
    }
    this.apply(key, value, origin, raw);
  }

  private apply(key: string, value: string, origin: Origin, raw: boolean): void {
    const def = findOption(key);
    switch (def?.special) {
      case 'logic':
        this.logic = { kind: def.name, data: value, origin };
        return;
      case 'logic-end':
        if (!this.logic) throw configError('LIEGE_ERR_LOGIC', `\`${key}\` without an open for-*/if-* block`, origin, `${key}`, 'a for-* or if-* option before it');
        this.logic = undefined;
        return;
      case 'include':
        this.include(value, origin);
        return;
      case 'set':
      case 'set-placeholder': {
        const eq = value.indexOf('=');
        if (eq <= 0) throw configError('LIEGE_ERR_BAD_VALUE', `\`${key}\` needs KEY=VALUE`, origin, value, 'KEY=VALUE');
        const k = value.slice(0, eq);
        if (def.special === 'set-placeholder') {
          if (findOption(k)) throw configError('LIEGE_ERR_BAD_VALUE', `\`${key}\` cannot set the option \`${k}\` (use set)`, origin, value, 'a placeholder name that is not an option');
          this.placeholders.add(k);
        }
        this.entries.push({ key: k, value: value.slice(eq + 1), origin, raw });
        return;
      }
      default:
        this.entries.push({ key, value, origin, raw });
    }
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
      if (!this.lastFile) throw configError('LIEGE_ERR_CONFIG_READ', 'no config file was read before', origin, spec, 'a file before `:section`');
      file = this.lastFile;
    }
    if (isPlainPath(file) && /\.(xml|ya?ml|json|js)$/.test(file)) {
      throw configError('LIEGE_ERR_CONFIG_READ', 'liege reads INI configs only', origin, spec, 'a .ini file');
    }
    this.readIni(file, section, origin, raw, top);
  }

  private readIni(file: string, section: string | undefined, origin: Origin, raw: boolean, top: boolean): void {
    if (++this.depth > 64) throw configError('LIEGE_ERR_CONFIG_READ', 'config includes nest deeper than 64 (a loop?)', origin, file);
    let text: string;
    try {
      text = readSource(file);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new LiegeError('LIEGE_ERR_CONFIG_READ', `unable to read config ${file}: ${err.code ?? err.message}`, { origin, text: file, expected: 'a readable INI file', cause: e });
    }
    const magic = fileMagic(file, section);
    if (top && Object.keys(this.upper).length === 0) this.upper = upperMagic(magic);
    text = substituteMagic(text, layered(magic, this.upper, this.global));
    if (isPlainPath(file)) this.lastFile = file;
    const sections = section ? [section] : DEFAULT_SECTIONS;
    if (!hasSection(text, sections)) log('config').warn({ file, section: sections.join('|') }, 'section not found in config file');
    const shown = isPlainPath(file) ? path.relative(this.input.start.cwd, path.resolve(file)) || file : file;
    for (const l of parseIni(text, shown.startsWith('..') ? path.resolve(file) : shown, sections)) this.add(l.key, l.value, l.origin, raw);
    this.depth--;
  }

  readEnv(): void {
    for (const [name, value] of Object.entries(this.input.env)) {
      const m = /^(UWSGI|LIEGE)_(.+)$/.exec(name);
      if (!m || value === undefined || RESERVED_ENV.has(m[2]!) || m[2]!.startsWith('VASSAL_')) continue;
      const key = m[2]!.toLowerCase().replace(/_/g, '-');
      // the environment is ambient, not a file the user wrote: an unknown
      // name is a warning, not an error
      if (!findOption(key)) {
        log('config').warn({ variable: name, suggestion: suggestOption(key) }, 'environment variable is not a liege option, ignored');
        continue;
      }
      this.add(key, value, { file: `environment ${name}`, line: 0 });
    }
  }

  /** getopt_long-like: --opt value, --opt=value, -p 4, -p4, -M; returns bare args. */
  readArgv(argv: string[]): string[] {
    const bare: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === '--') { bare.push(...argv.slice(i + 1)); break; }
      if (!a.startsWith('-') || a === '-') { bare.push(a); continue; }
      let name: string;
      let inline: string | undefined;
      if (a.startsWith('--')) {
        const eq = a.indexOf('=');
        name = eq < 0 ? a.slice(2) : a.slice(2, eq);
        inline = eq < 0 ? undefined : a.slice(eq + 1);
      } else {
        const def = findShort(a[1]!);
        if (!def) throw configError('LIEGE_ERR_UNKNOWN_OPTION', `unknown option -${a[1]}`, CLI, a, 'an option of `liege --help`');
        name = def.name;
        if (a.length > 2) inline = a.slice(2);
      }
      const def = findOption(name);
      if (!def) {
        const s = suggestOption(name);
        throw configError('LIEGE_ERR_UNKNOWN_OPTION', `unknown option --${name}${s ? ` (did you mean --${s}?)` : ''}`, CLI, a, 'an option of `liege --help`');
      }
      let value: string;
      if (inline !== undefined) value = inline;
      else if (def.type === 'flag') value = 'true';
      else {
        if (i + 1 >= argv.length) throw configError('LIEGE_ERR_USAGE', `option --${name} needs a value`, CLI, a, 'a value after it');
        value = argv[++i]!;
      }
      const origin: Origin = { file: 'command line', line: 0 };
      if (def.special === 'include') this.include(value, origin, false, true);
      else this.add(name, value, origin);
    }
    return bare;
  }

  /** The $(…), @(…), %(…) passes, then inherit. */
  finish(): void {
    if (this.logic) throw configError('LIEGE_ERR_LOGIC', `\`${this.logic.kind}\` block is never closed`, this.logic.origin, `${this.logic.kind} = ${this.logic.data}`, 'an end/endif/endfor');
    for (const e of this.entries) for (const m of e.value.matchAll(/%\(([^)]*)\)/g)) for (const t of m[1]!.split(' ')) if (t) this.placeholders.add(t);
    const live = this.entries.filter((e) => !e.raw);
    for (const e of live) e.value = expandEnv(e.value, this.input.env);
    for (const e of live) e.value = expandAt(e.value, e.origin);
    for (const e of live) e.value = expandPlaceholders(e.value, this.firstValue);
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (findOption(e.key)?.special === 'inherit') this.include(e.value, e.origin, true);
    }
  }
}

/** Every config source in uWSGI's order → the expanded, ordered entries. */
export function loadConfig(input: LoadInput): Loaded {
  const l = new Loader(input);
  l.readEnv();
  const bare = l.readArgv(input.argv);
  for (const f of bare) l.include(f, { file: 'command line', line: 0 }, false, true);
  l.finish();
  return { entries: l.entries, placeholders: l.placeholders };
}

/** Look-ups through several magic tables without evaluating lazy getters. */
function layered(...tables: MagicTable[]): MagicTable {
  return new Proxy({}, { get: (_t, k: string) => tables.find((t) => k in t)?.[k] });
}
