// uWSGI's uwsgi_as_root(), run once (DEPARTURES D1): only while root.
// unshare → post-jail (when jailed or unshared) → chroot → pivot_root →
// as-root hooks → uid/gid drop (names resolved inside the chroot) →
// as-user hooks.
import * as path from 'node:path';
import type { Config, Setting } from '../config/config';
import { CAPABILITIES } from '../config/options';
import { LiegeError, shownValue } from '../errors';
import { log } from '../log';
import { forkPrivsep } from '../hooks/privsep';
import { hooksDbPath } from '../hooks/registry/store';
import type { HookPlan } from '../hooks/spec';
import { chroot, parseNamespace, pivotRoot, unshare } from '../os/jail';
import { dropPrivileges, hasIdentityFile, lookupGroup, lookupUser } from '../os/privileges';

/** `cap = setuid,net_bind_service …` → the capability bit masks kept across the drop. */
export function capMask(words: string | undefined): { lo: number; hi: number } | undefined {
  if (!words) return undefined;
  let lo = 0, hi = 0;
  for (const w of words.split(/[\s,]+/).filter(Boolean)) {
    const n = (CAPABILITIES as readonly string[]).indexOf(w.toLowerCase().replace(/^cap_/, ''));
    if (n < 32) lo |= 1 << n;
    else hi |= 1 << (n - 32);
  }
  return { lo: lo >>> 0, hi };
}

export async function asRoot(cfg: Config, phase: (name: string) => Promise<void>): Promise<void> {
  forkPrivsep(hooksDbPath(cfg.str('hooks-db'))); // escalated registry hooks: a root helper, forked before the jail and the drop
  const shared = cfg.str('unshare');
  if (shared) unshare(shared);
  if (shared || cfg.bool('jailed')) await phase('post-jail');
  const root = cfg.str('chroot');
  if (root) chroot(root);
  const pivot = cfg.str('pivot-root');
  if (pivot) pivotRoot(pivot);
  await phase('as-root');
  dropPrivileges({
    uid: cfg.setting('uid'),
    gid: groupFor(cfg),
    addGids: cfg.list('add-gid'),
    initgroups: !cfg.bool('no-initgroups'),
    caps: capMask(cfg.str('cap')),
  });
  await phase('as-user');
}

/** Started by another user than root (first start): what only root can do
 * is refused, as uWSGI's "cannot setuid() as non-root user" (exit 1), rather
 * than left undone in silence; the as-root and as-user hooks are skipped
 * there too (uWSGI's as well), and said. */
export function asNonRoot(cfg: Config, plan: HookPlan): void {
  const me = process.getuid!();
  const refuse = (key: 'uid' | 'gid' | 'chroot', what: string) => {
    const s = cfg.setting(key)!;
    return new LiegeError('LIEGE_ERR_BAD_VALUE', `cannot ${what} as a non-root user (liege runs as uid ${me})`, { origin: s.origin, text: shownValue(key, s.value, s.origin), expected: `a start as root, or no \`${key}\`` });
  };
  const uid = cfg.setting('uid');
  if (uid && lookupUser(uid.value)?.uid !== me) throw refuse('uid', 'setuid()');
  const gid = cfg.setting('gid');
  if (gid && lookupGroup(gid.value) !== process.getgid!()) throw refuse('gid', 'setgid()');
  if (cfg.has('chroot')) throw refuse('chroot', 'chroot()');
  const hooks = ['as-root', 'as-user'].flatMap((p) => plan.get(p) ?? []);
  if (hooks.length) log('master').warn({ uid: me, hooks: hooks.length }, 'not root: the as-root and as-user hooks are skipped (as under uWSGI)');
}

/** Where uid/gid names will be resolved: inside the namespace rootfs, or the
 * chroot (then pivot-root's new root inside it), else /. */
function identityRoot(cfg: Config): string {
  const ns = cfg.str('namespace');
  let root = ns ? parseNamespace(ns).rootfs : cfg.str('chroot') ?? '/';
  const pivot = cfg.str('pivot-root');
  if (pivot) root = path.join(root, pivot.split(' ')[0]!);
  return root;
}

/**
 * At load, before any hook: uid, gid and add-gid names resolved where the
 * drop will resolve them. When that root has no readable passwd/group yet
 * (hooks may build the jail), the drop itself checks them.
 */
export function checkIdentity(cfg: Config): void {
  const root = identityRoot(cfg);
  const where = (file: string) => `${root.replace(/\/$/, '')}/etc/${file}`;
  const uid = cfg.setting('uid');
  if (uid && hasIdentityFile(root, 'passwd') && !lookupUser(uid.value, root)) {
    throw new LiegeError('LIEGE_ERR_BAD_VALUE', `unknown user \`${uid.value}\``, { origin: uid.origin, text: shownValue('uid', uid.value, uid.origin), expected: `a user of ${where('passwd')} or a number` });
  }
  checkSocketOwner(cfg);
  const groups = [...(cfg.setting('gid') ? [{ key: 'gid', s: cfg.setting('gid')! }] : []), ...cfg.list('add-gid').map((s) => ({ key: 'add-gid', s }))];
  if (!hasIdentityFile(root, 'group')) return;
  for (const { key, s } of groups) {
    if (lookupGroup(s.value, root) === undefined) throw new LiegeError('LIEGE_ERR_BAD_VALUE', `unknown group \`${s.value}\``, { origin: s.origin, text: shownValue(key, s.value, s.origin), expected: `a group of ${where('group')} or a number` });
  }
}

// chown-socket names the host's users (the sockets are bound before any
// jail): checked at load too (before: at the bind, once the asap and
// pre-jail hooks had run)
function checkSocketOwner(cfg: Config): void {
  const own = cfg.setting('chown-socket');
  if (!own) return;
  const [u, g] = own.value.split(':');
  const bad = (what: string, file: string) => new LiegeError('LIEGE_ERR_BAD_VALUE', `unknown ${what} in chown-socket`, { origin: own.origin, text: shownValue('chown-socket', own.value, own.origin), expected: `USER[:GROUP] of /etc/${file} (or numbers)` });
  if (hasIdentityFile('/', 'passwd') && !lookupUser(u ?? '')) throw bad(`user \`${u}\``, 'passwd');
  if (g && hasIdentityFile('/', 'group') && lookupGroup(g) === undefined) throw bad(`group \`${g}\``, 'group');
}

// uid without gid: uWSGI keeps gid 0 (and root's groups); liege takes the
// user's primary group and says so
function groupFor(cfg: Config): Setting | undefined {
  const gid = cfg.setting('gid');
  const uid = cfg.setting('uid');
  if (gid || !uid) return gid;
  const user = lookupUser(uid.value);
  const l = log('master');
  if (user && user.gid >= 0) {
    l.info({ uid: uid.value, gid: user.gid }, 'no gid set: dropping to the primary group of the uid user');
    return { value: String(user.gid), origin: uid.origin };
  }
  l.warn({ uid: uid.value, gid: process.getgid?.() }, 'no gid set and the uid has no passwd entry: the group stays as it is (set gid)');
  return undefined;
}
