// The confinement step of a bundle hook, an entry point of its own: spawned
// as root by `liege install/set/remove`, it applies the instance's jail and
// privileges the way the master does (unshare, chroot, umask, uid/gid drop
// with the user's groups and add-gid; names resolved inside the chroot),
// changes into the bundle root and execs the hook in place.
import * as path from 'node:path';
import type { Setting } from '../config/config';
import { chroot, unshare } from '../os/jail';
import { native } from '../os/native';
import { dropPrivileges } from '../os/privileges';
import { keepInspectorShut } from '../os/inspector-signal';

export const HOOK_EXEC_ENV = 'LIEGE_BUNDLE_HOOK_EXEC';
const PR_SET_PDEATHSIG = 1;
const SIGKILL = 9;

export interface HookExecSpec {
  hook: string; // absolute, outside the chroot
  root: string; // the bundle root (cwd), outside the chroot
  unshare?: string;
  chroot?: string;
  umask?: string;
  uid?: Setting;
  gid?: Setting;
  addGids: Setting[];
  initgroups: boolean;
}

/** A path as seen after chroot(jail); undefined when outside it. */
export function insideJail(p: string, jail: string | undefined): string | undefined {
  if (!jail) return p;
  const rel = path.relative(path.resolve(jail), p);
  return rel.startsWith('..') || path.isAbsolute(rel) ? undefined : '/' + rel;
}

function main(): number {
  keepInspectorShut(); // root's until the drop, then exec
  const spec = JSON.parse(process.env[HOOK_EXEC_ENV]!) as HookExecSpec;
  delete process.env[HOOK_EXEC_ENV];
  try {
    if (spec.unshare) unshare(spec.unshare);
    if (spec.chroot) chroot(spec.chroot);
    if (spec.umask) process.umask(parseInt(spec.umask, 8));
    dropPrivileges({ uid: spec.uid, gid: spec.gid, addGids: spec.addGids, initgroups: spec.initgroups });
    // after the drop (a credential change clears it): the hook dies with `liege install`
    native.prctl(PR_SET_PDEATHSIG, SIGKILL);
    process.chdir(insideJail(spec.root, spec.chroot)!);
    const hook = insideJail(spec.hook, spec.chroot)!;
    native.execv(hook, [hook]);
  } catch (e) {
    process.stderr.write(`liege: unable to confine the bundle hook ${spec.hook}: ${(e as Error).message}\n`);
  }
  return 126;
}

if (require.main === module) process.exitCode = main();
