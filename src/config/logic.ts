// Logic blocks (uWSGI core/config.c uwsgi_logic_opt_*): for/if-* open a block
// that lasts until end/endfor/endif; each option inside is re-evaluated
// against the block and gets %(_) substituted. Blocks do not nest.
import * as fs from 'node:fs';
import { hostname } from './magic';

export interface LogicState {
  kind: string; // canonical option name: for, if-env ...
  data: string;
  /** for-*: the %(_) values, computed once when the block opens. */
  items?: readonly string[];
}

/** The %(_) values of a for-* block (for-times is validated before);
 * `readText` is the loader's bounded reader for for-readline. */
export function forItems(kind: string, data: string, readText: (file: string) => string): string[] {
  switch (kind) {
    case 'for': return data.split(' ').filter(Boolean);
    case 'for-times': return Array.from({ length: Number(data) }, (_, i) => String(i + 1));
    case 'for-glob': {
      const hits = globPaths(data);
      return hits.length ? hits : [data]; // GLOB_NOCHECK
    }
    case 'for-readline': return readText(data).split('\n').filter((l, i, a) => !(l === '' && i === a.length - 1)).map((l) => l.replace(/\r$/, ''));
    default: return [];
  }
}

const statKind = (p: string): 'file' | 'dir' | 'other' | undefined => {
  try {
    const st = fs.statSync(p);
    return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  } catch {
    return undefined;
  }
};

/** Simple glob (*, ?, [..]) over path segments, sorted like glob(3). */
export function globPaths(pattern: string): string[] {
  const abs = pattern.startsWith('/');
  const parts = pattern.split('/').filter(Boolean);
  let bases = [abs ? '/' : ''];
  for (const part of parts) {
    const next: string[] = [];
    const wild = /[*?[]/.test(part);
    for (const b of bases) {
      if (!wild) { next.push(b + part + '/'); continue; }
      const re = new RegExp('^' + part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
      let names: string[] = [];
      try { names = fs.readdirSync(b || '.'); } catch { /* not a dir */ }
      for (const n of names.sort()) if (re.test(n) && (n[0] !== '.' || part[0] === '.')) next.push(b + n + '/');
    }
    bases = next;
  }
  return bases.map((b) => b.replace(/\/$/, '')).filter((p) => statKind(p) !== undefined).map((p) => (statKind(p) === 'dir' ? p + '/' : p));
}

/**
 * The values an option inside the block produces (0..n), with %(_) set.
 * `firstOpt` looks up options given so far; `reloads` is UWSGI_RELOADS.
 */
export function evalLogic(s: LogicState, value: string, firstOpt: (k: string) => string | undefined, env: NodeJS.ProcessEnv, reloads: number): string[] {
  const sub = (v: string) => value.split('%(_)').join(v);
  const keyVal = (d: string): [string, string | undefined] => {
    const eq = d.indexOf('=');
    return eq < 0 ? [d, undefined] : [d.slice(0, eq), d.slice(eq + 1)];
  };
  switch (s.kind) {
    case 'for':
    case 'for-times':
    case 'for-glob':
    case 'for-readline': return (s.items ?? []).map(sub);
    case 'if-env':
    case 'if-opt': {
      const [k, want] = keyVal(s.data);
      const have = s.kind === 'if-env' ? env[k] : firstOpt(k);
      return have !== undefined && (want === undefined || want === have) ? [sub(have)] : [];
    }
    case 'if-not-env':
    case 'if-not-opt': {
      const [k, want] = keyVal(s.data);
      const have = s.kind === 'if-not-env' ? env[k] : firstOpt(k);
      const ok = have === undefined || (want !== undefined && want !== have);
      return ok ? [sub(have ?? '')] : [];
    }
    case 'if-exists': return statKind(s.data) ? [sub(s.data)] : [];
    case 'if-not-exists': return statKind(s.data) ? [] : [sub(s.data)];
    case 'if-file': return statKind(s.data) === 'file' ? [sub(s.data)] : [];
    case 'if-not-file': return statKind(s.data) === 'file' ? [] : [sub(s.data)];
    case 'if-dir': return statKind(s.data) === 'dir' ? [sub(s.data)] : [];
    case 'if-not-dir': return statKind(s.data) === 'dir' ? [] : [sub(s.data)];
    case 'if-reload': return reloads > 0 ? [value] : [];
    case 'if-not-reload': return reloads > 0 ? [] : [value];
    case 'if-hostname': return hostname() === s.data ? [sub(s.data)] : [];
    case 'if-not-hostname': return hostname() === s.data ? [] : [sub(s.data)];
    case 'if-hostname-match': return new RegExp(s.data).test(hostname()) ? [sub(s.data)] : [];
    case 'if-not-hostname-match': return new RegExp(s.data).test(hostname()) ? [] : [sub(s.data)];
    case 'if-plugin': return [];
    case 'if-not-plugin': return [sub(s.data)];
    default: return [value];
  }
}
