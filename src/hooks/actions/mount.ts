// mount / umount with uWSGI's flag names (core/mount.c). An unknown flag is
// a load error (DEPARTURES D4), not an exit in the middle of a phase.
import * as fs from 'node:fs';
import { MOUNT_FLAGS, MS_REC } from '../../os/mount-flags';
import { native } from '../../os/native';
import { defineAction, needArg } from './types';


export function parseFlags(text: string | undefined): number {
  let flags = 0;
  for (const name of (text ?? '').split(',').filter(Boolean)) {
    const f = MOUNT_FLAGS[name];
    if (f === undefined) throw `known mount flags (${Object.keys(MOUNT_FLAGS).join(', ')}), not "${name}"`;
    flags |= f;
  }
  return flags;
}

type MountArgs = { fstype: string; source: string; target: string; flags: number; data?: string };

/** `fstype source target [flags [data]]`: split on the first three/four spaces. */
export function parseMount(a: string): MountArgs {
  const parts = needArg(a, 'FSTYPE SOURCE TARGET [FLAGS [DATA]]').split(' ');
  if (parts.length < 3) throw 'FSTYPE SOURCE TARGET [FLAGS [DATA]]';
  const [fstype, source, target, flags] = parts as [string, string, string, string | undefined];
  const data = parts.length > 4 ? parts.slice(4).join(' ') : undefined;
  return { fstype, source, target, flags: parseFlags(flags), data };
}

type UmountArgs = { target: string; flags: number; recursive: boolean };

export function parseUmount(a: string): UmountArgs {
  const [target, flags, ...rest] = needArg(a, 'TARGET [FLAGS]').split(' ');
  if (rest.length) throw 'TARGET [FLAGS]';
  const bits = parseFlags(flags);
  const recursive = (bits & MS_REC) !== 0;
  return { target: target!, flags: bits & ~MS_REC, recursive };
}

/** rec: unmount every mount below target (deepest first), then target. */
function umount(p: UmountArgs): number {
  if (p.recursive) {
    const prefix = p.target.replace(/\/$/, '') + '/';
    let again = true;
    while (again) {
      again = false;
      const mps = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m): m is string => !!m && m.startsWith(prefix));
      for (const mp of mps.reverse()) {
        try { native.umount2(mp, p.flags); again = true; } catch { /* busy: next round */ }
      }
    }
  }
  native.umount2(p.target, p.flags);
  return 0;
}

export const mountActions = [
  defineAction({
    name: 'mount', parse: parseMount,
    run: (p) => (native.mount(p.source, p.target, p.fstype, p.flags, p.data ?? null), 0),
    doc: 'mount(2): `fstype source target [flags [data]]`; flags comma separated (bind, ro, nosuid, nodev, noexec, rec, private ...), data passed as is',
    example: 'hook-pre-jail = mount:tmpfs none /srv/jail/tmp nodev,nosuid size=64m,mode=1777',
  }),
  defineAction({
    name: 'umount', parse: parseUmount, run: umount,
    doc: 'umount2(2): `target [flags]`; flag `rec` unmounts everything below target first',
    example: 'hook-as-root = umount:/srv/jail/proc rec,detach',
  }),
];
