// uWSGI's uwsgi_as_root(), run once (DEPARTURES D1): only while root.
// unshare → post-jail (when jailed or unshared) → chroot → pivot_root →
// as-root hooks → uid/gid drop (names resolved inside the chroot) →
// as-user hooks.
import type { Config } from '../config/config';
import { CAPABILITIES } from '../config/options';
import { chroot, pivotRoot, unshare } from '../os/jail';
import { dropPrivileges } from '../os/privileges';

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
    gid: cfg.setting('gid'),
    addGids: cfg.list('add-gid'),
    initgroups: !cfg.bool('no-initgroups'),
    caps: capMask(cfg.str('cap')),
  });
  await phase('as-user');
}
