// uid/gid names and the privilege drop. Names are read from /etc/passwd and
// /etc/group of the current root, so after a chroot they resolve inside it
// (uWSGI resolves them after chroot too).
import * as fs from 'node:fs';
import { LiegeError } from '../errors';
import type { Origin } from '../errors';

/** A configured value and where it came from (config/ Setting's shape). */
interface Setting {
  value: string;
  origin: Origin;
}
import { native, PR_SET_KEEPCAPS } from './native';

export interface User { name: string; uid: number; gid: number }

function table(file: string): string[][] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/** A user by name or number from <root>/etc/passwd (a number not listed: gid -1). */
export function lookupUser(nameOrId: string, root = '/'): User | undefined {
  const rows = table(`${root.replace(/\/$/, '')}/etc/passwd`);
  const row = rows.find((f) => f[0] === nameOrId) ?? (/^\d+$/.test(nameOrId) ? rows.find((f) => f[2] === nameOrId) : undefined);
  if (row) return { name: row[0]!, uid: Number(row[2]), gid: Number(row[3]) };
  return /^\d+$/.test(nameOrId) ? { name: nameOrId, uid: Number(nameOrId), gid: -1 } : undefined;
}

/** A group id by name or number from <root>/etc/group. */
export function lookupGroup(nameOrId: string, root = '/'): number | undefined {
  if (/^\d+$/.test(nameOrId)) return Number(nameOrId);
  const row = table(`${root.replace(/\/$/, '')}/etc/group`).find((f) => f[0] === nameOrId);
  return row ? Number(row[2]) : undefined;
}

/** Whether <root>/etc/<file> can be read (else names are checked at the drop). */
export function hasIdentityFile(root: string, file: 'passwd' | 'group'): boolean {
  try {
    fs.accessSync(`${root.replace(/\/$/, '')}/etc/${file}`, fs.constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

export interface DropSpec {
  uid?: Setting;
  gid?: Setting;
  addGids: readonly Setting[];
  initgroups: boolean;
  caps?: { lo: number; hi: number };
}

const unknownName = (what: string, s: Setting) =>
  new LiegeError('LIEGE_ERR_BAD_VALUE', `unknown ${what}`, { origin: s.origin, text: s.value, expected: `a ${what} name in /etc/${what === 'user' ? 'passwd' : 'group'} or a number` });

/** setgroups/setgid then setuid (the uWSGI order); keeps `cap` capabilities. */
export function dropPrivileges(d: DropSpec): void {
  const user = d.uid ? lookupUser(d.uid.value) : undefined;
  if (d.uid && !user) throw unknownName('user', d.uid);
  let gid: number | undefined;
  if (d.gid) {
    gid = lookupGroup(d.gid.value);
    if (gid === undefined) throw unknownName('group', d.gid);
  }
  const extra = d.addGids.map((s) => {
    const g = lookupGroup(s.value);
    if (g === undefined) throw unknownName('group', s);
    return g;
  });
  if (gid !== undefined) {
    process.setgid!(gid);
    // the user's groups (initgroups), or just gid; then the add-gid ones
    if (user && d.initgroups && user.gid >= 0) (process as unknown as { initgroups(u: string, g: number): void }).initgroups(user.name, gid);
    else process.setgroups!([gid]);
    if (extra.length) process.setgroups!([...process.getgroups!(), ...extra]);
  }
  if (user) {
    if (d.caps) native.prctl(PR_SET_KEEPCAPS, 1);
    process.setuid!(user.uid);
    if (d.caps) native.capset(d.caps.lo, d.caps.hi, false);
  }
}
