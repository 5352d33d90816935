// uWSGI "magic variables" (%d, %n, %p ...): substituted in a config file's
// raw text when it is read (uWSGI core/uwsgi.c magic_sub). Unknown %X eats
// the character; `%(` is left for the placeholder pass; `%%` is `%`.
import * as fs from 'node:fs';
// node:os on first use (a master that asks no hostname does not pay for it: os/node-os.ts)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const os = (): typeof import('node:os') => require('node:os') as typeof import('node:os');

/** This host's name (%h; if-hostname in logic.ts). */
export const hostname = (): string => os().hostname();
import * as path from 'node:path';

export interface StartInfo {
  cwd: string; // %v
  binary: string; // %b
  startMs: number; // %t %T
}

export type MagicTable = Record<string, string>;

function djb33x(s: string): string {
  let h = 5381;
  for (const ch of Buffer.from(s)) h = (Math.imul(h, 33) + ch) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** The per-file magic table for `file` (as given) and an optional section. */
export function fileMagic(given: string, section: string | undefined): MagicTable {
  const full = path.resolve(given);
  const s = path.basename(full);
  const d = path.dirname(full).replace(/\/?$/, '/');
  const dot = s.lastIndexOf('.');
  const t: MagicTable = {
    o: given,
    p: full,
    s,
    d,
    c: path.basename(d) || '',
    e: dot >= 0 ? s.slice(dot + 1) : '',
    n: dot >= 0 ? s.slice(0, dot) : s,
    x: section ?? '',
    j: djb33x(full),
    i: '',
  };
  try { t.i = String(fs.statSync(full).ino); } catch { /* exec:// or stdin */ }
  d.split('/').filter(Boolean).slice(0, 10).forEach((part, i) => { t[String(i)] = part; });
  for (let i = 0; i < 10; i++) t[String(i)] ??= '';
  return t;
}

/** Process-wide magic variables (%v %h %t %u ...), computed when first used. */
export function globalMagic(info: StartInfo): MagicTable {
  const uid = () => String(process.getuid?.() ?? 0);
  const gid = () => String(process.getgid?.() ?? 0);
  const getters: Record<string, () => string> = {
    v: () => info.cwd,
    b: () => info.binary,
    h: hostname,
    V: () => '2.0.21-liege',
    t: () => String(Math.floor(info.startMs / 1000)),
    T: () => String(info.startMs * 1000),
    k: () => String(os().cpus().length),
    u: uid,
    U: () => { try { return os().userInfo().username; } catch { return uid(); } },
    g: gid,
    G: () => groupName(gid()),
    '[': () => '\x1b',
  };
  const t: MagicTable = {};
  for (const [k, f] of Object.entries(getters)) Object.defineProperty(t, k, { get: f, enumerable: true });
  return t;
}

function groupName(gid: string): string {
  try {
    for (const line of fs.readFileSync('/etc/group', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[2] === gid && f[0]) return f[0];
    }
  } catch { /* no /etc/group */ }
  return gid;
}

/** Uppercase variants describe the first non-template file. */
export function upperMagic(first: MagicTable): MagicTable {
  const out: MagicTable = {};
  for (const k of ['o', 'd', 's', 'p', 'c', 'e', 'n', 'x', 'i', 'j']) out[k.toUpperCase()] = first[k] ?? '';
  return out;
}

/** Substitute %X in raw text. */
export function substituteMagic(text: string, table: MagicTable): string {
  return text.replace(/%([\s\S]?)/g, (_m, ch: string) => {
    if (ch === '%') return '%';
    if (ch === '(') return '%(';
    if (ch === '') return '%';
    return table[ch] ?? '';
  });
}
