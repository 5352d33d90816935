// Reads uWSGI's option table (uwsgi-options.ts, one compact string) on
// demand: a process looks up only the few names its config uses, instead of
// holding 893 rows and their OptionDefs (bench/README.md, helper b). The
// help text is read from uwsgi-help.txt by `--help` and the docs only.
// The table itself is required on the first name liege does not declare: a
// config of liege's own options never loads it (in the CLI bundle it is a
// part of its own, scripts/parts.js: 18 KB of source and as much heap).
import * as fs from 'node:fs';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const table = (): string => (require('./uwsgi-options') as typeof import('./uwsgi-options')).UWSGI_TABLE;

export type UwsgiArity = 'flag' | 'value' | 'optional';
export type UwsgiKind = 'flag' | 'int' | 'list' | 'string';
export type UwsgiOption = readonly [name: string, arity: UwsgiArity, short: string, kind: UwsgiKind];

const ARITY: Record<string, UwsgiArity> = { f: 'flag', v: 'value', o: 'optional' };
const KIND: Record<string, UwsgiKind> = { f: 'flag', i: 'int', l: 'list', s: 'string' };

function row(line: string): UwsgiOption {
  const [name, arity, short, kind] = line.split(' ') as [string, string, string, string];
  return [name, ARITY[arity]!, short === '-' ? '' : short, KIND[kind]!];
}

/** The uWSGI option of this name, if there is one. */
export function uwsgiOption(name: string): UwsgiOption | undefined {
  if (name === '' || /\s/.test(name)) return undefined; // a space would match inside a row
  const UWSGI_TABLE = table();
  const at = UWSGI_TABLE.indexOf(`\n${name} `);
  if (at < 0) return undefined;
  return row(UWSGI_TABLE.slice(at + 1, UWSGI_TABLE.indexOf('\n', at + 1)));
}

/** The names of the uWSGI options with this short letter, in table order. */
export function uwsgiShortNames(letter: string): string[] {
  const out: string[] = [];
  for (const m of table().matchAll(/\n(\S+) [fvo] (\S) [fils](?=\n)/g)) if (m[2] === letter) out.push(m[1]!);
  return out;
}

/** Every uWSGI option, in table order. */
export function uwsgiOptions(): UwsgiOption[] {
  return table().trim().split('\n').map(row);
}

/** The help text of every uWSGI option (uwsgi-help.txt, beside this file in src/ and dist/). */
export function uwsgiHelp(): Map<string, string> {
  const text = fs.readFileSync(path.join(__dirname, '..', 'config', 'uwsgi-help.txt'), 'utf8');
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) out.set(line.slice(0, tab), line.slice(tab + 1));
  }
  return out;
}
