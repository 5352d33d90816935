// Jails: unshare flags, chroot, pivot_root, and the inside of a `namespace`
// (uWSGI lib/linux_ns.c linux_namespace_jail): hostname, pivot into the
// rootfs, fresh /proc, every other mount gone but the kept ones.
import * as fs from 'node:fs';
import { LiegeError } from '../errors';
import { MS_BIND } from './mount-flags';
import { native } from './native';

export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;
const CLONE_NEWUSER = 0x10000000;

/** uWSGI's `unshare` words → CLONE_* bits. */
const CLONE: Record<string, number> = {
  ipc: CLONE_NEWIPC, net: CLONE_NEWNET, pid: CLONE_NEWPID, ns: CLONE_NEWNS, mount: CLONE_NEWNS, mnt: CLONE_NEWNS,
  fs: 0x00000200, uts: CLONE_NEWUTS, user: CLONE_NEWUSER, files: 0x00000400, io: 0x80000000 | 0,
  parent: 0x00008000, sysvsem: 0x00040000, cgroup: 0x02000000,
};

export function unshareFlags(words: string): number {
  return words.split(/[\s,]+/).filter(Boolean).reduce((f, w) => f | (CLONE[w] ?? 0), 0);
}

/** unshare(2) in the main thread (the one that forks hooks and workers). */
export function unshare(words: string): void {
  const flags = unshareFlags(words);
  if (flags & CLONE_NEWUSER) {
    throw new LiegeError('LIEGE_ERR_SYSCALL', 'unshare of a user namespace needs a single-threaded process: use `namespace` or start liege under `unshare --user`');
  }
  native.unshare(flags);
}

export function chroot(dir: string): void {
  native.chroot(dir);
}

/** `pivot-root = NEW OLD`. */
export function pivotRoot(spec: string): void {
  const [nr, old] = spec.split(' ');
  if (!nr || !old) throw new LiegeError('LIEGE_ERR_BAD_VALUE', 'pivot-root needs NEW_ROOT OLD_ROOT', { text: spec });
  native.pivotRoot(nr, old);
}

export interface NamespaceSpec {
  rootfs: string;
  hostname?: string;
  keepMounts: string[];
}

export function parseNamespace(value: string): NamespaceSpec {
  const colon = value.indexOf(':');
  return colon < 0 ? { rootfs: value, keepMounts: [] } : { rootfs: value.slice(0, colon), hostname: value.slice(colon + 1), keepMounts: [] };
}

function isKept(mp: string, ns: NamespaceSpec): boolean {
  return ns.keepMounts.some((k) => {
    const c = k.indexOf(':');
    if (c >= 0) return k.slice(c + 1) === mp;
    if (k.startsWith(ns.rootfs)) return k.slice(ns.rootfs.length - (ns.rootfs.endsWith('/') ? 1 : 0)) === mp;
    return k === mp;
  });
}

/** Inside the cloned child (pid 1): uWSGI's linux_namespace_jail. */
export function enterNamespaceJail(ns: NamespaceSpec): void {
  if (process.pid !== 1) throw new LiegeError('LIEGE_ERR_SYSCALL', 'the namespace child is not pid 1: no pid namespace support');
  if (ns.hostname) native.sethostname(ns.hostname);
  process.chdir(ns.rootfs);
  const tmp = '/.uwsgi_ns_tmp_mountpoint';
  if (ns.rootfs !== '/') {
    const mp = ns.rootfs.replace(/\/$/, '') + tmp;
    fs.mkdirSync(mp, 0o700);
    fs.mkdirSync(mp + tmp, 0o700);
    native.mount(ns.rootfs, mp, 'none', MS_BIND, null);
    process.chdir(mp);
    native.pivotRoot('.', mp.slice(ns.rootfs.replace(/\/$/, '').length + 1) + tmp);
    process.chdir('/');
  }
  native.mount('proc', '/proc', 'proc', 0, null);
  for (const k of ns.keepMounts) {
    const c = k.indexOf(':');
    const src = c < 0 ? k : k.slice(0, c);
    let dst = c < 0 ? k : k.slice(c + 1);
    if (c < 0 && k.startsWith(ns.rootfs)) dst = k.slice(ns.rootfs.length - (ns.rootfs.endsWith('/') ? 1 : 0));
    try { native.mount(tmp + src, dst, 'none', MS_BIND, null); } catch { /* uWSGI only logs */ }
  }
  // unmount everything but /, /proc and the kept mounts, until nothing moves
  for (let unmounted = 1; unmounted; ) {
    unmounted = 0;
    const mps = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m): m is string => !!m);
    for (const mp of mps) {
      if (mp === '/' || mp === '/proc' || isKept(mp.replace(/\\040/g, ' '), ns)) continue;
      try { native.umount2(mp.replace(/\\040/g, ' '), 0); unmounted++; } catch { /* busy or already gone */ }
    }
  }
  for (const d of [tmp + tmp, tmp]) try { fs.rmdirSync(d); } catch { /* "/" rootfs: nothing was made */ }
}
