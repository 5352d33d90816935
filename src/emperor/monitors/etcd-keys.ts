// The key layout under PREFIX/ shared by the monitor and `liege etcd`:
//   vassals/NAME   the vassal's INI text (written by users)
//   owners/NAME    the id of the emperor running it (bound to its lease)
//   emperors/ID    a live emperor: JSON {host, pid, capacity, tags, draining} (its lease)
//   handover/NAME  JSON {from, to}: `from` hands NAME over to `to` (from's lease)
//   drain/ID       asks emperor ID to hand all its vassals over (`liege etcd drain`)
import type { EmperorInfo } from './etcd-placement';

export const VASSAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

export interface RegisteredEmperor extends EmperorInfo {
  host: string;
  pid: number;
}

export interface Handover {
  from: string;
  to: string;
}

/** `vassals/NAME` → NAME (same for owners/ and handover/), or undefined. */
export function nameIn(dir: 'vassals' | 'owners' | 'handover' | 'emperors', key: string): string | undefined {
  if (!key.startsWith(`${dir}/`)) return undefined;
  const name = key.slice(dir.length + 1);
  return dir === 'emperors' || VASSAL_NAME.test(name) ? name : undefined;
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export function parseEmperor(text: string): RegisteredEmperor | undefined {
  const e = parseJson<RegisteredEmperor>(text);
  if (!e || typeof e !== 'object' || !Array.isArray(e.tags)) return undefined;
  return { host: String(e.host), pid: Number(e.pid), capacity: Number(e.capacity) || 0, tags: e.tags.map(String), draining: e.draining === true };
}

export function parseHandover(text: string): Handover | undefined {
  const h = parseJson<Handover>(text);
  return h && typeof h.from === 'string' && typeof h.to === 'string' ? h : undefined;
}

/** Comma/space separated tag lists → tags. */
export function splitTags(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
}

/** The tags a vassal's INI text requires (`emperor-etcd-require-tags` in its [uwsgi] section). */
export function requiredTags(ini: string): string[] {
  const values: string[] = [];
  let section = '';
  for (const raw of ini.split('\n')) {
    const line = raw.trim();
    const s = /^\[(.+)\]$/.exec(line);
    if (s) section = s[1]!.trim();
    const m = /^emperor-etcd-require-tags\s*[=:]\s*(.*)$/.exec(line);
    if (m && section === 'uwsgi') values.push(m[1]!);
  }
  return splitTags(values);
}
