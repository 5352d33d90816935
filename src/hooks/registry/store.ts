// The registry file (`hooks-db`): YAML, or JSON when the name ends in .json.
// Loading checks every entry and reports the first bad one with its line —
// nothing of a damaged file is used. Writes go through updateRegistry only:
// under the lock, re-read, change, write a temp file, fsync, rename, fsync
// the directory, so a reader sees the old file or the new one, never half.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LiegeError } from '../../errors';
import { canonical, checkDescriptor, type RegistryEntry } from './entry';
import { withLock } from './lock';

export const DEFAULT_HOOKS_DB = '/etc/liege/hooks.yaml';

/** The registry path: the option or flag, else LIEGE_HOOKS_DB, else the default. */
export function hooksDbPath(explicit?: string): string {
  return path.resolve(explicit || process.env.LIEGE_HOOKS_DB || DEFAULT_HOOKS_DB);
}

const isJson = (file: string) => file.endsWith('.json');

function bad(file: string, line: number, message: string, text?: string): LiegeError {
  return new LiegeError('LIEGE_ERR_REGISTRY', message, { origin: { file, line }, text, expected: 'a file written by `liege hooks add` (docs/hooks.md#the-hook-registry)' });
}

/** Parses and checks a registry text; throws LIEGE_ERR_REGISTRY naming the line. */
export function parseRegistry(file: string, text: string): RegistryEntry[] {
  if (text.trim() === '') return [];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const YAML = require('yaml') as typeof import('yaml');
  const lc = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) throw bad(file, err.linePos?.[0].line ?? 1, `unable to parse the hook registry: ${err.message.split('\n')[0]}`);
  const lineOf = (node: unknown) => {
    const r = (node as { range?: [number, number, number] } | null)?.range;
    return r ? lc.linePos(r[0]).line : 1;
  };
  const root = doc.contents;
  const hooks = YAML.isMap(root) ? root.get('hooks', true) : undefined;
  if (!YAML.isMap(root) || (hooks !== undefined && hooks !== null && !YAML.isSeq(hooks))) throw bad(file, lineOf(root), 'the hook registry must be a map with a `hooks` list');
  const out: RegistryEntry[] = [];
  const ids = new Set<string>();
  for (const item of YAML.isSeq(hooks) ? hooks.items : []) {
    // the line of the field a message names (`weight` ...), else of the entry
    const at = (msg: string) => {
      const key = /`(\w+)`/.exec(msg)?.[1];
      const pair = YAML.isMap(item) && key ? item.items.find((p) => YAML.isScalar(p.key) && p.key.value === key) : undefined;
      return pair ? lineOf(pair.key) : lineOf(item);
    };
    const o = YAML.isMap(item) ? (item.toJSON() as Record<string, unknown>) : undefined;
    if (!o) throw bad(file, lineOf(item), 'a hook entry must be a map');
    const { id, kind, ref, weight, ...desc } = o;
    const shown = JSON.stringify(o);
    const fail = (msg: string) => bad(file, at(msg), msg, shown);
    if (typeof id !== 'string' || !/^[\w-]+$/.test(id)) throw fail('a hook entry needs an `id` (letters, digits, - and _)');
    if (ids.has(id)) throw fail(`duplicate hook \`id\` ${id}`);
    if (kind !== 'script' && kind !== 'module') throw fail('`kind` must be script or module');
    if (typeof ref !== 'string' || !path.isAbsolute(ref)) throw fail('`ref` must be an absolute path');
    if (!Number.isInteger(weight)) throw fail('`weight` must be an integer');
    try {
      const d = checkDescriptor({ ...desc, weight }, kind);
      out.push(canonical({ id, kind, ref, ...d, category: d.category!, weight: weight as number }));
    } catch (e) {
      if (typeof e !== 'string') throw e;
      throw fail(e);
    }
    ids.add(id);
  }
  return out;
}

/** Reads the registry; a missing file is an empty registry. */
export function loadRegistry(file: string): RegistryEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new LiegeError('LIEGE_ERR_REGISTRY', `unable to read the hook registry ${file}: ${(e as Error).message}`, { cause: e });
  }
  return parseRegistry(file, text);
}

function render(file: string, entries: readonly RegistryEntry[]): string {
  const data = { version: 1, hooks: entries.map(canonical) };
  if (isJson(file)) return JSON.stringify(data, null, 2) + '\n';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const YAML = require('yaml') as typeof import('yaml');
  return '# liege hook registry: edit with `liege hooks add|delete` (docs/hooks.md)\n' + YAML.stringify(data);
}

function writeAtomically(file: string, text: string): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  let mode = 0o644;
  try {
    mode = fs.statSync(file).mode & 0o7777;
  } catch { /* new file */ }
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeSync(fd, text);
    fs.fchmodSync(fd, mode);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dfd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}

/** Read-modify-write under the lock; `change` may throw to abort, or
 * return no entries: nothing is written then. */
export function updateRegistry<T>(file: string, change: (entries: RegistryEntry[]) => { entries?: RegistryEntry[]; result: T }): T {
  // the lock sits beside the file: a first `liege hooks add` on a fresh host
  // (no /etc/liege yet) failed with ENOENT on the lock
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  return withLock(file, () => {
    const { entries, result } = change(loadRegistry(file));
    if (entries) writeAtomically(file, render(file, entries));
    return result;
  });
}
