// The per-bundle settings store (snapd's `snap set`): a JSON object in
// <bundle>/settings.json, changed only through the configure hook. Keys are
// dotted paths into nested objects; values are JSON where they parse, else
// strings. Flattened, they become %(config.a.b) placeholders and
// LIEGE_CONFIG_A_B environment variables of the instance.
import * as fs from 'node:fs';
import { LiegeError } from '../errors';
import { writeAtomic } from './atomic';

export type Settings = Record<string, unknown>;

const KEY = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*$/i;

export function checkKey(key: string): string[] {
  if (!KEY.test(key)) throw new LiegeError('LIEGE_ERR_SETTINGS', 'bad setting key', { text: key, expected: 'dotted words of letters, digits and - (db.host)' });
  return key.split('.');
}

/** `key=value` as typed → [key path, value]; JSON where it parses. */
export function parseAssignment(arg: string): [string[], unknown] {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new LiegeError('LIEGE_ERR_USAGE', 'a setting is KEY=VALUE', { text: arg, expected: 'KEY=VALUE, e.g. db.port=5432' });
  const raw = arg.slice(eq + 1);
  let value: unknown = raw;
  try { value = JSON.parse(raw); } catch { /* a plain string */ }
  if (JSON.stringify(value).includes('\\n')) throw new LiegeError('LIEGE_ERR_SETTINGS', 'a setting value cannot contain a newline', { text: arg, expected: 'a one-line value' });
  return [checkKey(arg.slice(0, eq)), value];
}

export function readSettings(file: string): Settings {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Settings;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new LiegeError('LIEGE_ERR_SETTINGS', `unable to read settings ${file}: ${(e as Error).message}`, { text: file });
  }
}

export function writeSettings(file: string, s: Settings): void {
  writeAtomic(file, JSON.stringify(s, null, 2) + '\n', 0o640);
}

const isObject = (v: unknown): v is Settings => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value at a dotted key (undefined when absent). */
export function getPath(s: Settings, keyPath: string[]): unknown {
  let cur: unknown = s;
  for (const k of keyPath) {
    if (!isObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** A copy of `s` with the value at `keyPath` set (undefined: removed). */
export function withPath(s: Settings, keyPath: string[], value: unknown): Settings {
  const out = structuredClone(s);
  let cur: Settings = out;
  for (const k of keyPath.slice(0, -1)) {
    if (!isObject(cur[k])) cur[k] = {};
    cur = cur[k] as Settings;
  }
  const last = keyPath[keyPath.length - 1]!;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return out;
}

/** Leaves as [dotted key, text]: strings as they are, the rest as JSON. */
export function flatten(s: Settings, prefix = ''): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(s)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isObject(v)) out.push(...flatten(v, key));
    else out.push([key, showValue(v)]);
  }
  return out;
}

export function showValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** LIEGE_CONFIG_DB_HOST for db.host. */
export const envName = (key: string) => `LIEGE_CONFIG_${key.toUpperCase().replace(/[.-]/g, '_')}`;
